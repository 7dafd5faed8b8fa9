"""Deletes in register histories (issue 21): a delete is a write of absent (value None),
so "no item" may be written more than once. Reads of absent are judged by timing like any
value; the orders that assume unique values leave absence out; nothing legal is flagged."""

from checkers.async_props import (Convergence, lww_check, region_order_check)
from checkers.linearizability import check as linearizable
from checkers.mrsc import sc_reads_check
from results.history import Op
from tests.checkers.build import History, kinds


def found(ops: list[Op], value: bool = True) -> list[Op]:
    """The deletes' completions say whether they found an item (DeleteItem ALL_OLD)."""
    return [op.replace(extra={**op.extra, "found": value})
            if op.f == "write" and op.value is None and op.type == "ok" else op for op in ops]

E1, E2, W2 = "us-east-1", "us-east-2", "us-west-2"


def test_absent_after_a_delete_is_legal_in_the_region_and_elsewhere():
    h = (History().write("k", 0, 5, 1, region=E1).read("k", 10, 12, 1, region=E1)
         .read("k", 10, 12, 1, region=E2)
         .write("k", 20, 25, None, region=E1)
         .read("k", 30, 32, None, region=E1).read("k", 30, 32, None, region=E2)
         .write("k", 40, 45, 2, region=E2).read("k", 50, 52, 2, region=E1)
         .write("k", 60, 65, None, region=E2).read("k", 70, 72, None, region=E1))
    r = region_order_check({}, h.ops(), {})
    assert r["valid"] is True, r
    assert sc_reads_check({}, h.ops(), {})["valid"] is True


def test_a_value_read_after_its_own_region_deleted_it_is_a_resurrection():
    # A01/A06: the delete was acknowledged in E1 after write 1 ended, so it carries the
    # later timestamp; an SC read in E1 returning 1 afterwards went back in time
    h = (History().write("k", 0, 5, 1, region=E1).write("k", 20, 25, None, region=E1)
         .read("k", 30, 32, 1, region=E1))
    r = region_order_check({}, found(h.ops()), {})
    assert r["valid"] is False and "read-your-writes" in kinds(r)


def test_a_delete_that_found_no_item_proves_nothing():
    # async: 1 written in E2 had not reached E1 when E1's delete found nothing there (a
    # delete of an absent item writes no version and is not replicated); 1 arrives after
    # it and stays: legal. Only a delete known to have removed an item is evidence.
    h = (History().write("k", 0, 5, 1, region=E2).write("k", 20, 25, None, region=E1)
         .read("k", 30, 32, 1, region=E1))
    assert region_order_check({}, found(h.ops(), False), {})["valid"] is True
    assert region_order_check({}, h.ops(), {})["valid"] is True  # not known: no evidence


def test_absent_read_after_a_newer_write_is_caught_only_when_every_delete_is_older():
    old_delete = (History().write("k", 0, 5, None, region=E2)
                  .write("k", 10, 15, 3, region=E1).read("k", 20, 22, None, region=E1))
    assert region_order_check({}, old_delete.ops(), {})["valid"] is False
    # a delete concurrent with the write may carry the later timestamp: legal
    racing = (History().write("k", 9, 16, None, region=E2)
              .write("k", 10, 15, 3, region=E1).read("k", 20, 22, None, region=E1))
    assert region_order_check({}, racing.ops(), {})["valid"] is True


def test_convergence_covers_absence():
    h = (History().write("k", 0, 5, 1, region=E1).write("k", 10, 15, None, region=E1)
         .read("k", 30, 32, None, region=E1, final=True)
         .read("k", 30, 32, 1, region=E2, final=True))
    r = Convergence().check({"regions": [E1, E2]}, found(h.ops()), {})
    assert r["valid"] is False and kinds(r) == {"divergence": 1}
    # converged on a value the later delete provably superseded: wrong LWW winner
    h2 = (History().write("k", 0, 5, 1, region=E1).write("k", 10, 15, None, region=E2)
          .read("k", 30, 32, 1, region=E1, final=True)
          .read("k", 30, 32, 1, region=E2, final=True))
    assert lww_check({}, found(h2.ops()), {})["valid"] is False


def test_linearizability_models_a_delete_as_a_write_of_absent():
    ok = (History().write("k", 0, 5, 1).write("k", 10, 15, None, region=E2)
          .read("k", 20, 22, None).write("k", 30, 35, 2).read("k", 40, 42, 2, region=E2))
    assert linearizable(ok.ops(), "register")["valid"] is True
    resurrected = (History().write("k", 0, 5, 1).write("k", 10, 15, None, region=E2)
                   .read("k", 20, 22, 1, region=W2))
    assert linearizable(resurrected.ops(), "register")["valid"] is False
    assert sc_reads_check({}, found(resurrected.ops()), {})["valid"] is False


def test_the_lww_model_judges_keys_with_deletes():
    # the lww-model (issue 19, class 11) takes a delete as a version of its own: a key
    # with deletes is judged, not "unknown"; a legal history is explained ...
    from checkers.lww import lww_model_check
    legal = (History().write("k", 0, 5, 1, region=E1).read("k", 10, 12, 1, region=E1)
             .write("k", 20, 25, None, region=E1).read("k", 30, 32, None, region=E1)
             .write("k", 40, 45, 2, region=E2).read("k", 50, 52, 2, region=E1)
             .write("k", 60, 65, None, region=E2).read("k", 70, 72, None, region=E1))
    r = lww_model_check({}, found(legal.ops()), {})
    assert r["valid"] is True, r
    # ... and one that read 1 in E1 after E1's own delete removed it has no LWW order
    # (A01: the delete is E1's version at once, newer than 1; A05: E1 never goes back)
    back = (History().write("k", 0, 5, 1, region=E1).read("k", 10, 12, 1, region=E1)
            .write("k", 20, 25, None, region=E1).read("k", 30, 32, 1, region=E1))
    r = lww_model_check({}, found(back.ops()), {})
    assert r["valid"] is False and "no-lww-order" in kinds(r), r
    # a delete not known to have found the item proves nothing (it may have written no
    # version), so the same reads are explained
    assert lww_model_check({}, found(back.ops(), False), {})["valid"] is True
