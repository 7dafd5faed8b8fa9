"""Targets: the system a run tests, chosen by `--target`.

- `emulator` (the default): an embedded emulator deployment started for the run and
  stopped after it (suite/targets/emulator.py);
- `endpoints:FILE`: an already running emulator, or any DynamoDB-compatible endpoints, one
  per region, named by a state file such as the one `gtcheck emulator serve` writes
  (suite/targets/endpoints.py);
- `aws`: real global tables through boto3 (suite/targets/aws.py; the seam for the next
  wave, not exercised in tests).

`make_target(spec, ...)` parses the spec and builds the target; the Target protocol and the
shared provisioning code are in suite/targets/base.py. Importing this package registers the
three with the harness (suite.registry).
"""

from __future__ import annotations

from typing import Sequence

from suite.errors import BadInput
from suite.targets.aws import AwsTarget
from suite.targets.base import (FaultInjector, GlobalTableProvisioner, Target,
                                VersionSource, check_topology)
from suite.targets.emulator import DEFAULT_REGIONS, EmulatorTarget
from suite.targets.endpoints import AdminEndpointsTarget, EndpointsTarget, read_state_file

TARGET_KINDS = ("emulator", "endpoints:FILE", "aws")


def make_target(spec: str = "emulator", *, mode: str | None = None,
                regions: Sequence[str] | None = None, witness: str | None = None,
                latency_scale: float = 0.1, seed: int = 0, **options) -> Target:
    """Build the target named by `spec` (see the module docstring); BadInput otherwise.

    `mode` None means "not asked for": async for the emulator and AWS, the state file's
    mode for `endpoints:`.
    """
    if spec == "emulator":
        return EmulatorTarget(mode=mode or "async", regions=tuple(regions or DEFAULT_REGIONS),
                              witness=witness, latency_scale=latency_scale, seed=seed,
                              deployment_options=options.get("deployment_options"))
    if spec.startswith("endpoints:"):
        path = spec.split(":", 1)[1]
        if not path:
            raise BadInput("--target endpoints:FILE needs a state file path")
        return EndpointsTarget.from_state_file(path, mode=mode, regions=regions,
                                               witness=witness)
    if spec == "aws":
        return AwsTarget(mode=mode or "async", regions=tuple(regions or DEFAULT_REGIONS),
                         witness=witness, profile=options.get("profile"),
                         existing_table=options.get("existing_table"))
    raise BadInput(f"unknown target {spec!r} (expected one of {', '.join(TARGET_KINDS)})")


def target_from_test(test) -> Target:
    """`factory(test) -> Target` for suite.registry: the target named by `test.target`."""
    bugs = tuple(getattr(test, "emulator_bugs", ()) or ())
    return make_target(test.target, mode=test.mode, regions=test.regions,
                       witness=test.witness, latency_scale=test.latency_scale,
                       seed=test.seed,
                       deployment_options={"bugs": bugs} if bugs else None)


def _register() -> None:
    from suite.registry import register_target
    for name in ("emulator", "endpoints", "aws"):
        register_target(name, target_from_test)


_register()

__all__ = ["AdminEndpointsTarget", "AwsTarget", "DEFAULT_REGIONS", "EmulatorTarget", "EndpointsTarget",
           "FaultInjector", "GlobalTableProvisioner", "Target", "TARGET_KINDS",
           "VersionSource", "check_topology", "make_target", "read_state_file"]
