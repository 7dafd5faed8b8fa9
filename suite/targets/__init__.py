"""Targets: the system a run tests, chosen by `--target`.

- `emulator` (the default): an embedded emulator deployment started for the run and
  stopped after it (suite/targets/emulator.py);
- `endpoints:FILE`: an already running emulator, or any DynamoDB-compatible endpoints, one
  per region, named by a state file such as the one `gtcheck emulator serve` writes
  (suite/targets/endpoints.py);
- `aws`: real global tables through boto3 (suite/targets/aws.py); boto3 picks the
  endpoints, so `AWS_ENDPOINT_URL` pointed at the emulator's all-regions endpoint runs
  this path in tests.

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
    scale = options.get("control_plane_scale")
    if scale is not None and spec != "emulator":
        raise BadInput("--control-plane-scale applies only to --target emulator (a served "
                       "emulator takes `gtcheck emulator serve --control-plane-scale`)")
    if spec == "emulator":
        deployment_options = dict(options.get("deployment_options") or {})
        if scale is not None:
            if not scale >= 0:
                raise BadInput(f"--control-plane-scale must be >= 0, got {scale}")
            deployment_options["control_plane_scale"] = scale
        return EmulatorTarget(mode=mode or "async", regions=tuple(regions or DEFAULT_REGIONS),
                              witness=witness, latency_scale=latency_scale, seed=seed,
                              deployment_options=deployment_options or None)
    if spec.startswith("endpoints:"):
        path = spec.split(":", 1)[1]
        if not path:
            raise BadInput("--target endpoints:FILE needs a state file path")
        return EndpointsTarget.from_state_file(path, mode=mode, regions=regions,
                                               witness=witness)
    if spec == "aws":
        return AwsTarget(mode=mode or "async", regions=tuple(regions or DEFAULT_REGIONS),
                         witness=witness, profile=options.get("profile"),
                         existing_table=options.get("existing_table"),
                         yes=bool(options.get("yes")),
                         max_requests=options.get("max_requests"),
                         fis_role_arn=options.get("fis_role_arn"))
    raise BadInput(f"unknown target {spec!r} (expected one of {', '.join(TARGET_KINDS)})")


def target_from_test(test) -> Target:
    """`factory(test) -> Target` for suite.registry: the target named by `test.target`."""
    bugs = tuple(getattr(test, "emulator_bugs", ()) or ())
    return make_target(test.target, mode=test.mode, regions=test.regions,
                       witness=test.witness, latency_scale=test.latency_scale,
                       seed=test.seed,
                       deployment_options={"bugs": bugs} if bugs else None,
                       **dict(getattr(test, "target_options", None) or {}))


def _register() -> None:
    from suite.registry import register_target
    for name in ("emulator", "endpoints", "aws"):
        register_target(name, target_from_test)


_register()

__all__ = ["AdminEndpointsTarget", "AwsTarget", "DEFAULT_REGIONS", "EmulatorTarget", "EndpointsTarget",
           "FaultInjector", "GlobalTableProvisioner", "Target", "TARGET_KINDS",
           "VersionSource", "check_topology", "make_target", "read_state_file"]
