"""The emulator target's key listing for version metadata (`table_keys`, the keys every
region holds; run in parallel, one SC scan per region at once): the union of what each
region holds, even when a region holds a key no other region has yet."""

from __future__ import annotations

from suite.targets.emulator import EmulatorTarget

REGIONS = ("us-east-1", "us-east-2", "us-west-2")


def test_table_keys_is_the_union_of_every_region_s_keys():
    target = EmulatorTarget(mode="async", regions=REGIONS, latency_scale=0.01, seed=5)
    target.setup(None)
    try:
        target.create_table(None, "gtcheck-keys")
        # replication out of us-west-2 paused: its own key stays there alone
        target.fault("pause-replication", {"region": "us-west-2"})
        for region, key in (("us-east-1", "k-east"), ("us-west-2", "k-west-only")):
            target.client(region).put_item(TableName="gtcheck-keys",
                                           Item={"pk": {"S": key}, "value": {"N": "1"}})
        keys = target.table_keys("gtcheck-keys")
        assert "k-west-only" in keys and "k-east" in keys and keys == sorted(set(keys))
        versions = target.versions("gtcheck-keys")
        assert "k-west-only" in versions["us-west-2"]
        assert "k-west-only" not in versions["us-east-1"]
        target.fault("heal")
        target.delete_table(None, "gtcheck-keys")
    finally:
        target.teardown(None)
