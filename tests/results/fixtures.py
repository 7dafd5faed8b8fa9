"""Synthetic but realistic run directories, for developing and testing the report without
the emulator.

`make_run(store, seed=..., workload=..., mode=...)` simulates a run the way the suite
records one: client threads bound to the regions of a 3-region global table, each running
operations one after another (a thread whose operation crashed with `info` continues as a
fresh process id), a nemesis that isolates one region at a time and heals, and final reads
in every region after the last heal. Values come from a small model of the mode: MRSC is
linearizable (every operation takes effect at one instant inside its interval; an isolated
region's writes and SC reads fail), async applies writes locally and replicates them to
the other regions after a WAN lag with last-writer-wins (so remote reads are stale and
concurrent counter increments are lost, as in the talk's demo). Then it writes the
checker results such a history gets: valid ones, or (valid=False) a stale SC read under
MRSC with its linearizability counterexample, and the async modes' expected anomalies.

The results are computed here from the simulated truth, not by the real checkers (they
are being built in parallel); they follow the shapes in docs/CONVENTIONS.md. Everything
is deterministic from the seed.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import math
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from results.history import FAIL, INFO, INVOKE, NEMESIS, OK, Op, fault_periods, write_jsonl

REGIONS = ("us-east-1", "us-east-2", "us-west-2")
# One-way replication lag between regions (ms), as in SEMANTICS.md G3 at 1.0x.
LAG_MS = {("us-east-1", "us-east-2"): 20, ("us-east-2", "us-east-1"): 20,
          ("us-east-1", "us-west-2"): 60, ("us-west-2", "us-east-1"): 60,
          ("us-east-2", "us-west-2"): 50, ("us-west-2", "us-east-2"): 50}
MS = 1_000_000
S = 1_000_000_000


@dataclass
class _Planned:
    """One client operation before values are known: who, when, what, and its outcome."""

    thread: int
    process: int
    region: str
    f: str
    key: str
    start: int
    end: int
    outcome: str          # ok / fail / info
    consistent: bool | None = None
    value: Any = None     # invocation value (writes/adds), filled for reads later
    result: Any = None    # completion value (reads)
    error: str | None = None
    final: bool = False
    point: int = 0        # linearization instant (MRSC) / local apply time (async)
    index_invoke: int = -1
    index_complete: int = -1
    extra: dict = field(default_factory=dict)


def _lognormal_ms(rng: random.Random, median_ms: float) -> int:
    return int(median_ms * math.exp(rng.gauss(0, 0.35)) * MS)


def _isolated(periods: list[tuple[int, int, str]], region: str, t: int) -> bool:
    return any(s <= t < e and r == region for s, e, r in periods)


def make_run(store: str | Path, *, seed: int = 1, workload: str = "register",
             mode: str = "strong", valid: bool = True, n_ops: int = 600,
             keys: int = 4, threads_per_region: int = 2, duration_s: float = 30.0,
             name: str | None = None, nemesis: bool = True,
             extra_checker: bool = False, timestamp: str | None = None) -> Path:
    """Simulate a run and write `store/<name>/<timestamp>/` with test.json, history.jsonl and
    results.json; return the run directory."""
    if workload not in ("register", "counter"):
        raise ValueError(f"fixture workload must be register or counter, not {workload!r}")
    if mode not in ("strong", "async"):
        raise ValueError(f"fixture mode must be strong or async, not {mode!r}")
    rng = random.Random(seed)
    name = name or f"{workload}-{mode}"
    timestamp = timestamp or f"20261128T{8 + seed % 10:02d}{seed % 60:02d}{(seed * 7) % 60:02d}"
    run_dir = Path(store) / name / timestamp
    run_dir.mkdir(parents=True, exist_ok=True)
    duration = int(duration_s * S)
    threads = threads_per_region * len(REGIONS)
    key_names = [f"k{i}" for i in range(keys)]

    # Nemesis schedule: isolate one region for a while, heal, repeat.
    isolations: list[tuple[int, int, str]] = []
    if nemesis:
        t = int(duration * 0.15)
        while t < duration * 0.8:
            length = int(duration * rng.uniform(0.08, 0.15))
            isolations.append((t, t + length, rng.choice(REGIONS)))
            t += length + int(duration * rng.uniform(0.1, 0.2))

    # Plan client operations per thread.
    mean_latency_ms = 12.0 if mode == "async" else 45.0
    gap_ns = max(1, int(duration * threads / max(n_ops, 1) - mean_latency_ms * MS))
    planned: list[_Planned] = []
    per_thread = [n_ops // threads + (1 if i < n_ops % threads else 0) for i in range(threads)]
    next_write = 1
    for th in range(threads):
        region = REGIONS[th % len(REGIONS)]
        process = th
        t = rng.randrange(0, max(1, gap_ns))
        for _ in range(per_thread[th]):
            key = key_names[rng.randrange(keys)]
            if workload == "register":
                f = rng.choices(("read", "write"), (0.55, 0.45))[0]
            else:
                f = rng.choices(("read", "add"), (0.4, 0.6))[0]
            consistent = (rng.random() < 0.8) if f == "read" else None
            remote = mode == "strong" and (f != "read" or consistent)
            median = (45.0 if remote else 6.0) * (1.0 if region != "us-west-2" else 1.6)
            lat = _lognormal_ms(rng, median)
            outcome, error = OK, None
            isolated = _isolated(isolations, region, t)
            if mode == "strong" and remote and isolated:
                # M10: an isolated region serves no writes and no SC reads.
                if rng.random() < 0.6:
                    outcome, error, lat = FAIL, "InternalServerError", _lognormal_ms(rng, 4)
                else:
                    outcome, error, lat = INFO, "timeout", 1000 * MS
            elif rng.random() < 0.004:
                outcome, error = (INFO, "timeout") if rng.random() < 0.5 else (FAIL, "ThrottlingException")
            op = _Planned(thread=th, process=process, region=region, f=f, key=key,
                          start=t, end=t + lat, outcome=outcome, consistent=consistent,
                          error=error)
            if f == "write":
                op.value, next_write = next_write, next_write + 1
            elif f == "add":
                op.value = 1
            op.point = rng.randint(op.start, op.end)
            planned.append(op)
            if outcome == INFO:
                process += threads  # retired; the thread continues as a fresh process
            t = op.end + max(1, int(rng.expovariate(1.0 / gap_ns)))
        # Final reads after the heal, one per key, in this thread's region (first thread
        # of each region only).
        if th < len(REGIONS):
            t_final = max(duration + 2 * S, t)
            for key in key_names:
                lat = _lognormal_ms(rng, 45.0 if mode == "strong" else 6.0)
                op = _Planned(thread=th, process=process, region=region, f="read", key=key,
                              start=t_final, end=t_final + lat, outcome=OK, consistent=True,
                              final=True)
                op.point = rng.randint(op.start, op.end)
                planned.append(op)
                t_final = op.end + 5 * MS

    _assign_values(planned, mode, workload)

    anomalies_truth = None
    if mode == "strong" and not valid and workload == "register":
        anomalies_truth = _inject_stale_read(planned, rng)

    ops = _to_history(planned, isolations, duration)
    write_jsonl(run_dir / "history.jsonl", ops)

    test = {
        "name": name, "target": "emulator", "mode": mode, "workload": workload,
        "nemesis": ["isolate"] if nemesis else [], "regions": list(REGIONS), "witness": None,
        "seed": seed, "time_limit": duration_s, "concurrency": threads,
        "rate": round(n_ops / duration_s, 1), "keys": keys, "latency_scale": 1.0,
        "nemesis_interval": 10, "start_time": f"2026-11-28T{timestamp[9:11]}:{timestamp[11:13]}:{timestamp[13:15]}Z",
        "versions": {"gtcheck": "0.1.0", "python": "3.11", "boto3": "1.34"},
        "argv": ["gtcheck", "run", "--mode", mode, "--workload", workload, "--seed", str(seed)],
    }
    (run_dir / "test.json").write_text(json.dumps(test, indent=2))
    results = _results(planned, ops, test, anomalies_truth, valid, extra_checker)
    (run_dir / "results.json").write_text(json.dumps(results, indent=1))
    (run_dir / "emulator.log").write_text(f"emulator log for {name} seed {seed}\n")
    latest = Path(store) / "latest"
    if latest.is_symlink() or not latest.exists():
        if latest.is_symlink():
            latest.unlink()
        latest.symlink_to(run_dir.relative_to(Path(store)))
    return run_dir


def _assign_values(planned: list[_Planned], mode: str, workload: str) -> None:
    """Fill in what each read returned, from the mode's model of the table."""
    effective = [p for p in planned if p.outcome == OK or (p.outcome == INFO and p.f != "read")]
    effective.sort(key=lambda p: p.point)
    if mode == "strong":
        state: dict[str, Any] = {}
        for p in effective:
            if p.f == "write":
                state[p.key] = p.value
            elif p.f == "add":
                state[p.key] = state.get(p.key, 0) + p.value
            elif p.f == "read":
                p.result = state.get(p.key, None if workload == "register" else 0)
        return
    # Async: per region local item (value, timestamp, origin); replication events later.
    local: dict[tuple[str, str], tuple[Any, int, str]] = {}
    heap: list[tuple] = [(p.point, 1, n, p, None) for n, p in enumerate(effective)]
    heapq.heapify(heap)
    seq = len(heap)
    while heap:
        t, kind, _, p, repl = heapq.heappop(heap)
        if kind == 0:  # a replicated write arrives: last writer wins
            region, key, value, ts, origin = repl
            cur = local.get((region, key))
            if cur is None or (ts, origin) > (cur[1], cur[2]):
                local[(region, key)] = (value, ts, origin)
            continue
        cur = local.get((p.region, p.key))
        if p.f == "read":
            default = None if workload == "register" else 0
            p.result = cur[0] if cur else default
            continue
        value = p.value if p.f == "write" else (cur[0] if cur else 0) + p.value
        local[(p.region, p.key)] = (value, t, p.region)
        for other in REGIONS:
            if other != p.region:
                seq += 1
                heapq.heappush(heap, (t + LAG_MS[(p.region, other)] * MS, 0, seq, None,
                                      (other, p.key, value, t, p.region)))


