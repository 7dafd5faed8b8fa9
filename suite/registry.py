"""Registries: the names `gtcheck run` accepts for targets, workloads and nemeses.

Each registry is a plain dict from a name to an entry; the modules that implement a
target, a workload or a nemesis package register themselves when their package is
imported (`workloads/__init__.py`, `nemesis/__init__.py`, `suite/targets/__init__.py`),
and `load_plugins()` imports those packages. A name that is not registered is a
`BadInput` listing the known ones, so a typo on the command line says what would work.

Entries:
- target: `factory(test) -> Target`. A target name may carry an argument after a colon
  (`endpoints:state.json`); the registry key is the part before it.
- workload: `WorkloadEntry(build(test, target) -> Workload, checkers(test) ->
  {name: Checker})`. The checker set depends only on the test, so `gtcheck analyze` can
  judge a stored history without a target.
- nemesis: `factory(test, target) -> NemesisPackage`; several compose with
  `suite.compose.compose_packages`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from suite.errors import BadInput
from suite.protocols import NemesisPackage, Workload

TARGETS: dict[str, Callable[[Any], Any]] = {}
WORKLOADS: dict[str, "WorkloadEntry"] = {}
NEMESES: dict[str, Callable[[Any, Any], NemesisPackage]] = {}
NEMESIS_DESCRIPTIONS: dict[str, str] = {}
# target kinds a nemesis runs against ("emulator", "endpoints", "aws"); absent: any target
NEMESIS_TARGETS: dict[str, tuple[str, ...]] = {}

PLUGIN_PACKAGES = ("suite.targets", "workloads", "nemesis", "suite.remote.faults")
# What help texts list (workloads, nemeses) without the targets, which import boto3.
PLUGIN_PACKAGES_NO_TARGETS = ("workloads", "nemesis", "suite.remote.faults")


@dataclass(frozen=True)
class WorkloadEntry:
    build: Callable[[Any, Any], Workload]
    checkers: Callable[[Any], Mapping[str, Any]]
    description: str = ""


def register_target(name: str, factory: Callable[[Any], Any]) -> None:
    TARGETS[name] = factory


def register_workload(name: str, build: Callable[[Any, Any], Workload],
                      checkers: Callable[[Any], Mapping[str, Any]], *,
                      description: str = "") -> None:
    WORKLOADS[name] = WorkloadEntry(build, checkers, description)


def register_nemesis(name: str, factory: Callable[[Any, Any], NemesisPackage], *,
                     description: str = "", targets: Sequence[str] | None = None) -> None:
    """`targets`: the target kinds it runs against (None: any; () : none by itself, e.g.
    faults of remote client hosts, which need --hosts)."""
    NEMESES[name] = factory
    NEMESIS_DESCRIPTIONS[name] = description
    if targets is not None:
        NEMESIS_TARGETS[name] = tuple(targets)


def nemesis_runs_on(name: str, target: str) -> bool:
    """Whether the nemesis `name` runs against `target` ("emulator", "endpoints:FILE",
    "aws") on its own, as registered."""
    kinds = NEMESIS_TARGETS.get(name)
    return kinds is None or target.split(":", 1)[0] in kinds


def load_plugins(packages: Sequence[str] = PLUGIN_PACKAGES) -> None:
    """Import the packages whose modules register targets, workloads and nemeses."""
    for pkg in packages:
        try:
            importlib.import_module(pkg)
        except ModuleNotFoundError as e:
            if e.name != pkg:  # the package exists but something inside it is missing
                raise


def _lookup(kind: str, table: Mapping[str, Any], name: str) -> Any:
    if name not in table:
        known = ", ".join(sorted(table)) or "none registered yet"
        raise BadInput(f"unknown {kind} {name!r} (known: {known})")
    return table[name]


def target_factory(name: str) -> Callable[[Any], Any]:
    return _lookup("target", TARGETS, name.split(":", 1)[0])


def workload_entry(name: str) -> WorkloadEntry:
    return _lookup("workload", WORKLOADS, name)


def nemesis_factory(name: str) -> Callable[[Any, Any], NemesisPackage]:
    return _lookup("nemesis", NEMESES, name)
