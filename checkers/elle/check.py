"""`check(txns, workload=..., consistency_models=...)`: Elle's analysis in one function.

The steps are Elle's (elle/txn.clj `cycles` and `result-map`, elle/core.clj):
1. the workload's analysis infers version orders and gives the ww / wr / rw graph and
   the anomalies found without cycles (checkers.elle.list_append / rw_register);
2. real-time edges are added when a target model forbids a real-time anomaly (strict
   serializable), else process edges when one forbids a process anomaly;
3. a graph with no edges at all is "empty-transaction-graph" (unknown: nothing was
   tested);
4. in each strongly connected component: first which models' subgraphs hold a cycle at
   all ("<model>-cycle-exists", cheap), then, most severe first, a shortest cycle for
   each anomaly type those do not already rule out (G0, G1c, G-single, G-nonadjacent,
   G2-item and their -process / -realtime variants), skipping types implied by one
   already found;
5. the verdict: false if an anomaly the target models forbid was found, unknown if only
   empty-transaction-graph or a search that ran out of budget, else true; "not" /
   "also_not" name the weakest models violated and the stronger ones with them, and
   "consistent_with" the strongest of gtcheck's named targets that still holds.
"""

from __future__ import annotations

import gc
import time
from typing import Any, Iterable, Sequence

from checkers.elle import list_append, models, rw_register
from checkers.elle.explain import describe_anomaly
from checkers.elle.graph import (PROCESS, REALTIME, RW, WR, WW, CycleSpec, Graph,
                                 add_process, add_realtime, classify, cyclic_part,
                                 SearchBudgetExceeded, find_cycle, has_cycle, sccs)
from checkers.elle.txn import Txn
from gtcheck.errors import BadInput

WORKLOADS = ("list-append", "rw-register")
MICRO_OPS = {"list-append": frozenset(("append", "r")), "rw-register": frozenset(("w", "r"))}
DEFAULT_MODELS = ("strict-serializable",)
UNKNOWN_TYPES = frozenset(("empty-transaction-graph", "cycle-search-timeout"))


def _specs() -> list[CycleSpec]:
    base = [("G0", dict(rels=WW)),
            ("G1c", dict(rels=WW | WR, required=WR)),
            ("G-single-item", dict(rels=WW | WR, single=RW, typed=True)),
            ("G-nonadjacent-item", dict(rels=WW | WR, nonadjacent=RW, multiple=RW,
                                        typed=True)),
            ("G2-item", dict(rels=WW | WR | RW, multiple=RW, typed=True))]
    out = []
    for name, kw in base:
        out.append(CycleSpec(name, **kw))
        for suffix, bit in (("-process", PROCESS), ("-realtime", REALTIME)):
            kw2 = dict(kw, rels=kw["rels"] | bit, variant=bit)
            out.append(CycleSpec(name + suffix, **kw2))
    depth = models.depths()
    out.sort(key=lambda s: (depth.get(s.name, 99), s.name))
    return out


CYCLE_SPECS = _specs()
CYCLE_TYPES = frozenset(s.name for s in CYCLE_SPECS)
REALTIME_TYPES = frozenset(t for t in CYCLE_TYPES if t.endswith("-realtime"))
PROCESS_TYPES = frozenset(t for t in CYCLE_TYPES if t.endswith("-process"))

# (canonical model, subgraph relationships, relationships of the one extra hop)
CYCLE_EXISTS = (
    ("PL-1", WW, 0), ("PL-2", WW | WR, 0), ("PL-SI", WW | WR, RW), ("PL-3", WW | WR | RW, 0),
    ("strong-session-PL-1", WW | PROCESS, 0), ("strong-session-PL-2", WW | WR | PROCESS, 0),
    ("strong-session-snapshot-isolation", WW | WR | PROCESS, RW),
    ("strong-session-serializable", WW | WR | RW | PROCESS, 0),
    ("strong-PL-1", WW | REALTIME, 0), ("strong-PL-2", WW | WR | REALTIME, 0),
    ("strong-snapshot-isolation", WW | WR | REALTIME, RW),
    ("PL-SS", WW | WR | RW | REALTIME, 0),
)
_SUBGRAPH_NAMES = {WW: "ww", WR: "wr", RW: "rw", PROCESS: "process", REALTIME: "realtime"}


def _cycle_exists_cases(out, scc, txns) -> list[dict]:
    cases: list[dict] = []
    redundant: set[str] = set()
    for model, first, then in CYCLE_EXISTS:
        if model in redundant:
            continue
        found = has_cycle(out, scc, first, then)
        if found is None:
            continue
        cases.append({"type": f"{model}-cycle-exists", "not": models.friendly(model),
                      "subgraph": [n for b, n in _SUBGRAPH_NAMES.items() if first & b]
                      + ([f"then {_SUBGRAPH_NAMES[then]}"] if then else []),
                      "scc_size": len(found),
                      "scc": sorted(txns[i].index for i in found)})
        redundant |= models.impossible_models([model])
    return cases


