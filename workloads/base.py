"""What a workload is: a client, a generator, a final generator and the checkers, by name.

A workload factory takes the run's `WorkloadOptions` (mode, regions, keys, seed, table,
timeouts) and returns a `Workload`:
- `client`: a `workloads.client.RegionClient` that the runner opens once per client
  thread, bound to that thread's region (so every region gets clients);
- `generator`: the pure generator of the main phase's client operations (suite/generator);
- `final_generator`: what runs after the final heal -- SC reads of every key in every
  region, marked `"final": True` (docs/CONVENTIONS.md, "Final reads");
- `checker`: the mode's checker for this workload (`checkers.modes.checker_for`), plus
  any workload-specific one (the demos' tables);
- `summarize(history)`: optional plain text to print after the run (the demos' tables).

Threads and regions: client thread `t` is bound to `regions[t % len(regions)]`
(`region_of_thread`), the same rule the runner uses to open clients, so a generator can
address a region by choosing threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from suite.errors import BadInput

FINAL = "final"


@dataclass(frozen=True)
class WorkloadOptions:
    """Everything a workload factory may use; filled from the run's Test config."""

    mode: str = "async"
    regions: tuple[str, ...] = ("us-east-1", "us-east-2", "us-west-2")
    keys: int = 5
    seed: int = 0
    table: str = "gtcheck"
    concurrency: int = 6
    latency_scale: float = 0.1
    connect_timeout_s: float = 1.0
    read_timeout_s: float = 5.0

    def key_names(self) -> tuple[str, ...]:
        if self.keys < 1:
            raise BadInput(f"--keys must be at least 1, got {self.keys}")
        return tuple(f"k{i}" for i in range(self.keys))


@dataclass(frozen=True)
class Workload:
    name: str
    client: Any
    generator: Any
    final_generator: Any
    checker: Any
    table: str
    keys: tuple[str, ...]
    min_concurrency: int = 1
    summarize: Callable[[Sequence[Any]], str] | None = None
    info: Mapping[str, Any] = field(default_factory=dict)


def region_of_thread(thread: int, regions: Sequence[str]) -> str:
    """The region client thread `thread` is bound to (round robin over the regions)."""
    return regions[thread % len(regions)]


def mode_checker(mode: str, workload: str) -> Any:
    """The per-mode checker of `workload` from branch `checks` (checkers.modes)."""
    from checkers.modes import checker_for  # imported late: the checks land separately
    return checker_for(mode, workload)
