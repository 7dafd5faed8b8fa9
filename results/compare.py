"""Two runs side by side: `gtcheck report --compare RUN_A RUN_B`.

The talk's central comparison is async (MREC) against MRSC on the same workload and
faults: which promises hold in each, which anomalies each shows, and what strong
consistency costs in latency per region. `compare_runs` gathers exactly that from the two
run directories, as data: configuration, the verdict per checker, anomaly counts per kind,
and latency quantiles per region and operation. Quantiles come from each run's `latency`
checker; a run without one gets them derived from its history (and the page says so).
`write_compare` renders the data as one self-contained HTML page; `compare_text` as a
terminal table.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from results.history import NEMESIS, pair
from results.report._promises import promise_for, verdict_words
from results.report._view import promise_verdict
from results.report._render import render
from results.report._run import Run, load_run

QUANTILES = ("p50_ms", "p90_ms", "p99_ms", "max_ms")
# The target and the planted bugs first: the two differences that matter most (issue 25).
CONFIG_KEYS = ("target", "emulator_bugs", "name", "mode", "workload", "nemesis", "regions",
               "witness", "seed",
               "time_limit", "concurrency", "rate", "keys", "latency_scale", "start_time")


def _quantile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def derived_latency(run: Run) -> dict:
    """Latency quantiles per region and f of the run's successful client operations."""
    by: dict[str, dict[str, list[float]]] = {}
    for p in pair(run.ops or []):
        if p.invoke.process == NEMESIS or p.type != "ok" or p.complete is None:
            continue
        by.setdefault(p.invoke.region or "?", {}).setdefault(p.invoke.f, []).append(
            (p.complete.time - p.invoke.time) / 1e6)
    out: dict[str, dict] = {}
    for region, fs in by.items():
        for f, vals in fs.items():
            vals.sort()
            out.setdefault(region, {})[f] = {
                "count": len(vals), "p50_ms": round(_quantile(vals, .5), 3),
                "p90_ms": round(_quantile(vals, .9), 3), "p99_ms": round(_quantile(vals, .99), 3),
                "max_ms": round(vals[-1], 3)}
    return out


def _latency_of(run: Run) -> tuple[dict, str]:
    lat = run.checkers.get("latency")
    q = lat.get("quantiles") if isinstance(lat, dict) else None
    if isinstance(q, dict) and q:
        return q, "the latency checker"
    if run.ops:
        return derived_latency(run), "derived from the history"
    return {}, "not available"


def _anomaly_counts(run: Run) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in run.checkers.values():
        c = r.get("anomaly_counts")
        if isinstance(c, dict):
            for kind, n in c.items():
                if isinstance(n, int):
                    counts[kind] = counts.get(kind, 0) + n
    return counts


def _fmt(v: Any) -> str:
    if isinstance(v, list):
        return ", ".join(map(str, v)) or "none"
    return "none" if v is None else str(v)


