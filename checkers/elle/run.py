"""The transactional workloads' checkers for a gtcheck run, with regions first-class.

Async (MREC) global tables promise transactions that are ACID in the region that ran
them (SEMANTICS.md A11) and replicate item by item. So a run is judged by:
- `serializable-in-writing-region`: for each region, its own transactions restricted to
  the keys only it writes (the workload gives every key one writing region) must be
  serializable (Elle's check with the `serializable` model): a violation is a bug;
- `cross-region-anomalies`: the whole history against `serializable`; what it finds
  (a remote region reading half of a transaction, ...) is what A11 allows: reported,
  each anomaly `expected`, never a failure;
- `convergence`: after the final heal every region reads the same value of every key.

Strong (MRSC) tables reject transactions (M14): `transactions-rejected` expects every
multi-item transaction to fail with ValidationException (accepted ones are violations),
and `strict-serializable` judges the rest (single-item transactions) with Elle's check
and the `strict-serializable` model. Availability and latency are the common checkers.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from checkers.core import FnChecker
from checkers.elle import check as elle
from checkers.elle.explain import describe_anomaly
from checkers.elle.txn import FAIL, OK, Txn, from_ops

IN_REGION_MODEL = "serializable"


def _inv(t: Txn) -> int:
    return t.invoke_index if t.invoke_index is not None else t.index


def _anomaly_rows(result: dict, *, expected: bool, region: str | None,
                  limit: int = 50) -> list[dict]:
    """Elle's anomalies as gtcheck's anomaly dicts (docs/CONVENTIONS.md, Anomalies)."""
    rows = []
    for kind, cases in result.get("anomalies", {}).items():
        for case in (cases if isinstance(cases, list) else [cases])[:limit]:
            ops = []
            if isinstance(case, dict):
                for name in ("cycle", "txns"):
                    ops += [_inv(t) for t in case.get(name, []) if isinstance(t, Txn)]
                for name in ("op", "writer"):
                    if isinstance(case.get(name), Txn):
                        ops.append(_inv(case[name]))
            rows.append({"kind": kind, "expected": expected, "region": region,
                         "key": case.get("key") if isinstance(case, dict) else None,
                         "ops": sorted(set(ops)),
                         "explanation": describe_anomaly(kind, case)})
    return rows


def _cycle_pictures(result: dict) -> list[dict]:
    """The first cycle of each kind found (G0, G1c, G-single, G2, ...), as plain data for
    the report's drawings: a reader sees one cycle of every kind the checker reports,
    not only the first kind's (issue 25)."""
    out = []
    for kind, cases in result.get("anomalies", {}).items():
        case = next((c for c in (cases if isinstance(cases, list) else ())
                     if isinstance(c, dict) and "cycle" in c), None)
        if case is None:
            continue
        cyc = case["cycle"]
        out.append({"kind": kind,
                    "nodes": [f"T{t.index}" for t in cyc[:-1]],
                    "regions": [t.region for t in cyc[:-1]],
                    "edges": [{"from": f"T{cyc[i].index}", "to": f"T{cyc[i + 1].index}",
                               "rel": s.get("type"), "key": s.get("key")}
                              for i, s in enumerate(case["steps"])],
                    "explanation": describe_anomaly(kind, case)})
    return out


def _with_cycles(out: dict, pictures: list[dict]) -> dict:
    """`cycles`: one picture per kind; `cycle`: the first (as results.json had it)."""
    if pictures:
        out["cycle"] = pictures[0]
        out["cycles"] = pictures
    return out