def _cycle_cases(out, scc, txns, explain, budget: int) -> list[dict]:
    ce = _cycle_exists_cases(out, scc, txns)
    ruled_out = models.impossible_models(c["not"] for c in ce)
    possible = {m for m, _, _ in CYCLE_EXISTS} - ruled_out
    skip = set(CYCLE_TYPES & models.prohibited(possible)) if possible else set()
    cycles: list[dict] = []
    for spec in CYCLE_SPECS:
        if spec.name in skip:
            continue
        try:
            found = find_cycle(out, scc, spec, budget=budget)
        except SearchBudgetExceeded:
            cycles.append({"type": "cycle-search-timeout", "anomaly_spec_type": spec.name,
                           "scc_size": len(scc)})
            break  # as Elle: the rest of this component's searches are given up
        if found is None:
            continue
        verts, steps = found
        kind = classify(steps)
        cyc = [txns[v] for v in verts]
        cycles.append({"type": kind, "cycle": cyc, "steps": [
            explain(cyc[i], cyc[i + 1], bits) for i, bits in enumerate(steps)]})
        skip |= models.implied_anomalies([spec.name])
    found_types = {c["type"] for c in cycles} - UNKNOWN_TYPES
    impossible = models.anomalies_to_impossible_models(found_types)
    ce = [c for c in ce if models.canonical(c["not"]) not in impossible]
    return ce + cycles


def analyse(txns: Sequence[Txn], workload: str, *, realtime: bool, process: bool,
            budget: int = 200_000, **options: Any) -> tuple[dict, Any, Graph]:
    """All anomalies found (reportable or not), the workload analysis and the graph."""
    allowed = MICRO_OPS.get(workload)
    if allowed is None:
        raise BadInput(f"unknown transactional workload {workload!r} "
                       f"(expected one of {', '.join(WORKLOADS)})")
    seen = {m[0] for t in txns for m in t.mops}
    if not seen <= allowed:
        bad = sorted(map(str, seen - allowed))
        raise BadInput(f"{workload} transactions hold micro-ops {', '.join(bad)} (expected "
                       f"{' / '.join(sorted(allowed))})")
    if workload == "list-append":
        an = list_append.Analysis(txns)
    elif workload == "rw-register":
        an = rw_register.Analysis(txns, **options)
    else:
        raise ValueError(f"unknown transactional workload {workload!r}")
    g = an.graph(len(txns))
    if realtime:
        add_realtime(g, txns)
    elif process:
        add_process(g, txns)
    anomalies: dict[str, Any] = dict(an.anomalies())
    if not any(g.out):
        anomalies["empty-transaction-graph"] = True

    def explain(a: Txn, b: Txn, bits: int) -> dict:
        for rel in (WW, WR, RW):
            if bits & rel:
                ex = an.explain(a, b, rel)
                if ex is not None:
                    return ex
        kind = "realtime" if bits & REALTIME else "process"
        return {"type": kind, "a": a, "b": b}

    rest = cyclic_part(g.out)
    for scc in (sccs(g.out, vertices=rest) if rest else ()):
        for case in _cycle_cases(g.out, scc, txns, explain, budget):
            anomalies.setdefault(case["type"], []).append(case)
    return anomalies, an, g


def _remove_redundant_cycle_exists(anomalies: dict) -> dict:
    others = [t for t in anomalies if not t.endswith("-cycle-exists")]
    impossible = models.anomalies_to_impossible_models(others)
    return {t: v for t, v in anomalies.items()
            if not (t.endswith("-cycle-exists")
                    and models.canonical(t[: -len("-cycle-exists")]) in impossible)}


def consistent_with(anomaly_types: Iterable[str],
                    checked: Sequence[str] = DEFAULT_MODELS) -> dict:
    """The strongest of gtcheck's named targets the anomalies leave standing, and the
    weakest they rule out. Only targets no stronger than the models `checked` count as
    standing: a check for serializability looked for no real-time anomaly, so it cannot
    vouch for strict serializability."""
    types = set(anomaly_types) - UNKNOWN_TYPES
    searched = models.prohibited(checked)
    ok = [m for m in models.TARGETS
          if not (types & models.prohibited([m])) and models.prohibited([m]) <= searched]
    bad = [m for m in models.TARGETS if types & models.prohibited([m])]
    return {"strongest_consistent": ok[-1] if ok else None,
            "weakest_violated": bad[0] if bad else None}


WRITE_MOP = {"list-append": "append", "rw-register": "w"}


