"""What a workload is: a client, a generator, a final generator and the checkers, by name.

A workload factory takes the run's `WorkloadOptions` (mode, regions, keys, seed, table,
timeouts) and returns a `Workload`:
- `client`: a `workloads.client.RegionClient` that the runner opens once per client
  thread, bound to that thread's region (so every region gets clients);
- `generator`: the pure generator of the main phase's client operations (suite/generator);
- `final_generator`: what runs after the final heal -- SC reads of every key in every
  region, marked `"final": True` (docs/CONVENTIONS.md, "Final reads");
- `checkers`: {name: checker}: the mode's checker for this workload
  (`checkers.modes.checker_for`), plus any workload-specific one (the demos' tables);
- `summarize(history)`: optional plain text to print after the run (the demos' tables).

Threads and regions: client thread `t` is bound to `regions[t % len(regions)]`
(`region_of_thread`), the same rule the runner uses to open clients, so a generator can
address a region by choosing threads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from gtcheck.errors import BadInput

FINAL = "final"
HOT_KEY_OPS = 100  # operations per key while it is hot (Jepsen's independent keys: ~100)


@dataclass(frozen=True)
class WorkloadOptions:
    """Everything a workload factory may use; filled from the run's Test config."""

    mode: str = "async"
    regions: tuple[str, ...] = ("us-east-1", "us-east-2", "us-west-2")
    keys: int = 5
    seed: int = 0
    table: str = "gtcheck"
    concurrency: int = 6
    rate: float = 50.0              # client operations per second, over all threads
    latency_scale: float = 0.1
    connect_timeout_s: float = 1.0
    read_timeout_s: float = 5.0
    hot_keys: int = 0               # keys in play at a time (0: all of them, uniformly)
    target: str = "emulator"        # the target kind (TTL expiry is bounded only there)
    gsi_reads: bool = False         # register: some EC reads through a GSI (workloads/gsi.py)

    def key_names(self) -> tuple[str, ...]:
        if self.keys < 1:
            raise BadInput(f"--keys must be at least 1, got {self.keys}")
        return tuple(f"k{i}" for i in range(self.keys))


@dataclass(frozen=True)
class Workload:
    """The harness's Workload (client, generator, final_generator, table) plus the checker
    set, the key names, the least concurrency that gives every region a client, and an
    optional `summarize(history) -> str` printed after the run (the demos' tables)."""

    name: str
    client: Any
    generator: Any
    final_generator: Any
    checkers: Mapping[str, Any]
    table: str
    keys: tuple[str, ...]
    min_concurrency: int = 1
    summarize: Callable[[Sequence[Any]], str] | None = None
    # What a final read shows, completion -> [(key, canonical value)]: with it the final
    # reads are made in rounds while the regions disagree (suite/final_rounds.py).
    final_view: Callable[[Mapping[str, Any]], Any] | None = None

    def bound_to(self, target: Any) -> "Workload":
        """This workload with its client prototype holding the run's target."""
        return dataclasses.replace(self, client=self.client.with_target(target))


def options_from_test(test: Any) -> WorkloadOptions:
    """WorkloadOptions from the harness's Test (suite.config.Test)."""
    return WorkloadOptions(
        mode=test.mode, regions=tuple(test.regions), keys=test.keys, seed=test.seed,
        table=table_name(test), concurrency=test.concurrency, rate=test.rate,
        latency_scale=test.latency_scale,
        read_timeout_s=max(0.5, float(getattr(test, "op_timeout", 5.0))),
        hot_keys=int(getattr(test, "hot_keys", 0) or 0),
        target=str(getattr(test, "target", "emulator") or "emulator").split(":", 1)[0],
        gsi_reads=bool(getattr(test, "gsi_reads", False)))


def table_name(test: Any) -> str:
    """One table per run: `gtcheck-<workload>-<start time>` (a reused endpoint may still
    hold an earlier run's table)."""
    stamp = "".join(ch for ch in (getattr(test, "start_time", "") or "") if ch.isdigit())[:14]
    name = f"gtcheck-{test.workload}" + (f"-{stamp}" if stamp else "")
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name)[:255]


def keyed_workload(name: str, opts: WorkloadOptions, choose_op: Callable) -> Workload:
    """The shape register, counter and set share: `choose_op(keys)` picks each operation
    (workloads.generators.UniqueOps) at the run's rate, on random keys, from client
    threads in every region; final SC reads of every key everywhere; the mode's checkers."""
    from workloads.client import OPS, RegionClient
    from checkers.observe import freeze
    from checkers.set import canon as set_canon
    from suite.final_rounds import read_view
    from workloads.generators import HotKeys, UniqueOps, final_reads
    keys = opts.key_names()
    hot = opts.hot_keys
    if 0 < hot < len(keys):
        # Rotating hot keys (HotKeys): slots k0..k{hot-1}, HOT_KEY_OPS operations each.
        ops = HotKeys(UniqueOps(choose_op(keys[:hot]), opts.seed), keys, hot,
                      hot * HOT_KEY_OPS)
    else:
        ops = UniqueOps(choose_op(keys), opts.seed)
    return Workload(
        name=name,
        client=RegionClient(opts.table, OPS[name], connect_timeout_s=opts.connect_timeout_s,
                            read_timeout_s=opts.read_timeout_s,
                            pool_size=max(4, opts.concurrency)),
        generator=paced(opts, ops),
        final_generator=final_reads(keys, regions=len(opts.regions)),
        final_view=read_view(set_canon if name == "set" else freeze),
        checkers=mode_checkers(opts.mode, name),
        table=opts.table, keys=keys, min_concurrency=len(opts.regions))


def paced(opts: WorkloadOptions, generator: Any) -> Any:
    """The main-phase generator at the run's `--rate` (seeded gaps, suite.generator.rate)."""
    from suite.generator import rate
    return rate(opts.rate, generator, seed=opts.seed + 1)


def region_of_thread(thread: int, regions: Sequence[str]) -> str:
    """The region client thread `thread` is bound to (round robin over the regions)."""
    return regions[thread % len(regions)]


def mode_checkers(mode: str, workload: str) -> dict[str, Any]:
    """The per-mode checkers of `workload` (checkers.modes.checker_for), flattened to
    {name: checker} so each one's result -- and its anomaly counts -- sits directly under
    results.json's "checkers", where the summary and the report look for them.

    Without the checkers package (a partial install), the verdict is "unknown" and says
    why: a run that cannot be judged must never look valid.
    """
    try:
        from checkers.modes import checker_for
    except ImportError as e:
        reason = f"the {mode} checkers are not available: {e}"
        return {mode: lambda test, history, opts: {"valid": "unknown", "error": reason}}
    return dict(checker_for(mode, workload).checkers)
