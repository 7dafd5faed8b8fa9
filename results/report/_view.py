"""From a loaded run to what the report page shows: the view model and the inlined data.

Two products. `view_model(run)` is the data the Jinja template renders as HTML: the
verdict per promise in plain words, the configuration, every anomaly with its operations
as links, the counterexample's text parts, the checkers' latency and availability tables,
and any other checker data generically. `page_data(run)` is the history in a compact
columnar form (times in microseconds, small integer codes for operation names, keys and
types) that the page's script draws from: the virtualised timeline, the latency /
throughput / availability / counter plots, and the counterexample diagram. Nothing here
judges the history: verdicts and anomalies come from results.json as recorded.
"""

from __future__ import annotations

import heapq
import json
from typing import Any, Iterable, Mapping

from checkers.anomalies import EVIDENCE_KINDS
from checkers.availability import ANSWERED_ERRORS
from checkers.core import counts as counts_toward_verdict
from results.history import INFO, NEMESIS, Op, Pair, fault_periods, pair
from results.report._promises import (MODE_NAMES, Promise, headline, promise_for,
                                      verdict_words)
from results.report._run import Run

ANOMALIES_SHOWN_PER_KIND = 100   # the rest stay in results.json; the page says how many
VALUE_CHARS_MAX = 40
CX_OPS_MAX = 400                 # operations drawn in the counterexample diagram
CX_PREFIX_TAIL = 12              # how many of the prefix's last operations to draw
COUNTEREXAMPLES_SHOWN = 20       # keys whose counterexample is drawn (the checker's cap)
TYPE_CODES = {"ok": 0, "fail": 1, "info": 2}   # 3 = never completed
RESERVED_KEYS = {"valid", "anomalies", "anomaly_counts", "counterexample", "counterexamples",
                 "error",
                 "traceback", "seconds", "grid", "text"}
CONFIG_ORDER = ("name", "target", "mode", "workload", "nemesis", "regions", "witness", "seed",
                "time_limit", "concurrency", "rate", "keys", "latency_scale",
                "nemesis_interval", "start_time", "versions", "argv")


def _short(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is int:   # the common case, by far: skip json for it
        return str(value)
    s = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"),
                                                        default=str)
    return s if len(s) <= VALUE_CHARS_MAX else s[:VALUE_CHARS_MAX - 1] + "…"


def _config_value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if value is None:
        return "none"
    return str(value)


class HistoryIndex:
    """Pairs of a history and the way from any op index (invoke or completion) to its pair."""

    def __init__(self, ops: list[Op] | None):
        # by start time: the timeline's window search relies on it, and a history merged
        # from several workers need not be in time order
        self.pairs: list[Pair] = sorted(pair(ops), key=lambda p: (p.invoke.time, p.invoke.index)) \
            if ops else []
        self.by_index: dict[int, int] = {}
        for n, p in enumerate(self.pairs):
            self.by_index[p.invoke.index] = n
            if p.complete is not None:
                self.by_index[p.complete.index] = n

    def distinct(self, indices: Iterable[int]) -> list[int]:
        """The indices with an invocation and its completion collapsed into one (the
        invocation's), in their first order."""
        seen: set[Any] = set()
        out = []
        for i in indices:
            n = self.by_index.get(i)
            rep = self.pairs[n].invoke.index if n is not None else i
            if rep not in seen:
                seen.add(rep)
                out.append(rep)
        return out

    def label(self, index: int) -> str:
        n = self.by_index.get(index)
        if n is None:
            return f"#{index}"
        p = self.pairs[n]
        inv = p.invoke
        what = [f"#{inv.index}", inv.f]
        if inv.key is not None:
            what.append(str(inv.key))
        if inv.process == NEMESIS:
            what.append(_short(inv.value))
        else:
            if inv.region:
                what.append(f"in {inv.region}")
            value = p.value
            if value is not None:
                what.append(("→ " if inv.f == "read" else "") + _short(value))
            what.append(f"({p.type})")
        return " ".join(what)


# --- the view model -----------------------------------------------------------------

def _counts_text(counts: Mapping[str, Any] | None) -> str:
    if not counts:
        return ""
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))


def _generic_explanation(a: Mapping[str, Any], hist: HistoryIndex) -> str:
    parts = [str(a.get("kind", "anomaly"))]
    if a.get("key") is not None:
        parts.append(f"on {a['key']}")
    if a.get("region"):
        parts.append(f"in {a['region']}")
    ops = a.get("ops") or []
    if ops:
        parts.append("involving " + "; ".join(hist.label(i) for i in ops[:4]))
    return " ".join(parts)


