"""The roles a test is made of, as small `typing.Protocol`s (Jepsen's Client, Nemesis,
DB), plus the two bundles workloads and nemesis packages hand to the runner.

A `Target` is where the global table lives (the embedded emulator, running endpoints, or
AWS); a `Workload` is a client plus the generators that drive it; a `NemesisPackage` is a
nemesis plus its fault schedule and the final generator that heals everything. Optional
abilities of a target (a fault API, item version metadata) are separate one-method
protocols that a nemesis or the run pipeline checks for with `isinstance`, so a target
that lacks one simply does not offer it.

Lifecycles, as the runner drives them:
- Client: the workload hands a prototype; for each worker thread the runner calls
  `proto.open(test, region)` to get a client bound to that region, `invoke(test, op)` per
  operation, and `close(test)` when the thread ends or its process crashed (a crashed
  process gets a freshly opened client). `setup(test)` / `teardown(test)` run once per
  region, before the first operation and after the final phase, on a client opened for
  that purpose.
- Nemesis: `setup(test)` returns the nemesis to use; `invoke(test, op)` performs one fault
  operation; `teardown(test)` runs after the final heal; `fs()` names the `f`s it handles.
- Target: `setup(test)` brings it up (starts the emulator) and `teardown(test)` takes it
  down; `create_table` / `delete_table` make the global table in the test's mode;
  `client(region)` returns a boto3 DynamoDB client for one region.

`invoke` returns a completion: a dict (or `results.history.Op`) with `type` "ok", "fail"
or "info" and, where useful, `value` and `error`. Anything it raises becomes `info`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol, runtime_checkable


@runtime_checkable
class Client(Protocol):
    def open(self, test: Any, region: str) -> "Client": ...

    def setup(self, test: Any) -> None: ...

    def invoke(self, test: Any, op: Mapping[str, Any]) -> Mapping[str, Any]: ...

    def teardown(self, test: Any) -> None: ...

    def close(self, test: Any) -> None: ...


@runtime_checkable
class Nemesis(Protocol):
    def setup(self, test: Any) -> "Nemesis": ...

    def invoke(self, test: Any, op: Mapping[str, Any]) -> Mapping[str, Any]: ...

    def teardown(self, test: Any) -> None: ...

    def fs(self) -> set[str]: ...


@runtime_checkable
class Target(Protocol):
    regions: tuple[str, ...]
    mode: str  # "async" | "strong"

    def setup(self, test: Any) -> None: ...

    def create_table(self, test: Any, table: str) -> None: ...

    def delete_table(self, test: Any, table: str) -> None: ...

    def client(self, region: str) -> Any: ...

    def teardown(self, test: Any) -> None: ...


@runtime_checkable
class VersionSource(Protocol):
    """A target that can report each region's item versions (value, LWW timestamp,
    origin region) after the run: handed to checkers as `opts["versions"]`."""

    def versions(self, table: str) -> Mapping[str, Mapping[str, Mapping[str, Any]]]: ...


@dataclass(frozen=True)
class Workload:
    """What a workload factory returns for one run.

    `generator` drives the clients during the main phase; `final_generator` performs the
    final reads after the heal (the runner marks them `extra["final"] = True`); `table`
    is the table the target creates for the run (None: the workload needs none)."""

    client: Client
    generator: Any
    final_generator: Any = None
    table: str | None = "gtcheck"


@dataclass(frozen=True)
class NemesisPackage:
    """A nemesis, its fault schedule, and the final generator that heals every fault."""

    nemesis: Nemesis | None
    generator: Any = None
    final_generator: Any = None
    name: str = "none"

