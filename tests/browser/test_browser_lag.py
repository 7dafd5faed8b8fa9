"""The replication-lag plot of a real async set-full run, in headless Chromium.

One short run at latency scale 1 through boto3 against the embedded emulator (whose WAN
model puts us-east-1 -> us-west-2 at 33 ms one way and us-east-1 -> us-east-2 at 6 ms,
SEMANTICS.md G3) must measure the first pair's lag as longer, and its report must draw
one curve per ordered pair where a person would look for them, with no script error. The
screenshot is kept in the run directory (lag.png).
"""

from __future__ import annotations

import pytest

from results.report import write_report
from tests.browser.cdp import Browser, require_browser
from tests.e2e.conftest import describe, run

pytestmark = pytest.mark.slow

FAR, NEAR = "us-east-1->us-west-2", "us-east-1->us-east-2"


def test_async_lag_plot_shows_the_far_pair_slower(tmp_path):
    require_browser()
    # Frequent reads (200 ops/s over 12 threads) make the bounds about 60 ms wide: the
    # 27 ms between the two pairs' one-way delays shows in the medians.
    result, _ = run(tmp_path, workload="set-full", mode="async", seed=12,
                    latency_scale=1.0, rate=200.0, concurrency=12, time_limit=6.0,
                    final_wait=1.0)
    assert result.valid is True, describe(result)
    pairs = result.results["checkers"]["replication-lag"]["pairs"]
    far, near = pairs[FAR]["estimate_ms"]["p50"], pairs[NEAR]["estimate_ms"]["p50"]
    assert far > near + 10, (far, near)
    page = write_report(result.run_dir.path)
    with Browser(width=1100, height=760) as b:
        b.open(page.as_uri())
        b.wait_for("document.querySelector('#replication-lag svg') !== null")
        widths = b.eval("Array.from(document.querySelectorAll('#replication-lag "
                        "polyline.lag-curve')).map(e => e.getBoundingClientRect().width)")
        assert len(widths) == 6 and min(widths) > 100, widths
        b.eval("document.getElementById('replication-lag').scrollIntoView()")
        assert b.screenshot(result.run_dir.path / "lag.png", full_page=False) \
            .stat().st_size > 20_000
        assert b.console_errors == []