def _anomaly_groups(checkers: Mapping[str, dict], hist: HistoryIndex) -> list[dict]:
    groups: dict[tuple[str, str], dict] = {}
    for name, result in checkers.items():
        anomalies = result.get("anomalies")
        if not isinstance(anomalies, list):
            continue
        counts = result.get("anomaly_counts") if isinstance(result.get("anomaly_counts"),
                                                             dict) else {}
        for a in anomalies:
            if not isinstance(a, dict):
                continue
            kind = str(a.get("kind", "anomaly"))
            g = groups.setdefault((name, kind), {
                "checker": name, "kind": kind, "expected": bool(a.get("expected")),
                "evidence": bool(a.get("expected")) and kind in EVIDENCE_KINDS,
                "items": [], "listed": 0, "total": counts.get(kind)})
            g["listed"] += 1
            if len(g["items"]) >= ANOMALIES_SHOWN_PER_KIND:
                continue
            ops = hist.distinct([i for i in (a.get("ops") or []) if isinstance(i, int)])
            g["items"].append({
                "explanation": a.get("explanation") or _generic_explanation(a, hist),
                "key": a.get("key"), "region": a.get("region"),
                "ops": [{"index": i, "label": hist.label(i)} for i in ops],
            })
    out = []
    for g in groups.values():
        by_region: dict[str, int] = {}
        for a in g["items"]:
            if a["region"]:
                by_region[a["region"]] = by_region.get(a["region"], 0) + 1
        g["regions"] = ", ".join(f"{r} {n}" for r, n in sorted(by_region.items()))
        total = g["total"] if isinstance(g["total"], int) else g["listed"]
        g["total"] = max(total, g["listed"])
        g["more"] = g["total"] - len(g["items"])
        out.append(g)
    # Violations first, then allowed anomalies; most frequent first.
    out.sort(key=lambda g: (g["expected"], -g["total"], g["checker"], g["kind"]))
    return out


def promise_verdict(name: str, result: Mapping[str, Any]) -> tuple[str, str, str]:
    """(css class, word, counts text) for one checker's result, as the report and the
    console both say it: held / BROKEN / undecided for a promise; for an informational
    checker (allowed anomalies, figures) "reported" with its counts, "none seen" or
    "recorded" -- never a bare True that reads like an alarm."""
    promise: Promise | None = promise_for(name)
    if not counts_toward_verdict(result):  # nothing to judge: neither held nor undecided
        why = str(result.get("reason") or "")
        return "notjudged", "not judged", why.removeprefix("not judged: ")
    cls, word = verdict_words(result.get("valid"))
    counts = result.get("anomaly_counts") if isinstance(result.get("anomaly_counts"),
                                                         dict) else {}
    counts = {k: v for k, v in counts.items() if v}
    if promise and promise.informational and result.get("valid") is True:
        if counts and set(counts) <= EVIDENCE_KINDS:
            word, cls = "held", "valid"   # observations of the promise at work
        elif counts:
            word, cls = "reported", "info"
        else:
            word = "none seen" if "anomalies" in result else "recorded"
            cls = "valid"
    text = _counts_text(counts)
    if isinstance(result.get("judged_periods"), int):  # availability: what was judged
        judged = (f"periods judged: {result['judged_periods']}, not judged: "
                  f"{result.get('not_judged_periods', 0)}")
        text = f"{text}; {judged}" if text else judged
    rounds = result.get("final_rounds")
    if isinstance(rounds, int) and not isinstance(rounds, bool) and rounds > 1:
        # final reads in rounds (suite/final_rounds.py): say which round was judged
        judged = (f"judged on final round {rounds}: rounds 1-{rounds - 1} were read while "
                  f"the regions still disagreed")
        text = f"{text}; {judged}" if text else judged
    return cls, word, text


def _promise_rows(checkers: Mapping[str, dict], mode: str | None) -> list[dict]:
    rows = []
    for name, result in checkers.items():
        promise: Promise | None = promise_for(name)
        cls, word, counts = promise_verdict(name, result)
        rows.append({
            "name": name, "title": promise.title if promise else name,
            "text": promise.text_for(mode) if promise else
            "A checker this report does not know; its data is shown below as recorded.",
            "known": promise is not None, "cls": cls, "word": word,
            "counts": counts, "error": result.get("error"),
        })
    order = {"invalid": 0, "unknown": 1, "info": 2, "valid": 3}
    rows.sort(key=lambda r: order.get(r["cls"], 4))
    return rows