def _counts(rows: Sequence[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r["kind"]] = out.get(r["kind"], 0) + 1
    return out


def _restrict(txns: Sequence[Txn], keys: set) -> list[Txn]:
    out = []
    for t in txns:
        mops = [m for m in t.mops if m[1] in keys]
        if mops:
            out.append(Txn(len(out), t.index, t.process, t.type, mops, t.invoke_time,
                           t.complete_time, t.region, t.invoke_index))
    return out


def writing_regions(txns: Sequence[Txn]) -> dict[Any, set]:
    """key -> the regions whose transactions wrote it."""
    out: dict[Any, set] = {}
    for t in txns:
        for f, k, _ in t.mops:
            if f in ("append", "w"):
                out.setdefault(k, set()).add(t.region)
    return out


def in_region_check(workload: str, txns: Sequence[Txn]) -> dict:
    writers = writing_regions(txns)
    regions = sorted({t.region for t in txns if t.region is not None})
    per_region: dict[str, dict] = {}
    rows: list[dict] = []
    pictures: list[dict] = []
    for region in regions:
        own = {k for k, rs in writers.items() if rs == {region}}
        if not own:  # a region that writes no key of its own has nothing to judge here
            per_region[region] = {"valid": None, "keys": 0, "judged": False}
            continue
        sub = _restrict([t for t in txns if t.region == region], own)
        res = elle.check(sub, workload, consistency_models=[IN_REGION_MODEL])
        per_region[region] = {k: res[k] for k in ("valid", "anomaly_types", "txns",
                                                  "edges", "not", "strongest_consistent")}
        per_region[region]["keys"] = len(own)
        if res["valid"] == "unknown" and list(res["anomaly_types"]) == ["empty-transaction-graph"]:
            # Elle: a graph without edges tested nothing (a region that ran few
            # transactions, say through an outage): nothing judged here, as for a region
            # without keys of its own; the other regions' evidence stands
            per_region[region].update(judged=False, not_judged="empty-transaction-graph")
            continue
        rows += _anomaly_rows(res, expected=False, region=region)
        seen = {p["kind"] for p in pictures}
        pictures += [p for p in _cycle_pictures(res) if p["kind"] not in seen]
    shared = sorted(str(k) for k, rs in writers.items() if len(rs) > 1)
    from checkers.core import merge_valid
    judged = [r["valid"] for r in per_region.values() if r.get("judged", True)]
    valid = merge_valid(judged) if judged else "unknown"
    out = {"valid": valid, "model": IN_REGION_MODEL, "regions": per_region,
           "anomalies": rows, "anomaly_counts": _counts(rows),
           "keys_written_from_several_regions": shared}
    return _with_cycles(out, pictures)


def cross_region_check(workload: str, txns: Sequence[Txn]) -> dict:
    res = elle.check(txns, workload, consistency_models=[IN_REGION_MODEL])
    rows = _anomaly_rows(res, expected=True, region=None)
    out = {"valid": True, "model": IN_REGION_MODEL, "anomalies": rows,
           "anomaly_counts": _counts(rows), "anomaly_types": res["anomaly_types"],
           "strongest_consistent": res["strongest_consistent"],
           "note": "A11: replication is per item, so another region may see part of a "
                   "transaction; reported, allowed in async mode"}
    return _with_cycles(out, _cycle_pictures(res))


def strict_check(workload: str, txns: Sequence[Txn]) -> dict:
    res = elle.check(txns, workload, consistency_models=["strict-serializable"])
    rows = _anomaly_rows(res, expected=False, region=None)
    out = {"valid": res["valid"], "model": "strict-serializable", "anomalies": rows,
           "anomaly_counts": _counts(rows), "anomaly_types": res["anomaly_types"],
           "not": res["not"], "txns": res["txns"], "edges": res["edges"]}
    return _with_cycles(out, _cycle_pictures(res))


def _m14(attempts) -> dict:
    """M14 over (op index, region, type, error, description) of multi-item transaction
    attempts: each must fail with ValidationException; an accepted one is a violation."""
    rows = []
    for index, region, typ, error, what in attempts:
        if typ == OK:
            rows.append({"kind": "transaction-accepted", "expected": False,
                         "region": region, "key": None, "ops": [index],
                         "explanation": f"{what} succeeded on an MRSC table, which rejects "
                                        f"transactions (M14)"})
        elif typ == "fail" and error == "Validation":
            rows.append({"kind": "transaction-rejected", "expected": True,
                         "region": region, "key": None, "ops": [index],
                         "explanation": f"{what} was rejected with ValidationException "
                                        f"(M14)"})
    return {"valid": not any(not r["expected"] for r in rows), "anomalies": rows,
            "anomaly_counts": _counts(rows)}


def rejected_check(txns: Sequence[Txn], errors: Mapping[int, str]) -> dict:
    """M14: multi-item transactions must fail with ValidationException."""
    return _m14((t.index, t.region, t.type, errors.get(t.index),
                 f"T{t.index}: a {len(t.mops)}-item transaction")
                for t in txns if len(t.mops) > 1)


def convergence_check(history: Sequence[Any], *, strong: bool = False) -> dict:
    """After the final heal, every region's final reads agree on every key.

    `strong` (MRSC): a key that a transaction writing it could still change during its
    final reads is not judged here (`final_keys_in_flight`), as `async_props.Convergence`
    does for the other workloads: a transaction that timed out (Jepsen's :info) may take
    effect at any later time, even between two regions' final reads, which are SC reads
    that `strict-serializable` judges with that indeterminacy (M06). The false alarm:
    `test-all --quick --mode strong --seed 1`, list-append x outage (docs/detection.md,
    "Third round"): an append of k0 that timed out landed between us-east-2's final read
    ([]) and the other regions' ([5]).

    The final reads are those of the last final round (checkers/final_rounds.py: the
    final phase reads again while the regions disagree; earlier rounds are ordinary
    reads): a write replicated late that landed between two reads of round 1 is not a
    divergence once a later round agrees (issue 21)."""
    from checkers.final_rounds import last_round_final, rounds_of
    history = last_round_final(history)
    last_round = max(rounds_of(history), default=1)
    seen: dict[Any, dict[str, Any]] = {}
    for op in history:
        if op.type != OK or op.f != "txn" or not (op.extra or {}).get("final"):
            continue
        for f, k, v in op.value or ():
            if f == "r":
                seen.setdefault(k, {}).setdefault(op.region, v)
    diverged = {k for k, by_region in seen.items()
                if len({repr(v) for v in by_region.values()}) > 1}
    in_flight = _keys_written_during_final_reads(history, diverged) if strong else set()
    rows = [{"kind": "divergence", "expected": False, "region": None, "key": k, "ops": [],
             "explanation": f"after the final heal key {k} reads differently by region"
                            + (f" in the last final round ({last_round})"
                               if last_round > 1 else "") + f": {seen[k]}"}
            for k in seen if k in diverged - in_flight]
    return {"valid": (not rows) if seen else "unknown", "keys": len(seen),
            "final_keys_in_flight": len(in_flight), "final_rounds": last_round,
            "anomalies": rows,
            "anomaly_counts": _counts(rows)}


def _keys_written_during_final_reads(history: Sequence[Any], keys) -> set:
    """The keys of `keys` that a transaction writing them (any micro-op but "r") could
    still change while their final reads ran: invoked before the last final read of the
    key ended and not ended, ok or fail, before the first one began (an `info` one may
    take effect at any later time; Knossos/Jepsen)."""
    from checkers import observe as ob
    pairs = [p for p in ob.client_pairs(history) if p.invoke.f == "txn"]
    span: dict[Any, list[int]] = {}
    for p in pairs:
        if p.type != OK or not ob.is_final(p):
            continue
        for f, k, _ in p.invoke.value or ():
            if f == "r" and k in keys:
                lo_hi = span.setdefault(k, [p.start, p.end])
                lo_hi[0], lo_hi[1] = min(lo_hi[0], p.start), max(lo_hi[1], p.end)
    out = set()
    for p in pairs:
        for f, k, _ in p.invoke.value or ():
            if f != "r" and k in span and p.start <= span[k][1] and not (
                    p.type in (OK, FAIL) and p.end is not None and p.end < span[k][0]):
                out.add(k)
    return out


def _txns(history: Sequence[Any]) -> list[Txn]:
    return from_ops([op for op in history if op.process != "nemesis" and op.f == "txn"])


def txn_checkers(mode: str, workload: str) -> dict[str, Any]:
    """{name: checker} for a transactional workload in `mode` (checkers.modes hook)."""
    from checkers import latency
    out: dict[str, Any] = {}
    if mode == "strong":
        out["strict-serializable"] = FnChecker(
            lambda test, h, opts: strict_check(workload, _txns(h)), "strict-serializable")
        out["transactions-rejected"] = FnChecker(
            lambda test, h, opts: rejected_check(
                _txns(h), {op.index: op.error for op in h if op.type == "fail"}),
            "transactions-rejected")
    else:
        out["serializable-in-writing-region"] = FnChecker(
            lambda test, h, opts: in_region_check(workload, _txns(h)),
            "serializable-in-writing-region")
        out["cross-region-anomalies"] = FnChecker(
            lambda test, h, opts: cross_region_check(workload, _txns(h)),
            "cross-region-anomalies")
    out["convergence"] = FnChecker(
        lambda test, h, opts: convergence_check(h, strong=mode == "strong"), "convergence")
    out["availability"] = _available_apart_from_m14(mode, lambda op: len(op.value or ()) > 1)
    out["latency"] = FnChecker(latency.latency_check, "latency")
    return out


def bank_checkers(mode: str, regions: Sequence[str]) -> dict[str, Any]:
    """{name: checker} for the bank workload: totals conserved in the writing region
    (every region in strong mode, where no transfer can succeed), torn transfers
    elsewhere reported as allowed (A11), agreement after the final heal; in strong mode
    also the M14 rejections of transfers, and the single-item accesses (PutItem set-up,
    SC GetItem reads) checked strict serializable as one-item rw-register transactions
    (M06)."""
    from checkers import latency
    from checkers.elle.bank import bank_run_check
    home = regions[0] if mode != "strong" else None
    out: dict[str, Any] = {
        "bank": FnChecker(lambda test, h, opts: bank_run_check(h, writing_region=home),
                          "bank")}
    if mode == "strong":
        from checkers.elle.bank import single_item_txns
        out["strict-serializable"] = FnChecker(
            lambda test, h, opts: strict_check("rw-register", single_item_txns(h)),
            "strict-serializable")
        out["transactions-rejected"] = FnChecker(
            lambda test, h, opts: transfers_rejected(h), "transactions-rejected")
    out["availability"] = _available_apart_from_m14(mode, lambda op: op.f == "transfer")
    out["latency"] = FnChecker(latency.latency_check, "latency")
    return out


def _available_apart_from_m14(mode: str, is_transaction) -> Any:
    """Availability, leaving out in strong mode the transactions MRSC rejects by design
    (M14): their failures say nothing about whether the region was serving."""
    from checkers import availability
    inner = availability.AvailabilityChecker(mode)
    if mode != "strong":
        return inner

    def check(test, history, opts):
        kept = [op for op in history if op.process == "nemesis" or not is_transaction(op)]
        return inner.check(test, kept, opts)
    return FnChecker(check, "availability")


def transfers_rejected(history: Sequence[Any]) -> dict:
    """M14: every transfer (a two-item TransactWriteItems) fails with ValidationException."""
    return _m14((op.index, op.region, op.type, op.error, f"op {op.index}: a transfer")
                for op in history if op.f == "transfer" and op.type != "invoke")
