"""results.history.Pair's type / start / end are fields filled when the pair is made
(issue 23: read millions of times); they must say what the properties said: type of the
completion (info when none), start the invocation's time, end None unless the outcome is
known (ok / fail)."""

import dataclasses

from results.history import Op, Pair, pair


def _ops():
    return [Op(0, 10, "invoke", 1, "write", "k", 1),
            Op(1, 11, "invoke", 2, "read", "k"),
            Op(2, 20, "ok", 1, "write", "k", 1),
            Op(3, 21, "invoke", 3, "write", "k", 2),
            Op(4, 25, "fail", 3, "write", "k", 2),
            Op(5, 26, "info", 2, "read", "k"),
            Op(6, 30, "invoke", 4, "read", "k")]


def test_fields_from_pair():
    ps = pair(_ops())
    assert [(p.invoke.index, p.type, p.start, p.end) for p in ps] == [
        (0, "ok", 10, 20), (1, "info", 11, None), (3, "fail", 21, 25), (6, "info", 30, None)]


def test_constructor_and_replace_fill_the_same_fields():
    for p in pair(_ops()):
        q = Pair(p.invoke, p.complete)
        assert (q.type, q.start, q.end) == (p.type, p.start, p.end)
        assert q == p
    p = pair(_ops())[0]
    r = dataclasses.replace(p, complete=None)
    assert (r.type, r.start, r.end) == ("info", 10, None)


def test_fields_are_frozen():
    p = pair(_ops())[0]
    for name in ("type", "start", "end"):
        try:
            setattr(p, name, 0)
        except dataclasses.FrozenInstanceError:
            continue
        raise AssertionError(f"{name} was assignable")