def _raw_counterexamples(result: Mapping[str, Any]) -> list[dict]:
    """A checker result's counterexamples, one per non-linearizable key: its
    `counterexamples` list, else its unexpected anomalies' own `counterexample`s (the
    set checker's), else its single `counterexample`."""
    listed = result.get("counterexamples")
    if isinstance(listed, list) and any(isinstance(c, dict) for c in listed):
        return [c for c in listed if isinstance(c, dict)]
    anomalies = result.get("anomalies")
    own = [a["counterexample"] for a in anomalies if isinstance(a, dict)
           and not a.get("expected") and isinstance(a.get("counterexample"), dict)
           ] if isinstance(anomalies, list) else []
    if own:
        return own
    cx = result.get("counterexample")
    return [cx] if isinstance(cx, dict) else []


def _invalid_key_count(result: Mapping[str, Any]) -> int:
    for where in (result, result.get("linearizability")):
        keys = where.get("invalid_keys") if isinstance(where, Mapping) else None
        if isinstance(keys, list):
            return len(keys)
    return 0


def _counterexamples(checkers: Mapping[str, dict], hist: HistoryIndex) -> dict:
    """The counterexamples of the first checker that has any, each as the template shows
    it (with `raw`, what the diagram is drawn from), and how many keys were left out."""
    for name, result in checkers.items():
        raws = _raw_counterexamples(result)
        if not raws:
            continue
        shown = raws[:COUNTEREXAMPLES_SHOWN]
        items = [_counterexample_view(name, cx, hist, n) for n, cx in enumerate(shown)]
        omitted = max(_invalid_key_count(result), len(raws)) - len(shown)
        return {"items": items, "omitted": omitted}
    return {"items": [], "omitted": 0}


def _counterexample_view(name: str, cx: Mapping[str, Any], hist: HistoryIndex,
                         n: int) -> dict:
    op = cx.get("op")
    prefix = [i for i in (cx.get("prefix") or []) if isinstance(i, int)]
    concurrent = [i for i in (cx.get("concurrent") or []) if isinstance(i, int)]
    states = cx.get("states") or []
    return {
        "checker": name, "key": cx.get("key"), "n": n,
        "anchor": "counterexample" if n == 0 else f"counterexample-{n + 1}",
        "op_label": hist.label(op) if isinstance(op, int) else "unknown operation",
        "op_index": op if isinstance(op, int) else None,
        "states": [s if isinstance(s, str) else _short(s) for s in states],
        "prefix_len": len(prefix),
        "prefix_tail": [{"index": i, "label": hist.label(i)}
                        for i in prefix[-CX_PREFIX_TAIL:]],
        "concurrent": [{"index": i, "label": hist.label(i)}
                       for i in hist.distinct(concurrent)],
        "drawable": bool(hist.pairs) and isinstance(op, int) and op in hist.by_index,
        "raw": {"op": op, "prefix": prefix, "concurrent": concurrent},
    }


def _latency_rows(checkers: Mapping[str, dict]) -> list[dict]:
    lat = checkers.get("latency")
    q = lat.get("quantiles") if isinstance(lat, dict) else None
    rows = []
    if isinstance(q, dict):
        for region, fs in sorted(q.items()):
            if not isinstance(fs, dict):
                continue
            for f, s in sorted(fs.items()):
                if isinstance(s, dict):
                    rows.append({"region": region, "f": f, **{k: s.get(k) for k in (
                        "count", "p50_ms", "p90_ms", "p99_ms", "max_ms")}})
    return rows


def _availability_rows(checkers: Mapping[str, dict]) -> list[dict]:
    av = checkers.get("availability")
    regions = av.get("regions") if isinstance(av, dict) else None
    rows = []
    if isinstance(regions, dict):
        for region, periods in sorted(regions.items()):
            for p in periods if isinstance(periods, list) else []:
                if not isinstance(p, dict):
                    continue
                a = p.get("availability")
                expected = p.get("expected_available")
                verdict = p.get("verdict")  # the checker's word for the row, when given
                if verdict is None:  # results written before rows carried a verdict
                    ok_promise = (a is None or expected is None
                                  or (expected and a >= 0.5) or not expected)
                    flag = "" if ok_promise else "unavailable"
                else:
                    flag = {"unavailable": "unavailable",
                            "not judged": "notjudged"}.get(verdict, "")
                judged_text = ("" if verdict is None else
                               f"not judged ({p['not_judged']})" if p.get("not_judged")
                               else str(verdict))
                rows.append({"region": region,
                             **{k: p.get(k) for k in ("start_s", "end_s", "fault", "ok",
                                                      "answered", "fail", "info",
                                                      "expected_available")},
                             "pct": f"{a * 100:.1f} %" if isinstance(a, (int, float)) else "",
                             "flag": flag, "judged": judged_text})
    return rows


