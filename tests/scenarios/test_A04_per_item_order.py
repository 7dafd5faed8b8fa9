"""A04: per item, replicated writes are applied in source order; across items, no order.

Per item: 40 successive writes to one item in us-east-1, with a large per-record replication
jitter, appear in us-east-2's stream in exactly the order they were made. Across items: in
the same run of writes alternating between items A and B, us-east-2 applies some later write
of B before an earlier write of A (read from us-east-2's DynamoDB stream, which records
exactly the apply order there).
"""

from emulator import Deployment
from emulator.testing import create_global_table, stream_records, wait_until

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]


def test_source_order_per_item_but_not_across_items():
    with Deployment(REGIONS, latency_scale=0.01, seed=4, replication_jitter_ms=60) as d:
        cs = create_global_table(d, "a04")
        east1 = cs["us-east-1"]
        n = 40
        for i in range(1, n + 1):
            for item in ("A", "B"):
                east1.put_item(TableName="a04", Item={"pk": {"S": item}, "v": {"N": str(i)}})
        wait_until(lambda: sum(1 for _ in stream_records(d, "us-east-2", "a04")) == 2 * n, timeout_s=20,
                   what="all writes applied in us-east-2")
        applied = [(r["dynamodb"]["Keys"]["pk"]["S"], int(r["dynamodb"]["NewImage"]["v"]["N"]))
                   for r in stream_records(d, "us-east-2", "a04")]
        # Per item: source order, every write, nothing dropped.
        for item in ("A", "B"):
            assert [v for k, v in applied if k == item] == list(range(1, n + 1))
        # Across items: some write of B (made after A's write i) is applied before A's i.
        pos = {kv: p for p, kv in enumerate(applied)}
        overtaken = [i for i in range(1, n + 1) if pos[("B", i)] < pos[("A", i)]]
        assert overtaken, "expected at least one cross-item reordering under jitter"
