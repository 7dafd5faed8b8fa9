"""The transactional workloads' generators, run with no target (suite.generator.simulate):
what each thread asks for, by region and mode."""

from suite.generator import limit, simulate
from workloads.bank import BankOps
from workloads.txn import TxnOps, owner

REGIONS = ("us-east-1", "us-east-2", "us-west-2")
KEYS = tuple(f"k{i}" for i in range(6))


def invocations(gen, n=300, concurrency=6):
    return [op for op in simulate(limit(n, gen), concurrency=concurrency, nemesis=False)
            if op["type"] == "invoke"]


def test_async_list_append_writes_only_its_regions_keys_with_unique_values():
    ops = invocations(TxnOps("list-append", KEYS, REGIONS, "async", seed=3))
    values, multi = [], 0
    for op in ops:
        region = REGIONS[op["process"] % len(REGIONS)]
        mops = op["value"]
        assert 1 <= len(mops) <= 4
        assert len({m[1] for m in mops}) == len(mops)  # one micro-op per item
        kinds = {m[0] for m in mops}
        assert kinds in ({"append"}, {"r"})  # DynamoDB keeps writes and reads apart
        if kinds == {"append"}:
            for _, k, v in mops:
                assert owner(KEYS.index(k), REGIONS) == region
                values.append(v)
        multi += len(mops) > 1
    assert len(values) == len(set(values)) > 50
    assert multi > 50


def test_strong_mode_mostly_single_item_and_reads_sc():
    ops = invocations(TxnOps("rw-register", KEYS, REGIONS, "strong", seed=3))
    multi = [op for op in ops if len(op["value"]) > 1]
    assert 0 < len(multi) < len(ops) * 0.3  # a few M14 attempts, the rest single-item
    assert all(op["consistent"] for op in ops)
    assert {m[0] for op in ops for m in op["value"]} == {"w", "r"}


def test_bank_sets_up_first_then_transfers_only_in_the_writing_region():
    ops = invocations(BankOps(KEYS, REGIONS, "async", seed=5), n=200)
    assert ops[0]["f"] == "init" and REGIONS[ops[0]["process"] % 3] == REGIONS[0]
    transfers = [op for op in ops if op["f"] == "transfer"]
    reads = [op for op in ops if op["f"] == "read"]
    assert transfers and reads
    assert all(REGIONS[op["process"] % 3] == REGIONS[0] for op in transfers)
    assert {REGIONS[op["process"] % 3] for op in reads} == set(REGIONS)
    for op in transfers:
        v = op["value"]
        assert v["from"] != v["to"] and 1 <= v["amount"] <= 5


def test_bank_other_regions_read_while_the_set_up_is_pending():
    """Until the set-up is acknowledged only other regions' threads get operations, all
    reads (test-all --quick --mode strong --seed 6, bank x outage: with the writing region
    stopped the whole run, no thread had anything to do and nothing could be judged)."""
    from suite.generator import PENDING
    from suite.generator import Context
    gen = BankOps(KEYS, REGIONS, "strong", seed=5, initialized=False, init_sent=True)
    ctx = Context.initial(6, nemesis=False)
    seen = set()
    for _ in range(30):
        res = gen.op(None, ctx)
        assert res is not PENDING and res is not None
        op, gen = res
        region = REGIONS[op["process"] % 3]
        assert op["f"] == "read" and region != REGIONS[0] and op["consistent"] is True \
            and op["path"] == "BatchGetItem"
        seen.add(region)
    assert seen == set(REGIONS[1:])