def _other_data(checkers: Mapping[str, dict]) -> list[dict]:
    out = []
    for name, result in checkers.items():
        if name in ("latency", "availability"):
            extra = {k: v for k, v in result.items()
                     if k not in RESERVED_KEYS and k not in ("quantiles", "regions")}
        else:
            extra = {k: v for k, v in result.items() if k not in RESERVED_KEYS}
        rows = []
        for k, v in extra.items():
            text = v if isinstance(v, str) else json.dumps(v, default=str)
            if len(text) > 4000:
                text = text[:4000] + f"… ({len(text)} characters; see results.json)"
            rows.append({"key": k, "value": text})
        if rows or result.get("error"):
            out.append({"name": name, "rows": rows, "error": result.get("error"),
                        "known": promise_for(name) is not None})
    return out


def _run_notes(run_info: Mapping[str, Any], reason: Any, valid: Any = None) -> list[dict]:
    """How the run went, from results.json's `run`: why the verdict is what it is when
    the run decided it (interrupted, target gone), the counts, warnings and every error
    of the run and its after-run phase (version collection, teardown, table deletion)."""
    from results.counts import counts_text, rate_warning
    notes = []
    if isinstance(reason, str) and not run_info.get("setup_error"):
        notes.append({"cls": "invalid", "text": f"Invalid, and {reason}."} if valid is False
                     else {"cls": "unknown", "text": f"Verdict unknown: {reason}."})
    if "ops" in run_info and "ok" in run_info and not run_info.get("setup_error"):
        notes.append({"cls": "", "text": f"Operations: {counts_text(run_info)}, of which "
                      f"{run_info.get('timeouts', 0)} timed out "
                      "(condition-failed and conflict are answers on the request's merits, "
                      "not failures)."})
    warning = rate_warning(run_info)
    if warning:
        notes.append({"cls": "unknown", "text": f"Warning: {warning}."})
    for e in run_info.get("errors") or []:
        notes.append({"cls": "invalid", "text": f"Error: {e}"})
    return notes


def _grids(checkers: Mapping[str, dict]) -> list[dict]:
    """Tables a checker hands over ready to draw (`"grid": {"header", "rows"}`, e.g. the
    talk's demo table), with its notes, drawn as HTML tables."""
    out = []
    for name, result in checkers.items():
        g = result.get("grid")
        if isinstance(g, dict) and isinstance(g.get("header"), list) and \
                isinstance(g.get("rows"), list):
            promise = promise_for(name)
            out.append({"checker": name, "title": promise.title if promise else name,
                        "header": [str(h) for h in g["header"]],
                        "rows": [[str(c) for c in row] for row in g["rows"]
                                 if isinstance(row, list)],
                        "notes": [str(n) for n in result.get("notes") or []]})
    return out


def _elle_cycles(checkers: Mapping[str, dict]) -> list[dict]:
    """Cycles found by the transactional checkers, laid out (checkers/elle/draw.py)."""
    from checkers.elle.draw import cycle_figures
    return cycle_figures(checkers)


