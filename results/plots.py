"""PNG plots in the run directory, for reading results outside a browser (as Jepsen's
users read `latency-raw.png` and `rate.png`).

`write_plots(run_dir) -> [paths]` draws, with matplotlib's Agg backend (no display
needed), from the stored history: `latency.png` (every client operation's latency over
time, one panel per region, log scale; requests answered no on their merits, failed and
unknown operations each marked as their own kind) and
`availability.png` (per region, the share of operations served per time bucket -- ok, or
answered on the request's merits as the availability checker counts them). Fault
periods are shaded in both, one colour per fault type, named in the legend. It reads
only the run's files, so it can be repeated on any run directory; it never judges.
"""

from __future__ import annotations

import os
from pathlib import Path

from checkers.availability import ANSWERED_ERRORS
from results.history import NEMESIS, fault_periods, pair, read_jsonl

FAULT_COLOURS = {"isolate": "#e53935", "cut": "#8e24aa", "cut-oneway": "#5e35b1",
                 "delay": "#00897b", "pause-replication": "#ff8f00", "stop": "#37474f",
                 "skew-clock": "#039be5", "slow": "#795548", "pause": "#d81b60",
                 "fis-pause-replication": "#fbc02d", "client-partition": "#43a047",
                 "client-latency": "#00acc1", "client-timeout": "#9e9d24"}
# How each completion is drawn: a request refused on its merits (ConditionalCheckFailed,
# ReplicatedWriteConflict) was answered, not failed, and gets its own mark (issue 25).
KINDS = (("ok", ".", "#1f77b4", "ok"),
         ("answered", "s", "#546e7a", "answered no (condition failed / conflict)"),
         ("fail", "x", "#e53935", "failed"), ("info", "^", "#ffb300", "unknown (info)"))


def completion_kind(p) -> str:
    """ok / answered / fail / info of a completed pair (KINDS)."""
    if p.type == "fail" and p.complete.error in ANSWERED_ERRORS:
        return "answered"
    return p.type
PLOT_FILES = ("latency.png", "availability.png")  # what write_plots writes, in order
REGION_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"]
BUCKETS = 60
DPI = 100


def _shade(ax, periods, end_s: float, seen: set) -> None:
    for fp in periods:
        colour = FAULT_COLOURS.get(fp.f, "#ff9800")
        label = None if fp.f in seen else f"fault: {fp.f}"
        seen.add(fp.f)
        ax.axvspan(fp.start / 1e9, (fp.end if fp.end is not None else end_s * 1e9) / 1e9,
                   color=colour, alpha=0.12, label=label, linewidth=0)


def _margins(fig, height_in: float) -> None:
    """Fixed margins in inches (room for the title, the axis labels and the tick
    labels): `tight_layout` measures every text first, which costs more than the drawing."""
    fig.subplots_adjust(left=0.09, right=0.985, top=1 - 0.45 / height_in,
                        bottom=0.5 / height_in, hspace=0.12)


def write_plots(run_dir: str | os.PathLike) -> list[Path]:
    """Write latency.png and availability.png into `run_dir`; returns their paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    run_dir = Path(run_dir)
    ops = read_jsonl(run_dir / "history.jsonl", check=False)
    pairs = [p for p in pair(ops) if p.invoke.process != NEMESIS]
    if not pairs:
        return []
    periods = fault_periods(ops)
    end_s = max(op.time for op in ops) / 1e9
    regions = sorted({p.invoke.region or "?" for p in pairs})
    written = []

    fig, axes = plt.subplots(len(regions), 1, figsize=(12, 2.6 * len(regions)), sharex=True,
                             squeeze=False, dpi=DPI)
    seen: set = set()
    for ax, region in zip(axes[:, 0], regions):
        here = [p for p in pairs if (p.invoke.region or "?") == region and p.complete]
        for kind, marker, colour, label in KINDS:
            sel = [p for p in here if completion_kind(p) == kind]
            if sel:
                ax.scatter([p.invoke.time / 1e9 for p in sel],
                           [max(0.01, (p.complete.time - p.invoke.time) / 1e6) for p in sel],
                           s=6, marker=marker, color=colour, label=label, linewidths=0.6)
        _shade(ax, periods, end_s, seen)
        ax.set_yscale("log")
        # Plain numbers (1, 10, 100 ms): mathtext's 2x10^0 labels cost more than the plot.
        ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_ylabel(f"{region}\nlatency (ms)")
        ax.grid(True, alpha=0.3)
    axes[0, 0].legend(loc="upper right", fontsize=8, ncol=4)
    axes[-1, 0].set_xlabel("seconds since the run started")
    fig.suptitle(f"{run_dir.parent.name}: latency of every client operation")
    _margins(fig, 2.6 * len(regions))
    written.append(run_dir / PLOT_FILES[0])
    fig.savefig(written[-1])
    plt.close(fig)

    width = max(end_s, 1e-3) / BUCKETS
    fig, ax = plt.subplots(figsize=(12, 3.5), dpi=DPI)
    for n, region in enumerate(regions):
        served, total = [0] * BUCKETS, [0] * BUCKETS
        for p in pairs:
            if (p.invoke.region or "?") != region or p.complete is None:
                continue
            b = min(BUCKETS - 1, int(p.invoke.time / 1e9 / width))
            total[b] += 1
            served[b] += p.type == "ok" or (p.type == "fail" and
                                            p.complete.error in ANSWERED_ERRORS)
        xs = [(b + 0.5) * width for b in range(BUCKETS) if total[b]]
        ys = [served[b] / total[b] for b in range(BUCKETS) if total[b]]
        ax.plot(xs, ys, marker=".", color=REGION_COLOURS[n % len(REGION_COLOURS)], label=region)
    _shade(ax, periods, end_s, set())
    ax.set_ylim(-0.02, 1.05)
    ax.set_ylabel("share served")
    ax.set_xlabel("seconds since the run started")
    ax.set_title(f"{run_dir.parent.name}: availability per region (ok, or answered on the "
                 "request's merits)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8, ncol=4)
    _margins(fig, 3.5)
    written.append(run_dir / PLOT_FILES[1])
    fig.savefig(written[-1])
    plt.close(fig)
    return written
