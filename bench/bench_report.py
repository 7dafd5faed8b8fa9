"""Benchmark: the report of a 100,000-operation history.

Targets (issue 7): the report is generated in under 30 s and opens (loaded and fully
rendered: timeline, plots, counterexample) in headless Chromium in under 5 s. The
baseline, measured in the same run on the same machine, is a 1,000-operation history;
the ratios show how the costs grow with the history.

    python bench/bench_report.py [--ops 100000] [--keep DIR]

Prints one line per measurement and exits non-zero if a target is missed.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from results.report import write_report  # noqa: E402
from tests.browser.cdp import Browser  # noqa: E402
from tests.results.fixtures import make_run  # noqa: E402

GENERATE_S_MAX = 30.0
OPEN_S_MAX = 5.0


def measure(store: Path, n_ops: int, seed: int, browser: Browser) -> dict:
    threads = 10 if n_ops >= 10_000 else 2
    duration = max(30.0, n_ops / 300)
    run = make_run(store, seed=seed, workload="register", mode="strong", valid=False,
                   n_ops=n_ops, keys=max(4, n_ops // 1000), threads_per_region=threads,
                   duration_s=duration, name=f"bench-{n_ops}")
    records = sum(1 for _ in open(run / "history.jsonl"))
    t0 = time.perf_counter()
    path = write_report(run)
    generate_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    browser.console_errors.clear()
    load_s = browser.open(path.as_uri())
    state = browser.wait_for("window.gtcheckReport && window.gtcheckReport.ready && "
                             "window.gtcheckReport", timeout_s=60)
    open_s = time.perf_counter() - t0
    # a zoom on the timeline, measured inside the page (one redraw of the visible window)
    zoom_ms = browser.eval("""(function () {
        var c = document.getElementById('tl-canvas'), r = c.getBoundingClientRect();
        var t = performance.now();
        for (var i = 0; i < 5; i++)
          c.dispatchEvent(new WheelEvent('wheel', {deltaY: -100, clientX: r.left + r.width / 2,
                                                   clientY: r.top + 40, bubbles: true}));
        return new Promise(function (ok) { requestAnimationFrame(function () {
          ok(performance.now() - t); }); });
    })()""")
    return {"ops": int(state["ops"]), "records": records, "generate_s": generate_s,
            "size_mb": path.stat().st_size / 1e6, "load_s": load_s, "open_s": open_s,
            "script_ms": state["ms"], "zoom_ms": zoom_ms,
            "parts": {k: v.get("ms") for k, v in state["parts"].items()},
            "errors": list(browser.console_errors)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="keep the generated store here")
    args = ap.parse_args()
    store = args.keep or Path(tempfile.mkdtemp(prefix="bench-report-"))
    try:
        with Browser() as browser:
            base = measure(store, 1_000, 1, browser)
            big = measure(store, args.ops, 2, browser)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        for name, m in (("baseline", base), ("large", big)):
            print(f"{name:8} ops={m['ops']:>7} records={m['records']:>7} "
                  f"generate={m['generate_s']:.2f}s html={m['size_mb']:.1f}MB "
                  f"open={m['open_s']:.2f}s (load event {m['load_s']:.2f}s, script "
                  f"{m['script_ms']}ms: {m['parts']}) zoom5x={m['zoom_ms']:.0f}ms "
                  f"console_errors={len(m['errors'])}")
        print(f"ratio large/baseline: ops x{big['ops'] / base['ops']:.0f}, generate "
              f"x{big['generate_s'] / base['generate_s']:.1f}, open "
              f"x{big['open_s'] / base['open_s']:.1f}, html x{big['size_mb'] / base['size_mb']:.1f}")
        print(f"peak RSS of the generating process: {rss_mb:.0f} MB")
        ok_gen = big["generate_s"] < GENERATE_S_MAX
        ok_open = big["open_s"] < OPEN_S_MAX
        print(f"target generate < {GENERATE_S_MAX:.0f}s: {'PASS' if ok_gen else 'FAIL'} "
              f"({big['generate_s']:.2f}s); target open < {OPEN_S_MAX:.0f}s: "
              f"{'PASS' if ok_open else 'FAIL'} ({big['open_s']:.2f}s)")
        return 0 if ok_gen and ok_open and not big["errors"] else 1
    finally:
        if not args.keep:
            shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