def view_model(run: Run, hist: HistoryIndex) -> dict:
    checkers = run.checkers
    test = run.test or {}
    run_info = (run.results or {}).get("run")
    run_info = run_info if isinstance(run_info, dict) else {}
    setup_error = run_info.get("setup_error")
    rows = _promise_rows(checkers, test.get("mode"))
    broken = [r["title"] for r in rows if r["cls"] == "invalid"]
    undecided = [r["title"] for r in rows if r["cls"] == "unknown"]
    config = [(k, _config_value(test[k])) for k in CONFIG_ORDER if k in test]
    config += [(k, _config_value(v)) for k, v in test.items() if k not in CONFIG_ORDER]
    cls, word = verdict_words(run.valid) if run.valid is not None else ("unknown", "no verdict")
    cxs = _counterexamples(checkers, hist)
    return {
        "name": run.name, "run_path": str(run.path),
        "mode": test.get("mode"), "mode_words": MODE_NAMES.get(test.get("mode") or "", ""),
        "workload": test.get("workload"),
        "verdict_cls": cls, "verdict_word": word,
        "headline": (f"Set-up failed: no verdict. {setup_error}" if setup_error else
                     headline(run.valid, test.get("mode"), broken, undecided,
                              (run.results or {}).get("reason"))),
        "setup_error": setup_error,
        "run_notes": _run_notes(run_info, (run.results or {}).get("reason"), run.valid),
        "problems": run.problems, "config": config, "promises": rows,
        "anomaly_groups": _anomaly_groups(checkers, hist),
        "counterexample": cxs["items"][0] if cxs["items"] else None,
        "counterexamples": cxs["items"], "counterexamples_omitted": cxs["omitted"],
        "cx_anchors": {str(c["key"]): c["anchor"] for c in cxs["items"]},
        "latency_rows": _latency_rows(checkers),
        "availability_rows": _availability_rows(checkers),
        "other_data": _other_data(checkers),
        "grids": _grids(checkers),
        "elle_cycles": _elle_cycles(checkers),
        "has_history": bool(hist.pairs), "n_ops": len(run.ops or []),
        "n_pairs": len(hist.pairs), "logs": run.logs,
    }


# --- the inlined data ----------------------------------------------------------------

def _pack_lanes(pairs: Iterable[tuple[int, Pair]], region_order: list[str]) -> tuple[
        dict[Any, int], list[dict]]:
    """Give every client process a lane: per region, processes whose lifetimes do not
    overlap share a lane (a thread that continued under a fresh process id after an
    `info` keeps its row), so the timeline has about one row per client thread."""
    life: dict[Any, list] = {}
    for _, p in pairs:
        proc = p.invoke.process
        end = p.complete.time if p.complete is not None else None
        if proc not in life:
            life[proc] = [p.invoke.region or "?", p.invoke.time, end]
        else:
            life[proc][2] = end   # a process's operations are sequential: the last one ends it
    regions = sorted({rec[0] for rec in life.values()},
                     key=lambda r: (region_order.index(r) if r in region_order else 99, r))
    lane_of: dict[Any, int] = {}
    lanes: list[dict] = []
    for region in regions:
        procs = sorted((rec[1], str(proc), proc) for proc, rec in life.items()
                       if rec[0] == region)
        free: list[tuple[int, int]] = []   # (free from time, lane)
        for start, _, proc in procs:
            if free and free[0][0] <= start:
                _, lane = heapq.heappop(free)
            else:
                lane = len(lanes)
                lanes.append({"region": region, "procs": []})
            lane_of[proc] = lane
            lanes[lane]["procs"].append(proc)
            end = life[proc][2]
            heapq.heappush(free, (end if end is not None else 1 << 62, lane))
    return lane_of, lanes


