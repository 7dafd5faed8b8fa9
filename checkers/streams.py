"""The streams checker: every region's DynamoDB stream judged against the writes made.

The streams workload (workloads/streams.py) records every stream record it read, per
region, as the value of `poll` / `drain` operations; every written value is unique, so a
record's new image names the one write it shows. What is knowable, and what is judged
(SEMANTICS.md):
- A record is identified by (region, sequence number); reading it twice is one record, two
  reads of one sequence number that differ are a violation ("record-changed").
- A07, only applied writes appear: a record's new image must be a value some write wrote
  ("unwritten-record") and not one whose every attempt definitely failed
  ("failed-write-recorded": Jepsen's :fail means the write did not happen).
- Exactly once: a value in two records of one region's stream ("duplicate-record").
- Version chain, per region and item, in stream order over the covered records (below):
  the old image of record n+1 is the new image of record n (the first's old image is
  absent: the table starts empty) -- a missing, extra or reordered record breaks it
  ("broken-chain").
- Every version a region is known to have applied has a record there ("missing-record"):
  a value read in the region (A07: applied, so recorded), an acknowledged write in its own
  region (A01: a local write is applied at once), an acknowledged conditional delete as a
  REMOVE of its value there. In another region: under MRSC every acknowledged write is
  applied everywhere (M04, M15), so missing is a violation; under async a replicated
  write is dropped when the region already holds a newer version (A06), and A07 says it
  then leaves no record, so a missing remote write is reported as allowed
  ("dropped-stale-write", with the write that lost) when that region's stream shows a
  write of the item from another origin before the proof (only such a write can outrank
  it: one origin's writes arrive in order, A04), or when a delete of the item from another
  origin may have happened (a replicated delete of an item the region lacks leaves no
  record there); otherwise it is a violation.
- M13 (MRSC): every region's stream shows each key's writes in the same order with
  identical records ("stream-order"), over what both regions' drains covered.
What "missing" needs (checkers/stream_proof.py): GetRecords may return empty pages before
records that follow, so no drain ever proves it reached a shard's tip; stream records of
one item come in the order of its modifications. The *covered* records of a region are
those its final drain steps (workloads/streams.py `StreamDrain`, folded by
checkers/stream_drain.py) read contiguously from a shard's start, each listed parent read
to its end (an older history's whole-stream drain: the prefix it read). A record is
proven missing only by a covered record of the same item from a modification that came
after it (a write acknowledged later in the same region; under MRSC anywhere; under
async in another region a later write from the same origin, A04; for a value read, a
write invoked after the read) -- the final marks the workload writes after its final
reads are such records for every key. Without that proof the claim is "not drained": the
verdict is "unknown" with the reason, never "missing-record". A region none of whose
stream was drained is not judged (unknown). Records without both images (a view type
other than NEW_AND_OLD_IMAGES) make the chain unjudgeable, also "unknown".
`lag_check` is informational: per ordered region pair, ApproximateCreationDateTime of the
write's record in B minus its acknowledgement in A (the client's wall clock).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from checkers import observe as ob
from checkers import stream_drain as sd
from checkers import stream_proof as sp
from results.history import FAIL, OK

VALUE_ATTR = "val"
KEY_ATTR = "pk"
MARK = "mark"  # a final mark (workloads/streams.py): a put made after every other write
WRITE_FS = ("write", "update", MARK)


@dataclass
class Analysis:
    regions: list[str]
    records: dict[str, dict[int, dict]] = field(default_factory=dict)   # region -> seq -> rec
    record_ops: dict[tuple[str, int], int] = field(default_factory=dict)  # first op index
    writes: dict[Any, list[ob.Pair]] = field(default_factory=dict)  # value -> attempts
    deletes: list[ob.Pair] = field(default_factory=list)
    final: dict[tuple[str, Any], Any] = field(default_factory=dict)  # (region, key) -> value
    changed: list[dict] = field(default_factory=list)
    # region -> [(invoke ns, complete ns, sequence numbers read)] of its ok drains
    drains: dict[str, list[tuple[int, int, frozenset]]] = field(default_factory=dict)
    steps: dict[str, list[sd.Step]] = field(default_factory=dict)  # final drain steps
    reads: dict[str, list[ob.Pair]] = field(default_factory=dict)  # region -> ok reads


def _val(image: Any) -> Any:
    return image.get(VALUE_ATTR) if isinstance(image, Mapping) else None


def _key(rec: Mapping) -> Any:
    keys = rec.get("keys")
    return keys.get(KEY_ATTR) if isinstance(keys, Mapping) else None


def _written(p: ob.Pair) -> Any:
    v = p.invoke.value
    if p.invoke.f == "update":
        return v[1] if isinstance(v, (list, tuple)) and len(v) == 2 else None
    return v


def analyse(test: Any, history: Sequence) -> Analysis:
    pairs = ob.client_pairs(history)
    regions = sorted({r for p in pairs if (r := ob.region_of(p)) is not None})
    a = Analysis(regions)
    for p in pairs:
        f, c, region = p.invoke.f, p.complete, ob.region_of(p)
        if f in WRITE_FS:
            a.writes.setdefault(_written(p), []).append(p)
        elif f == "delete":
            a.deletes.append(p)
        elif f in ("poll", "drain") and c is not None and c.type == OK:
            step = sd.step_of(p.invoke.extra, c.extra, c.value, p.invoke.time, c.time) \
                if f == "drain" else None
            if step is not None:
                if ob.is_final(p):
                    a.steps.setdefault(region, []).append(step)
            if f == "drain" and step is None:
                a.drains.setdefault(region, []).append((p.invoke.time, c.time, frozenset(
                    int(rec["seq"]) for rec in c.value or [])))
            seen = a.records.setdefault(region, {})
            for rec in c.value or []:
                seq = int(rec["seq"])
                body = {k: rec.get(k) for k in ("event", "keys", "new", "old")}
                prev = seen.get(seq)
                if prev is None:
                    seen[seq] = rec
                    a.record_ops[(region, seq)] = c.index
                elif {k: prev.get(k) for k in body} != body:
                    a.changed.append(ob.anomaly(
                        "record-changed", expected=False, key=_key(rec), region=region,
                        ops=[a.record_ops[(region, seq)], c.index],
                        explanation=f"two reads of sequence number {seq} in {region} "
                                    f"returned different records"))
        elif f == "read" and c is not None and c.type == OK:
            a.reads.setdefault(region, []).append(p)
    return a


def _why_undrained(regions: Sequence[str]) -> str:
    return "; ".join(f"{r}: no drain of it was answered after the heal" for r in regions)


def _mode(test: Any) -> str:
    m = test.get("mode") if isinstance(test, Mapping) else getattr(test, "mode", None)
    return m or "async"


def _coverage(a: Analysis, region: str) -> list[dict] | None:
    """The records of `region` known read contiguously, in stream order
    (checkers/stream_proof.py); None when nothing of its stream was drained."""
    recs = a.records.get(region, {})
    if region in a.steps:
        return sp.covered_by_steps(sd.fold(a.steps[region]), recs)
    if region in a.drains:
        return sp.covered_by_whole_drains([d[2] for d in a.drains[region]], recs)
    return None


@dataclass
class _Claims:
    """What one region's stream must hold, and why: proven violations, and the claims
    the drain could not settle (module docstring, "not drained")."""

    found: list[dict] = field(default_factory=list)
    open: list[str] = field(default_factory=list)


def judge(test: Any, history: Sequence) -> dict:
    a = analyse(test, history)
    strong = _mode(test) == "strong"
    out: list[dict] = list(a.changed)
    covered = {r: c for r in a.regions if (c := _coverage(a, r)) is not None}
    judged = [r for r in a.regions if r in covered]
    if not judged:
        why = _why_undrained(a.regions)
        return {"valid": "unknown", "error": "no region's stream was drained after the "
                "heal: nothing to judge" + (f" ({why})" if why else ""),
                "anomaly_counts": {}, "anomalies": []}
    images_missing = 0
    by_key: dict[str, dict[Any, list[dict]]] = {}  # region -> key -> covered records
    open_claims: list[str] = []
    for r in a.regions:
        recs = [a.records.get(r, {})[s] for s in sorted(a.records.get(r, {}))]
        counts: dict[Any, list[dict]] = defaultdict(list)
        for rec in recs:
            if rec.get("event") not in ("INSERT", "MODIFY"):
                continue
            v = _val(rec.get("new"))
            counts[v].append(rec)
            ops = [a.record_ops[(r, int(rec["seq"]))]]
            attempts = a.writes.get(v)
            if attempts is None:
                out.append(ob.anomaly(
                    "unwritten-record", expected=False, key=_key(rec), region=r, ops=ops,
                    explanation=f"{r}'s stream record {rec['seq']} shows value {v!r}, "
                                f"which no write wrote (A07)"))
            elif all(p.complete is not None and p.complete.type == FAIL for p in attempts):
                out.append(ob.anomaly(
                    "failed-write-recorded", expected=False, key=_key(rec), region=r,
                    ops=ops + [p.invoke.index for p in attempts],
                    explanation=f"{r}'s stream record {rec['seq']} shows value {v!r}, "
                                f"whose write definitely failed (A07)"))
        for v, dup in counts.items():
            if len(dup) > 1:
                out.append(ob.anomaly(
                    "duplicate-record", expected=False, key=_key(dup[0]), region=r,
                    ops=[a.record_ops[(r, int(x["seq"]))] for x in dup],
                    explanation=f"value {v!r} appears in {len(dup)} records of {r}'s stream "
                                f"(sequence numbers {', '.join(x['seq'] for x in dup)})"))
        if r not in covered:
            continue
        keyed: dict[Any, list[dict]] = defaultdict(list)
        for rec in covered[r]:
            keyed[_key(rec)].append(rec)
            if rec.get("event") == "MODIFY" and (rec.get("old") is None
                                                 or rec.get("new") is None):
                images_missing += 1
        if not images_missing:
            out.extend(_broken_chains(a, r, keyed))
        by_key[r] = keyed
        claims = _Claims()
        _read_claims(a, r, counts, keyed, claims)
        _write_claims(a, r, counts, keyed, strong, claims)
        out.extend(claims.found)
        open_claims.extend(claims.open)
    if strong:
        out.extend(_stream_order(by_key))
    res = ob.result(out, judged=True, regions_judged=judged, records={
        r: len(a.records.get(r, {})) for r in judged})
    reasons = []
    undrained = [r for r in a.regions if r not in covered]
    if undrained:
        why = _why_undrained(undrained)
        reasons.append(f"the streams of {', '.join(undrained)} were never drained after "
                       f"the heal" + (f" ({why})" if why else ""))
    if open_claims:
        reasons.append(f"not drained: {len(open_claims)} record(s) neither read nor proven "
                       f"missing (the drain read no later record of their item; GetRecords "
                       f"may return empty pages before records): {open_claims[0]}")
        res["not_drained"] = open_claims[:ob.MAX_EXAMPLES]
    if images_missing:
        reasons.append(f"{images_missing} MODIFY records lack an image: the version chain "
                       f"cannot be checked")
    if reasons and res["valid"] is True:
        res["valid"] = "unknown"
        res["error"] = "; ".join(reasons)
    return res


def _broken_chains(a: Analysis, r: str, keyed: Mapping[Any, list[dict]]) -> list[dict]:
    """Version chain over the covered records of each item: a prefix of the item's
    records (stream_proof), so a gap in it is a record missing, extra or reordered."""
    out = []
    for key, chain in keyed.items():
        prev = None
        for rec in chain:
            if _val(rec.get("old")) != _val(prev):
                out.append(ob.anomaly(
                    "broken-chain", expected=False, key=key, region=r,
                    ops=[a.record_ops[(r, int(rec["seq"]))]],
                    explanation=f"in {r}'s stream, record {rec['seq']} of {key} has "
                                f"old image {_val(rec.get('old'))!r} but the record "
                                f"before it left {_val(prev)!r}: a record is "
                                f"missing, extra or out of order"))
            prev = rec.get("new")
    return out


def _written_after(a: Analysis, t_ns: int, origin: str | None = None):
    """A test on records: the record's write was invoked after `t_ns` (and, given
    `origin`, made in that region)."""
    def after(rec: Mapping) -> bool:
        if rec.get("event") not in ("INSERT", "MODIFY"):
            return False
        attempts = a.writes.get(_val(rec.get("new")))
        if not attempts:
            return False
        p = attempts[0]
        return p.invoke.time > t_ns and (origin is None or ob.region_of(p) == origin)
    return after


def _read_claims(a: Analysis, r: str, counts: Mapping[Any, list], keyed: Mapping,
                 claims: _Claims) -> None:
    """A value read in r was applied in r, so r's stream has its record (A07), before
    the record of any write invoked after that read; proven missing only when the drain
    read such a later record of the item (checkers/stream_proof.py)."""
    first: dict[Any, ob.Pair] = {}
    for p in a.reads.get(r, []):
        v = p.complete.value
        if v is None or v in counts or v not in a.writes:
            continue
        if v not in first or p.complete.time < first[v].complete.time:
            first[v] = p
    for v, p in first.items():
        key = p.invoke.key
        at = sp.first_after(keyed.get(key, []), _written_after(a, p.complete.time))
        if at is None:
            claims.open.append(f"{r} read {v!r} of {key} (op {p.invoke.index}), so it "
                               f"applied it, but its drain read no record of {key} "
                               f"written after that read")
            continue
        later = keyed[key][at]
        claims.found.append(ob.anomaly(
            "missing-record", expected=False, key=key, region=r,
            ops=[p.invoke.index, a.record_ops[(r, int(later["seq"]))]],
            explanation=f"{r} read {v!r} of {key}, so it had applied that write, but its "
                        f"stream has no record of it, though it shows record {later['seq']} "
                        f"of a write of {key} made after that read (A07; stream records of "
                        f"an item appear in the order of its modifications)"))


def _write_claims(a: Analysis, r: str, counts: Mapping[Any, list], keyed: Mapping,
                  strong: bool, claims: _Claims) -> None:
    """Every acknowledged write r is known to have applied has a record in r's stream,
    proven missing only by a covered record of the item from a later modification:
    - in its own region (A01: applied before it is acknowledged), a write of the item
      made there after the acknowledgement;
    - under MRSC (M04, M15: every region applies every acknowledged write, in one order),
      a write of the item made anywhere after the acknowledgement;
    - under async in another region, a later write of the item from the same origin (A04:
      one origin's writes arrive in order), and then a missing record is allowed
      ("dropped-stale-write", A06/A07) when a record of the item from another origin
      precedes that proof in r's stream, or a delete of the item from another origin may
      have happened (it leaves no record where the item was absent);
    and an acknowledged conditional delete has a REMOVE of its value in its own region.
    The final marks (workloads/streams.py) are writes made after every other: their
    records are proofs, not claims."""
    origin_of = {v: ob.region_of(ps[0]) for v, ps in a.writes.items()}
    for v, attempts in a.writes.items():
        acked = [p for p in attempts if p.complete is not None and p.complete.type == OK]
        if not acked or v in counts or attempts[0].invoke.f == MARK:
            continue
        w = acked[0]
        src, key = ob.region_of(w), w.invoke.key
        chain = keyed.get(key, [])
        at = sp.first_after(chain, _written_after(
            a, w.complete.time, None if strong else src))
        if at is None:
            claims.open.append(f"the write of {v!r} to {key} acknowledged in {src} (op "
                               f"{w.invoke.index}) has no record in {r}'s stream read, "
                               f"nor a later write of {key} that proves it missing")
            continue
        proof = chain[at]
        ops = [w.invoke.index, a.record_ops[(r, int(proof["seq"]))]]
        if src == r or strong:
            why = "its own region applies it at once (A01)" if src == r else \
                "MRSC applies every acknowledged write in every region (M04, M15)"
            claims.found.append(ob.anomaly(
                "missing-record", expected=False, key=key, region=r, ops=ops,
                explanation=f"write of {v!r} acknowledged in {src} is missing from {r}'s "
                            f"stream, though {why} and {r}'s stream shows record "
                            f"{proof['seq']} of a later write of {key}"))
            continue
        others = [rec for rec in chain[:at] if rec.get("event") == "REMOVE"
                  or origin_of.get(_val(rec.get("new"))) not in (src, None)]
        # A delete from another origin outranks it as well, yet may leave no record in r:
        # when r did not hold the item, the replicated delete changes nothing there, and a
        # change that did not happen has no record (A07); the write then arrives older
        # than r's tombstone and is dropped (A06).
        deletes = [p for p in a.deletes if p.invoke.key == key and ob.region_of(p) != src
                   and not (p.complete is not None and p.complete.type == FAIL)]
        if others:
            claims.found.append(ob.anomaly(
                "dropped-stale-write", expected=True, key=key, region=r, ops=[w.invoke.index],
                explanation=f"write of {v!r} from {src} left no record in {r}'s stream: "
                            f"{r} held a write of {key} from another origin that outranked "
                            f"it (A06), and a dropped write leaves no record (A07)",
                lost_write=w.invoke.index))
        elif deletes:
            d = deletes[0]
            claims.found.append(ob.anomaly(
                "dropped-stale-write", expected=True, key=key, region=r,
                ops=[w.invoke.index, d.invoke.index],
                explanation=f"write of {v!r} from {src} left no record in {r}'s stream: the "
                            f"delete of {key} made in {ob.region_of(d)} may have outranked "
                            f"it there (A06), and that delete leaves no record in a region "
                            f"that did not hold the item, nor does the dropped write (A07)",
                lost_write=w.invoke.index))
        else:
            claims.found.append(ob.anomaly(
                "missing-record", expected=False, key=key, region=r, ops=ops,
                explanation=f"write of {v!r} acknowledged in {src} is missing from {r}'s "
                            f"stream, though it shows record {proof['seq']} of a later "
                            f"write of {key} from {src} (A04: it arrived after this one) "
                            f"and no write from another origin before it could have "
                            f"outranked this one there"))
    for p in a.deletes:
        if p.complete is None or p.complete.type != OK or ob.region_of(p) != r:
            continue
        key, v = p.invoke.key, p.invoke.value
        chain = keyed.get(key, [])
        if any(rec.get("event") == "REMOVE" and _val(rec.get("old")) == v
               for rec in a.records.get(r, {}).values()):
            continue
        at = sp.first_after(chain, _written_after(a, p.complete.time, r))
        if at is None:
            claims.open.append(f"the delete of {key} at {v!r} acknowledged in {r} (op "
                               f"{p.invoke.index}) has no REMOVE read in {r}'s stream, nor a "
                               f"later write of {key} that proves it missing")
            continue
        claims.found.append(ob.anomaly(
            "missing-record", expected=False, key=key, region=r,
            ops=[p.invoke.index, a.record_ops[(r, int(chain[at]["seq"]))]],
            explanation=f"the delete of {key} at {v!r} acknowledged in {r} has no REMOVE "
                        f"record in {r}'s stream, though it shows record {chain[at]['seq']} "
                        f"of a later write of {key} there (A01)"))


def _stream_order(by_key: Mapping[str, Mapping[Any, list[dict]]]) -> list[dict]:
    """M13: every region's stream shows each key's records identically, in one order.
    Judged on what both regions' drains read of the key (each a prefix of the key's
    records, checkers/stream_proof.py): a region that read fewer records of it shows a
    prefix, which is no disagreement (a record proven missing is `missing-record`)."""
    out: list[dict] = []
    regions = sorted(by_key)
    keys = sorted({k for r in regions for k in by_key[r]}, key=str)
    for key in keys:
        shown = {r: [(x.get("event"), _val(x.get("old")), _val(x.get("new")))
                     for x in by_key[r].get(key, [])] for r in regions}
        ref = regions[0]
        for r in regions[1:]:
            i = next((j for j, (x, y) in enumerate(zip(shown[r], shown[ref])) if x != y),
                     None)
            if i is not None:
                out.append(ob.anomaly(
                    "stream-order", expected=False, key=key, region=r, ops=[],
                    explanation=f"{r}'s stream shows {key}'s writes differently from {ref}'s "
                                f"from record {i + 1} on ({_show(shown[r], i)} vs "
                                f"{_show(shown[ref], i)}) (M13)"))
    return out


def _show(seq: Sequence, i: int) -> str:
    return repr(seq[i]) if i < len(seq) else "nothing"


def streams_check(test, history, opts) -> dict:
    return judge(test, history)


def _quantiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    s = sorted(values)

    def q(p: float) -> float:
        return round(s[min(len(s) - 1, int(p * len(s)))], 1)
    return {"p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "max": round(s[-1], 1)}


def lag_check(test, history, opts) -> dict:
    """Stream lag per ordered region pair (informational, always valid): the record's
    ApproximateCreationDateTime in B minus the write's acknowledgement in A, in ms (two
    wall clocks of one machine against the emulator; across hosts their skew adds in).
    Under MRSC it can be negative: B may apply a journal entry before A has applied it
    and answered (M04)."""
    a = analyse(test, history)
    samples: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r, recs in a.records.items():
        for rec in recs.values():
            attempts = a.writes.get(_val(rec.get("new")))
            if not attempts or rec.get("event") == "REMOVE" or rec.get("at") is None:
                continue
            acked = [p for p in attempts if p.complete is not None and p.complete.type == OK
                     and "acked_at" in p.complete.extra]
            if not acked or ob.region_of(acked[0]) == r:
                continue
            src = ob.region_of(acked[0])
            samples[(src, r)].append((float(rec["at"]) - acked[0].complete.extra["acked_at"])
                                     * 1000.0)
    pairs = {f"{s}->{d}": {"from": s, "to": d, "count": len(v), "lag_ms": _quantiles(v)}
             for (s, d), v in sorted(samples.items())}
    return {"valid": True, "pairs": pairs}


def lag_summary(result: Mapping[str, Any]) -> list[str]:
    lines = []
    for name, row in sorted((result.get("pairs") or {}).items()):
        q = row.get("lag_ms") or {}
        if row.get("count"):
            lines.append(f"  {name:<28} n={row['count']:<5} p50={q['p50']:.0f} ms  "
                         f"p90={q['p90']:.0f} ms  max={q['max']:.0f} ms")
    return lines


def checkers_for(mode: str) -> dict[str, Any]:
    """The streams workload's checkers in `mode`: the stream promises, the stream lag
    (informational), convergence of the final reads, availability and latency."""
    from checkers.core import FnChecker
    from checkers.modes import observed_checkers
    tail = observed_checkers(mode, ob.freeze)
    return {"streams": FnChecker(streams_check, "streams"),
            "stream-lag": FnChecker(lag_check, "stream-lag"), **tail}
