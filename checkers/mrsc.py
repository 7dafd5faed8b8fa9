"""What Multi-Region Strong Consistency promises beyond linearizable SC operations.

MRSC's main verdict is linearizability per key of writes, cas (or a counter's or set's
adds) and SC reads in all regions (M06), judged by `checkers.linearizability`; `Linearizable` here adapts it: it keeps only
those operations (EC reads are excluded: M07 lets them be stale) and turns a
counterexample into an anomaly with a sentence. Around it, three promises with readable
explanations of their own:
- SC reads are never stale: an SC read never returns a value provably older than a write
  acknowledged anywhere before the read began (a cheap, explained special case of
  linearizability that also judges a history when the search times out);
- EC reads return some written value and never go back in time within a region;
- a write answered ReplicatedWriteConflictException never becomes visible (M08: it failed
  its condition everywhere).
The same `Linearizable` adapter, with `expected=True`, reports async histories'
linearizability violations as expected anomalies (`checkers.anomalies`).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Mapping, Sequence

from checkers import observe as ob
from checkers.async_props import region_order_anomalies, written_value_anomalies
from checkers.observe import Pair
from results.history import OK, Op


def sc_register_ops(history: Sequence[Op], updates: tuple[str, ...] = ("write", "cas")
                    ) -> list[Op]:
    """Updates (writes and cas, or a counter's / set's adds) and SC reads (invocations and
    completions), in history order: what MRSC promises linearizable (M06)."""
    keep: list[Op] = []
    for p in ob.client_pairs(history):
        f = p.invoke.f
        if f in updates or (f == "read" and ob.is_sc(p)):
            keep.append(p.invoke)
            if p.complete is not None:
                keep.append(p.complete)
    keep.sort(key=lambda op: op.index)
    return keep


def _nonlinearizable(res: Mapping, by_index: Mapping[int, Op], *,
                     expected: bool) -> list[dict]:
    """One anomaly per key without a linearization; each key with a counterexample (the
    search keeps up to 20) carries it and its sentence."""
    first = res.get("counterexample") if isinstance(res.get("counterexample"), Mapping) else {}
    by_key = {c.get("key"): c for c in res.get("counterexamples") or [first]
              if isinstance(c, Mapping) and "key" in c}
    keys = list(res.get("invalid_keys") or list(by_key))
    out = []
    for key in keys:
        cx = by_key.get(key)
        if cx:
            i = cx.get("op")
            op = by_index.get(i) if isinstance(i, int) else None
            concurrent = list(cx.get("concurrent") or [])
            text = cx.get("explanation") or (
                f"Operation {i} on {key} cannot be linearized after the longest "
                f"linearizable prefix ({len(cx.get('prefix') or [])} operations)")
            if op is not None:
                text = f"On {key} in {op.region} at {ob.secs(op.time)}: {text}"
            out.append(ob.anomaly(
                "nonlinearizable", expected=expected, key=key,
                region=op.region if op is not None else None,
                ops=([i] if isinstance(i, int) else []) + concurrent[:20],
                explanation=text.rstrip("."), counterexample=dict(cx)))
        else:
            out.append(ob.anomaly(
                "nonlinearizable", expected=expected, key=key, region=None, ops=[],
                explanation=(f"The SC history of {key} (writes, cas and SC reads in all "
                             f"regions) has no linearization")))
    return out


class Linearizable:
    """Linearizability per key over updates and SC reads: of a cas-register (writes,
    cas), or, with `model` "counter" / "set", of adds (M06: an SC read reflects every
    write acknowledged anywhere before it, whatever the item holds). EC reads are left
    out (M07 lets them be stale); `fail` operations did not happen (Knossos).

    `timeout` is a budget of the search's own CPU seconds (`time.thread_time`), not of
    wall time: it is the checker set's built-in bound (`checkers.modes.checker_for`), and
    a verdict must not turn "unknown" because the machine is busy (a 1M-operation strong
    counter history needs about 20 CPU s of search, which took over 60 s of wall time on
    a shared 2-core machine). A user's `--timeout` stays wall time (suite/check_cmd.py)."""

    def __init__(self, *, expected: bool = False, model: str = "cas-register",
                 timeout: float | None = None):
        self.expected, self.model, self.timeout = expected, model, timeout

    def check(self, test, history, opts) -> dict:
        from checkers import linearizability  # issue 5's package
        ops = sc_register_ops(history, ("add",) if self.model in ("counter", "set")
                              else ("write", "cas"))
        if self.model == "counter":  # no item reads as 0 (an ADD counter starts absent)
            ops = [replace(op, value=0) if op.f == "read" and op.type == OK
                   and op.value is None else op for op in ops]
        res = dict(linearizability.check(ops, self.model, timeout=self.timeout,
                                         partition=True, clock=time.thread_time))
        found = []
        if res.get("valid") is False:
            found = _nonlinearizable(res, {op.index: op for op in ops},
                                     expected=self.expected)
        out = ob.result(found, linearizability=res)
        if not self.expected and isinstance(res.get("counterexample"), Mapping):
            out["counterexample"] = res["counterexample"]  # where the report looks for it
            out["counterexamples"] = res.get("counterexamples") or [res["counterexample"]]
        if res.get("valid") is False and not self.expected:
            out["valid"] = False
        elif res.get("valid") not in (True, False):
            out["valid"] = True if self.expected else "unknown"
        return out


def stale_sc_anomalies(pairs: Sequence[Pair], writes) -> list[dict]:
    """SC reads returning a value provably older than a write acknowledged (anywhere)
    before the read began: promised never to happen under MRSC."""
    from checkers.anomalies import stale_register_reads
    return stale_register_reads(pairs, writes, margin_ns=0, expected=False,
                                cross_region_only=False, cuts=(), include_final=True)


def sc_reads_check(test, history, opts) -> dict:
    pairs = ob.client_pairs(history)
    writes = ob.register_writes(pairs)
    found = stale_sc_anomalies(pairs, writes)
    found += [a for a in written_value_anomalies(pairs, which="sc")
              if a["kind"] not in ("failed-write-visible", "conflicted-write-visible")]
    reads = sum(1 for p in pairs if p.invoke.f == "read" and p.type == OK and ob.is_sc(p))
    return ob.result(found, judged=reads > 0, reads=reads)


def ec_reads_check(test, history, opts) -> dict:
    """EC reads return some written value and never go back in time within a region."""
    pairs = ob.client_pairs(history)
    found = [a for a in written_value_anomalies(pairs, which="ec")
             if a["kind"] not in ("failed-write-visible", "conflicted-write-visible")]
    found += region_order_anomalies(pairs, stream="ec", writes=ob.register_writes(pairs))
    reads = sum(1 for p in pairs if p.invoke.f == "read" and p.type == OK and not ob.is_sc(p))
    # a history without EC reads breaks no EC promise: valid, not "unknown"
    return ob.result(found, reads=reads)


def failed_writes_check(test, history, opts) -> dict:
    """No read shows a value whose every write failed (ReplicatedWriteConflictException
    above all: its entry failed its condition in every region)."""
    pairs = ob.client_pairs(history)
    found = [a for a in written_value_anomalies(pairs)
             if a["kind"] in ("failed-write-visible", "conflicted-write-visible")]
    conflicted = sum(1 for p in pairs if p.complete is not None and p.type == "fail"
                     and "ReplicatedWriteConflict" in str(p.complete.error or ""))
    return ob.result(found, conflicted_writes=conflicted)