def duplicate_writes(txns: Sequence[Txn], workload: str) -> dict | None:
    """The first value written twice to one key, by any two writes of the history
    (:ok, :info or :fail alike), or None. Both workloads infer the version order from
    values, so each value must name one write: Elle refuses a list-append history whose
    invocations append one value to a key twice (elle.list-append/verify-unique-appends:
    valid? :unknown, :duplicate-appends), and an rw-register history in which one value
    of a key has two writers (elle.rw-register/wr-graph: "written by more than one op").
    With two writers a read of the value could be either's: blaming the failed one
    (G1a) or inferring a cycle from it would judge a broken assumption."""
    wf = WRITE_MOP.get(workload)
    first: dict = {}  # k -> {v: the txn that wrote it first} (no (k, v) tuple per write)
    for t in txns:
        for f, k, v in t.mops:
            if f != wf:
                continue
            written = first.get(k)
            if written is None:
                first[k] = {v: t}
                continue
            other = written.get(v)
            if other is not None:
                name = "duplicate-appends" if workload == "list-append" else "duplicate-writes"
                verb = "appends" if workload == "list-append" else "writes"
                by = "itself" if other is t else f"{other.describe()} ({other.type})"
                return {"type": name, "key": k, "value": v, "ops": [other, t],
                        "reason": f"{t.describe()} ({t.type}) {verb} {v!r} to key {k!r}, "
                                  f"as {by} did: {workload} needs each value written "
                                  f"once per key to infer the version order"}
            written[v] = t
    return None


def check(txns: Sequence[Txn], workload: str = "list-append", *,
          consistency_models: Sequence[str] | None = None, budget: int = 200_000,
          **options: Any) -> dict:
    """Judge a transactional history; a plain JSON-able result (plus the Txn objects in
    anomaly cases, rendered by `to_json`). The cyclic collector is paused meanwhile:
    the indexes and the graph are millions of small objects in no reference cycle, and
    its passes over them cost a third of the check at a million transactions."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _check(txns, workload, consistency_models=consistency_models,
                      budget=budget, **options)
    finally:
        if collecting:
            gc.enable()


def _check(txns: Sequence[Txn], workload: str, *,
           consistency_models: Sequence[str] | None, budget: int,
           **options: Any) -> dict:
    t0 = time.perf_counter()
    cms = tuple(consistency_models or DEFAULT_MODELS)
    refusal = duplicate_writes(txns, workload)
    if refusal is not None:  # a precondition broken is said, not judged
        return {"valid": "unknown", "workload": workload, "consistency_models": list(cms),
                "reason": refusal["reason"], "anomaly_types": [refusal["type"]],
                "anomalies": {refusal["type"]: [refusal]}, "txns": len(txns), "edges": 0,
                "not": [], "also_not": [], "strongest_consistent": None,
                "weakest_violated": None, "explanations": [refusal["reason"]],
                "seconds": round(time.perf_counter() - t0, 6)}
    prohibited = models.prohibited(cms)
    reportable_types = prohibited | UNKNOWN_TYPES
    anomalies, an, g = analyse(
        txns, workload, budget=budget,
        realtime=bool(reportable_types & REALTIME_TYPES),
        process=bool(reportable_types & PROCESS_TYPES), **options)
    bad = {t for t in anomalies if t in prohibited}
    reportable = {t: v for t, v in anomalies.items() if t in reportable_types}
    reportable = _remove_redundant_cycle_exists(reportable)
    if not reportable:
        valid: Any = True
    else:
        valid = False if bad else "unknown"
    result: dict[str, Any] = {"valid": valid, "workload": workload,
                              "consistency_models": list(cms),
                              "anomaly_types": sorted(reportable),
                              "anomalies": reportable,
                              "txns": len(txns), "edges": g.edge_count()}
    if anomalies:
        result.update(models.boundary(anomalies))
    else:
        result.update({"not": [], "also_not": []})
    result.update(consistent_with(anomalies, cms))
    result["explanations"] = [describe_anomaly(t, case)
                              for t, cases in sorted(reportable.items())
                              for case in (cases[:3] if isinstance(cases, list)
                                           else [cases])]
    result["seconds"] = round(time.perf_counter() - t0, 6)
    return result


def _plain(x: Any) -> Any:
    if isinstance(x, Txn):
        return {"index": x.index, "process": x.process, "type": x.type,
                "region": x.region, "value": [list(m) if not isinstance(m[2], tuple)
                                              else [m[0], m[1], list(m[2])]
                                              for m in x.mops]}
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (set, frozenset)):
        return sorted((_plain(v) for v in x), key=repr)
    return x


def to_json(result: dict, *, max_cases: int = 20) -> dict:
    """The result with transactions as plain dicts and each anomaly list capped."""
    out = dict(result)
    out["anomalies"] = {t: (_plain(v[:max_cases]) if isinstance(v, list) else v)
                        for t, v in result.get("anomalies", {}).items()}
    return out