def compare_runs(run_a: str | os.PathLike, run_b: str | os.PathLike) -> dict:
    """The comparison as data (BadInput if either is not a run directory)."""
    runs = [load_run(run_a), load_run(run_b)]
    tests = [r.test or {} for r in runs]
    config = [{"key": k, "a": _fmt(tests[0].get(k)), "b": _fmt(tests[1].get(k)),
               "differs": tests[0].get(k) != tests[1].get(k)}
              for k in CONFIG_KEYS if k in tests[0] or k in tests[1]]
    names = list(dict.fromkeys([*runs[0].checkers, *runs[1].checkers]))
    verdicts = []
    for name in names:
        cells = []
        for r in runs:
            res = r.checkers.get(name)
            # The single report's words: an allowed anomaly is "reported", figures are
            # "recorded" -- never "held" beside a non-zero count.
            cls, word, counts = promise_verdict(name, res) if res else ("none", "not run", "")
            cells.append({"cls": cls, "word": word, "counts": counts})
        p = promise_for(name)
        verdicts.append({"checker": name, "title": p.title if p else name,
                         "a": cells[0], "b": cells[1]})
    counts = [_anomaly_counts(r) for r in runs]
    anomalies = [{"kind": k, "a": counts[0].get(k, 0), "b": counts[1].get(k, 0)}
                 for k in sorted(set(counts[0]) | set(counts[1]))]
    lat = [_latency_of(r) for r in runs]
    latency = []
    regions = list(dict.fromkeys([*(tests[0].get("regions") or []),
                                  *(tests[1].get("regions") or []), *lat[0][0], *lat[1][0]]))
    for region in regions:
        fs = sorted(set(lat[0][0].get(region, {})) | set(lat[1][0].get(region, {})))
        for f in fs:
            a = lat[0][0].get(region, {}).get(f) or {}
            b = lat[1][0].get(region, {}).get(f) or {}
            row = {"region": region, "f": f, "a": a, "b": b, "ratio": {}}
            for q in QUANTILES:
                if isinstance(a.get(q), (int, float)) and isinstance(b.get(q), (int, float)) \
                        and a[q] > 0:
                    row["ratio"][q] = round(b[q] / a[q], 2)
            latency.append(row)
    summary = []
    for r, t in zip(runs, tests):
        cls, _ = verdict_words(r.valid) if r.valid is not None else ("unknown", "")
        word = {"valid": "valid", "invalid": "invalid"}.get(cls, "unknown") \
            if r.valid is not None else "no verdict"
        run_info = (r.results or {}).get("run") or {}
        if run_info.get("setup_error"):
            word = "set-up failed"
        elif (r.results or {}).get("reason") and cls == "unknown":
            word = f"unknown ({r.results['reason']})"
        summary.append({"path": str(r.path), "name": r.name, "mode": t.get("mode") or "",
                        "target": t.get("target") or "unknown",
                        "bugs": ", ".join(map(str, t.get("emulator_bugs") or [])) or "none",
                        "verdict_cls": cls, "verdict_word": word, "problems": r.problems,
                        "rel": r.path.name})
    return {"runs": summary, "config": config, "verdicts": verdicts, "anomalies": anomalies,
            "latency": latency, "latency_source": [lat[0][1], lat[1][1]],
            "quantiles": QUANTILES}


def write_compare(run_a: str | os.PathLike, run_b: str | os.PathLike,
                  out: str | os.PathLike) -> Path:
    data = compare_runs(run_a, run_b)
    path = Path(out)
    path.write_text(render("compare.html.j2", **data), encoding="utf-8")
    return path


def compare_text(data: dict) -> str:
    """The comparison as a plain-text table for the terminal."""
    a, b = data["runs"]
    def head(label: str, r: dict) -> str:
        return (f"{label}: {r['path']} ({r['mode']}; target {r['target']}; planted bugs: "
                f"{r['bugs']}) -> {r['verdict_word']}")
    lines = [head("A", a), head("B", b), "", "Verdicts:"]
    w = max([len(v["title"]) for v in data["verdicts"]] + [8])
    def said(c: dict) -> str:
        return c["word"] + (f" ({c['counts']})" if c.get("counts") else "")
    wa = max([len(said(v["a"])) for v in data["verdicts"]] + [12])
    for v in data["verdicts"]:
        lines.append(f"  {v['title']:<{w}}  A {said(v['a']):<{wa}} B {said(v['b'])}")
    lines.append("Anomalies:")
    for r in data["anomalies"] or [{"kind": "(none)", "a": 0, "b": 0}]:
        lines.append(f"  {r['kind']:<{w}}  A {r['a']:<12} B {r['b']}")
    lines.append(f"Latency p50 / p99 ms (A: {data['latency_source'][0]}; "
                 f"B: {data['latency_source'][1]}):")
    for r in data["latency"]:
        def cell(d: dict) -> str:
            return (f"{d.get('p50_ms', '-')} / {d.get('p99_ms', '-')}" if d else "-")
        lines.append(f"  {r['region']:<14} {r['f']:<6}  A {cell(r['a']):<20} B {cell(r['b'])}")
    return "\n".join(lines)