def page_data(run: Run, hist: HistoryIndex, anomaly_ops: Iterable[int],
              cxs: list[dict], *, allowed_ops: Iterable[int] = ()) -> dict:
    """The page's data: the history as columns, faults, and the operations of the
    reported violations (`anomaly_ops`) and of the anomalies the mode allows
    (`allowed_ops`), which the timeline outlines in two styles (issue 25)."""
    test = run.test or {}
    region_order = [r for r in (test.get("regions") or []) if isinstance(r, str)]
    pairs = hist.pairs
    client = [(n, p) for n, p in enumerate(pairs) if p.invoke.process != NEMESIS]
    lane_of, lanes = _pack_lanes(client, region_order)
    nemesis_lane = len(lanes)
    has_nemesis = any(p.invoke.process == NEMESIS for p in pairs)
    if has_nemesis:
        lanes.append({"region": "nemesis", "procs": ["nemesis"]})
    t_end = max((op.time for op in run.ops or []), default=0)
    fs: dict[str, int] = {}
    keys: dict[str, int] = {}
    errors: dict[str, int] = {}
    cols: dict[str, list] = {c: [] for c in ("t0", "d", "lane", "f", "ty", "k", "p", "i",
                                             "c", "v", "cs", "er")}
    t0s, ds, lane_col, f_col, ty_col, k_col, p_col, i_col, c_col, v_col, cs_col, er_col = (
        cols[c] for c in ("t0", "d", "lane", "f", "ty", "k", "p", "i", "c", "v", "cs", "er"))
    for p in pairs:   # hot loop at 100,000+ operations: plain appends, no helpers
        inv, comp = p.invoke, p.complete
        nemesis = inv.process == NEMESIS
        t0s.append(inv.time // 1000)
        lane_col.append(nemesis_lane if nemesis else lane_of[inv.process])
        f = fs.get(inv.f)
        if f is None:
            f = fs[inv.f] = len(fs)
        f_col.append(f)
        key = "" if inv.key is None else str(inv.key)
        k = keys.get(key)
        if k is None:
            k = keys[key] = len(keys)
        k_col.append(k)
        p_col.append(-1 if nemesis else inv.process)
        i_col.append(inv.index)
        cs_col.append(-1 if inv.consistent is None else int(bool(inv.consistent)))
        if comp is None:
            ds.append(-1)
            ty_col.append(3)
            c_col.append(-1)
            er_col.append(-1)
            v_col.append(_short(inv.value))
            continue
        ds.append((comp.time - inv.time) // 1000)
        ty_col.append(TYPE_CODES.get(comp.type, 3))
        c_col.append(comp.index)
        if comp.error is None:
            er_col.append(-1)
        else:
            e = errors.get(str(comp.error))
            if e is None:
                e = errors[str(comp.error)] = len(errors)
            er_col.append(e)
        if nemesis:
            value = inv.value
        elif comp.type != "ok" and inv.f == "read":
            value = None
        else:
            value = comp.value if comp.value is not None else inv.value
        v_col.append(_short(value))
    faults = []
    for fp in fault_periods(run.ops or []):
        target = fp.value.get("region") if isinstance(fp.value, Mapping) else None
        faults.append({"s": fp.start // 1000, "e": None if fp.end is None else fp.end // 1000,
                       "label": fp.describe(), "region": target, "f": fp.f})
    final_pairs = [n for n, p in client if p.invoke.extra.get("final")]
    violating = {i for i in anomaly_ops if isinstance(i, int)}
    drawings = [_cx_drawing(hist, cx) for cx in cxs]
    return {
        **cols, "fs": list(fs), "keys": list(keys), "errors": list(errors), "lanes": lanes,
        "answered": [i for i, e in enumerate(errors) if e in ANSWERED_ERRORS],
        "regions": [r for r in region_order] + sorted(
            {ln["region"] for ln in lanes if ln["region"] not in region_order
             and ln["region"] != "nemesis"}),
        "faults": faults, "end": t_end // 1000,
        "anomalyOps": sorted(violating),
        "allowedOps": sorted({i for i in allowed_ops if isinstance(i, int)} - violating),
        "counter": "counter" in str(test.get("workload") or "") or (
            "add" in fs and "read" in fs and "write" not in fs),
        "finalFrom": min((cols["t0"][n] for n in final_pairs), default=None),
        "cx": drawings[0] if drawings else None,   # the first, as before
        "cxs": drawings,
    }


def _cx_drawing(hist: HistoryIndex, cx: dict) -> dict | None:
    """The operations to draw for a linearizability counterexample (as pair positions)."""
    if not cx.get("drawable"):
        return None
    raw = cx["raw"]
    pos = hist.by_index
    failing = pos[raw["op"]]
    prefix = [pos[i] for i in raw.get("prefix") or [] if i in pos]
    concurrent = [pos[i] for i in raw.get("concurrent") or [] if i in pos]
    tail = prefix[-CX_PREFIX_TAIL:]
    pairs = hist.pairs

    def end_of(n: int) -> int:
        p = pairs[n]
        return p.complete.time if p.complete is not None else p.invoke.time

    focus = [failing, *concurrent[:50], *tail]
    ws = min(pairs[n].invoke.time for n in focus)
    we = max(end_of(n) for n in [failing, *concurrent[:50]])
    key = pairs[failing].invoke.key
    shown = [n for n, p in enumerate(pairs)
             if p.invoke.key == key and p.invoke.process != NEMESIS
             and p.invoke.time <= we and end_of(n) >= ws]
    must = set(focus)
    if len(shown) > CX_OPS_MAX:
        shown = sorted(must | set(shown[:CX_OPS_MAX - len(must)]))
    else:
        shown = sorted(must | set(shown))
    order = {n: k + 1 for k, n in enumerate(prefix)}
    return {"ops": shown, "failing": failing, "concurrent": concurrent,
            "prefix": {str(n): order[n] for n in shown if n in order},
            "states": cx["states"], "key": cx["key"], "n": cx["n"]}
