"""The bank checker's pieces: Jepsen's read rule and naming the torn transfer."""

from checkers.elle.bank import check_reads, torn_transfer

INITIAL = {"a": 10, "b": 10, "c": 10}
MOVES = [{"from": "a", "to": "b", "amount": 3},   # a 7, b 13
         {"from": "b", "to": "c", "amount": 5},   # b 8, c 15
         {"from": "c", "to": "a", "amount": 1}]   # c 14, a 8
STARTS = [0, 10, 20]


def test_wrong_total_and_negative_balances_as_jepsen():
    res = check_reads([(1, {"a": 10, "b": 10}), (3, {"a": 12, "b": 9}),
                       (5, {"a": 21, "b": -1})])
    assert res["total"] == 20 and res["error-count"] == 2
    assert [e["op"] for e in res["errors"]["wrong-total"]] == [3]
    assert [e["op"] for e in res["errors"]["negative-value"]] == [5]


def test_names_the_transfer_seen_on_one_account_only():
    # the second transfer reached c (15) but not b (13: after the first only)
    assert torn_transfer({"a": 7, "b": 13, "c": 15}, 100, INITIAL, MOVES, STARTS) == 1
    # the first transfer reached b but not a
    assert torn_transfer({"a": 10, "b": 13, "c": 10}, 100, INITIAL, MOVES, STARTS) == 0
    # a consistent state names nothing
    assert torn_transfer({"a": 7, "b": 8, "c": 15}, 100, INITIAL, MOVES, STARTS) is None


def test_a_transfer_begun_after_the_read_is_never_blamed():
    # a = 8 only after the third transfer, which began at 20: a read ending at 15 cannot
    # have seen it, so no prefix explains a = 8 and nothing is named
    assert torn_transfer({"a": 8, "b": 8, "c": 15}, 15, INITIAL, MOVES, STARTS) is None
    assert torn_transfer({"a": 8, "b": 8, "c": 15}, 25, INITIAL, MOVES, STARTS) == 2