def _inject_stale_read(planned: list[_Planned], rng: random.Random) -> dict:
    """Make one SC read return the value before the latest completed write (MRSC violation)."""
    writes = sorted((p for p in planned if p.f == "write" and p.outcome == OK),
                    key=lambda p: p.point)
    by_key: dict[str, list[_Planned]] = {}
    for w in writes:
        by_key.setdefault(w.key, []).append(w)
    candidates = []
    for p in planned:
        if p.f == "read" and p.consistent and p.outcome == OK and not p.final:
            ws = [w for w in by_key.get(p.key, []) if w.end < p.start]
            if len(ws) >= 2 and p.result == ws[-1].value:
                candidates.append((p, ws[-1], ws[-2]))
    read, latest, previous = candidates[len(candidates) // 2]
    read.result = previous.value
    return {"read": read, "latest": latest, "previous": previous}


def _to_history(planned: list[_Planned], isolations: list[tuple[int, int, str]],
                duration: int) -> list[Op]:
    events: list[tuple[int, int, Any]] = []
    for n, p in enumerate(planned):
        events.append((p.start, 0, ("client-invoke", p)))
        events.append((p.end, 1, ("client-complete", p)))
    for s, e, region in isolations:
        events.append((s, 0, ("nemesis", INVOKE, "isolate", {"region": region})))
        events.append((s + 2 * MS, 1, ("nemesis", OK, "isolate", {"region": region})))
        events.append((e, 0, ("nemesis", INVOKE, "heal", None)))
        events.append((e + 2 * MS, 1, ("nemesis", OK, "heal", None)))
    events.append((duration + S, 0, ("nemesis", INVOKE, "heal", None)))
    events.append((duration + S + 2 * MS, 1, ("nemesis", OK, "heal", None)))
    events.sort(key=lambda e: (e[0], e[1]))
    ops: list[Op] = []
    for t, _, ev in events:
        if ev[0] == "nemesis":
            _, type_, f, value = ev
            ops.append(Op(index=len(ops), time=t, type=type_, process=NEMESIS, f=f, value=value))
            continue
        kind, p = ev
        extra = {"final": True} if p.final else {}
        if kind == "client-invoke":
            p.index_invoke = len(ops)
            ops.append(Op(index=len(ops), time=t, type=INVOKE, process=p.process, f=p.f,
                          key=p.key, value=p.value if p.f != "read" else None,
                          region=p.region, consistent=p.consistent, extra=extra))
        else:
            p.index_complete = len(ops)
            value = p.result if p.f == "read" else p.value
            if p.outcome != OK and p.f == "read":
                value = None
            ops.append(Op(index=len(ops), time=t, type=p.outcome, process=p.process, f=p.f,
                          key=p.key, value=value, region=p.region, consistent=p.consistent,
                          error=p.error, extra=extra))
    return ops


def _quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    i = min(len(sorted_values) - 1, int(q * len(sorted_values)))
    return sorted_values[i]


def _latency_result(planned: list[_Planned]) -> dict:
    by: dict[str, dict[str, list[float]]] = {}
    for p in planned:
        if p.outcome == OK:
            by.setdefault(p.region, {}).setdefault(p.f, []).append((p.end - p.start) / MS)
    quantiles = {}
    for region, fs in by.items():
        quantiles[region] = {}
        for f, vals in fs.items():
            vals.sort()
            quantiles[region][f] = {"count": len(vals), "p50_ms": round(_quantile(vals, .5), 3),
                                    "p90_ms": round(_quantile(vals, .9), 3),
                                    "p99_ms": round(_quantile(vals, .99), 3),
                                    "max_ms": round(vals[-1], 3)}
    return {"valid": True, "quantiles": quantiles, "by_period": []}


def _availability_result(planned: list[_Planned], ops: list[Op], mode: str) -> dict:
    periods = fault_periods(ops)
    end = max(p.end for p in planned)
    cuts = sorted({0, end} | {p.start for p in periods} | {p.end for p in periods if p.end})
    regions: dict[str, list[dict]] = {}
    for region in REGIONS:
        rows = []
        for a, b in zip(cuts, cuts[1:]):
            fault = next((fp for fp in periods if fp.covers(a)), None)
            counts = {OK: 0, FAIL: 0, INFO: 0}
            for p in planned:
                if p.region == region and a <= p.start < b:
                    counts[p.outcome] += 1
            total = sum(counts.values())
            isolated_here = fault is not None and fault.value.get("region") == region
            rows.append({"start_s": round(a / S, 3), "end_s": round(b / S, 3),
                         "fault": fault.describe() if fault else None,
                         "ok": counts[OK], "fail": counts[FAIL], "info": counts[INFO],
                         "availability": round(counts[OK] / total, 4) if total else 1.0,
                         "expected_available": not (mode == "strong" and isolated_here)})
        regions[region] = rows
    return {"valid": True, "regions": regions}


def _results(planned: list[_Planned], ops: list[Op], test: dict, truth: dict | None,
             valid: bool, extra_checker: bool) -> dict:
    mode, workload = test["mode"], test["workload"]
    out: dict[str, Any] = {}
    if mode == "strong":
        if truth is None:
            out["linearizability"] = {"valid": True, "keys": test["keys"], "anomalies": [],
                                      "anomaly_counts": {}}
        else:
            out["linearizability"] = _linearizability_failure(planned, truth)
        if workload == "counter":
            out["counter"] = {"valid": True, "reads": sum(1 for p in planned if p.f == "read"),
                              "anomalies": [], "anomaly_counts": {}}
        out["ec-reads"] = {"valid": True, "anomalies": [], "anomaly_counts": {}}
    else:
        out["read-your-writes"] = {"valid": True, "anomalies": [], "anomaly_counts": {}}
        out["monotonic-reads"] = {"valid": valid, "anomalies": [], "anomaly_counts": {}}
        if not valid:
            bad = next(p for p in planned if p.f == "read" and p.outcome == OK and p.index_invoke > 10)
            a = {"kind": "non-monotonic-read", "expected": False, "key": bad.key,
                 "region": bad.region, "ops": [bad.index_invoke, bad.index_complete],
                 "explanation": f"SC read of {bad.key} in {bad.region} at "
                                f"{bad.start / S:.2f} s returned {bad.result}, an older "
                                "version than an earlier read in the same region saw"}
            out["monotonic-reads"].update(anomalies=[a], anomaly_counts={a["kind"]: 1})
        out["convergence"] = {"valid": True, "final": _final_values(planned)}
        stale = _stale_reads(planned)
        out["stale-reads"] = {"valid": True, "anomalies": stale[:50],
                              "anomaly_counts": {"stale-read": len(stale)} if stale else {}}
        if workload == "counter":
            acked = sum(p.value for p in planned if p.f == "add" and p.outcome == OK)
            finals = _final_values(planned)
            lost = []
            for key, per_region in finals.items():
                acked_k = sum(p.value for p in planned
                              if p.f == "add" and p.outcome == OK and p.key == key)
                final_v = next(iter(per_region.values()))
                if final_v < acked_k:
                    idx = [p.index_invoke for p in planned if p.key == key and p.final]
                    lost.append({"kind": "lost-increment", "expected": True, "key": key,
                                 "region": None, "ops": idx,
                                 "explanation": f"{acked_k} increments of {key} were "
                                                f"acknowledged but every region's final read "
                                                f"is {final_v}: {acked_k - final_v} were lost "
                                                "to last-writer-wins"})
            out["lost-increments"] = {"valid": True, "acknowledged": acked, "anomalies": lost,
                                      "anomaly_counts": {"lost-increment": len(lost)} if lost else {}}
    out["availability"] = _availability_result(planned, ops, mode)
    out["latency"] = _latency_result(planned)
    if extra_checker:
        out["custom-probe"] = {"valid": "unknown", "error": "probe timed out after 5 s",
                               "probes": 12, "anomalies": [
                                   {"kind": "odd-thing", "expected": False, "key": "k0",
                                    "region": "us-east-1", "ops": [1],
                                    "explanation": "a probe saw something odd"}],
                               "anomaly_counts": {"odd-thing": 1}}
    from checkers.core import merge_valid
    return {"valid": merge_valid([r["valid"] for r in out.values()]), **out}


def _final_values(planned: list[_Planned]) -> dict:
    final: dict[str, dict[str, Any]] = {}
    for p in planned:
        if p.final:
            final.setdefault(p.key, {})[p.region] = p.result
    return final


def _stale_reads(planned: list[_Planned]) -> list[dict]:
    """Async SC reads that missed a write acknowledged elsewhere before the read began."""
    writes = sorted((p for p in planned if p.f in ("write", "add") and p.outcome == OK),
                    key=lambda p: p.end)
    out = []
    last_by_key: dict[str, _Planned] = {}
    reads = sorted((p for p in planned if p.f == "read" and p.outcome == OK and p.consistent
                    and not p.final), key=lambda p: p.start)
    wi = 0
    for r in reads:
        while wi < len(writes) and writes[wi].end < r.start:
            last_by_key[writes[wi].key] = writes[wi]
            wi += 1
        w = last_by_key.get(r.key)
        if w is None or w.region == r.region or w.f != "write" or r.result == w.value:
            continue
        out.append({"kind": "stale-read", "expected": True, "key": r.key, "region": r.region,
                    "ops": [r.index_invoke, r.index_complete, w.index_invoke, w.index_complete],
                    "explanation": f"SC read of {r.key} in {r.region} at {r.start / S:.2f} s "
                                   f"returned {r.result}, but write {w.value} was acknowledged "
                                   f"in {w.region} at {w.end / S:.2f} s before the read began"})
    return out


def _linearizability_failure(planned: list[_Planned], truth: dict) -> dict:
    read, latest, previous = truth["read"], truth["latest"], truth["previous"]
    same_key = [p for p in planned if p.key == read.key and p.outcome != FAIL
                and (p.f == "write" or p.consistent)]
    prefix = sorted((p for p in same_key if p.point < read.start and p is not read),
                    key=lambda p: p.point)
    concurrent = [p.index_invoke for p in same_key
                  if p is not read and p.start < read.end and p.end > read.start]
    explanation = (f"SC read of {read.key} in {read.region} at {read.start / S:.2f} s returned "
                   f"{read.result}, but write {latest.value} was acknowledged in "
                   f"{latest.region} at {latest.end / S:.2f} s before the read began")
    anomaly = {"kind": "stale-read", "expected": False, "key": read.key, "region": read.region,
               "ops": [read.index_invoke, read.index_complete, latest.index_invoke,
                       latest.index_complete],
               "explanation": explanation}
    return {"valid": False, "keys": len({p.key for p in planned}), "failed_keys": [read.key],
            "counterexample": {"key": read.key, "op": read.index_invoke,
                               "prefix": [p.index_invoke for p in prefix],
                               "states": [f"register = {latest.value}"],
                               "concurrent": concurrent},
            "anomalies": [anomaly], "anomaly_counts": {"stale-read": 1}}


@contextlib.contextmanager
def serving(store: str | Path) -> Iterator[Any]:
    """`results.serve` over `store` on 127.0.0.1 (a free port) in a thread, for a test."""
    from results.serve import make_server
    srv = make_server(store, "127.0.0.1", 0, access_log=False)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)
