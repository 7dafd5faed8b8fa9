"""The `emulator` target (the default): an embedded emulator deployment, started for the run
and stopped after it.

It starts `emulator.Deployment` in this process -- one HTTP endpoint per region on
127.0.0.1, the admin API, the WAN model at the run's latency scale -- and then behaves
exactly like the `endpoints:` target over that deployment: the global table is provisioned
through boto3 control-plane calls, every data-plane call goes through boto3 over HTTP, and
faults and version metadata go through the deployment's admin API. So an embedded run and
a run against `gtcheck emulator serve` exercise the same code.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from suite.errors import BadInput, SetupError
from suite.targets.base import check_topology
from suite.targets.endpoints import AdminEndpointsTarget, EndpointsTarget

DEFAULT_REGIONS = ("us-east-1", "us-east-2", "us-west-2")


def _check_region_set(regions: Sequence[str], witness: str | None) -> None:
    """The emulator's MRSC region-set rule (M01), checked before anything starts."""
    from emulator.mrsc_setup import check_participants
    try:
        check_participants(regions, witness)
    except Exception as e:  # noqa: BLE001 -- the emulator's ValidationException
        raise BadInput(f"--regions: {getattr(e, 'message', None) or e}") from None


class EmulatorTarget(AdminEndpointsTarget):
    """Starts an embedded emulator deployment, then drives it like an `endpoints:` target."""

    name = "emulator"
    probe_before_run = None  # its endpoints exist only once setup() started them

    def __init__(self, *, mode: str = "async", regions: Sequence[str] = DEFAULT_REGIONS,
                 witness: str | None = None, latency_scale: float = 0.1,
                 seed: int = 0, deployment_options: Mapping[str, Any] | None = None):
        regions = tuple(regions)
        check_topology(mode, regions, witness)
        if mode == "strong":
            _check_region_set(regions, witness)
        self._options = dict(regions=list(regions), mode=mode, witness=witness,
                             latency_scale=latency_scale, seed=seed,
                             **(deployment_options or {}))
        self.latency_scale = latency_scale
        self.deployment: Any = None
        # Filled in by start(): the endpoints are known once the servers are bound.
        self.mode, self.regions, self.witness = mode, regions, witness
        self.endpoints: dict[str, str] = {}

    def setup(self, test: Any = None) -> None:
        try:
            from emulator import Deployment
        except ImportError as e:
            raise SetupError(f"the embedded emulator is not available: {e}") from None
        try:
            self.deployment = Deployment(**self._options)
            self.deployment.start()
        except Exception as e:  # noqa: BLE001 -- any start failure is a set-up failure
            self.deployment = None
            raise SetupError(f"could not start the embedded emulator: {e}") from None
        EndpointsTarget.__init__(self, self.deployment.endpoints, mode=self.mode,
                                 regions=self.regions, witness=self.witness,
                                 admin_url=self.deployment.admin_url,
                                 fault_api=self.deployment)
        try:
            self._probe_own_servers()
        except Exception:
            self.teardown(test)  # never leave a deployment running behind a failed set-up
            raise

    def _probe_own_servers(self) -> None:
        """Every region of the deployment just started answers. Asked through the
        control-plane clients the table's provisioning uses anyway: the endpoints
        target's probe builds a client of its own per region (tens of ms each, issue 23),
        to fail fast on an endpoint that may be dead, which servers this process has just
        bound are not."""
        for r in self.regions:
            try:
                self._control_client(r).list_tables(Limit=1)
            except Exception as e:  # noqa: BLE001 -- reported as a set-up failure
                raise SetupError(f"region {r} of the embedded emulator at "
                                 f"{self.endpoints.get(r)} does not answer: {e}") from None

    def teardown(self, test: Any = None) -> None:
        if self.endpoints:
            EndpointsTarget.teardown(self, test)
        if self.deployment is not None:
            self.deployment.stop()
            self.deployment = None

    def describe(self) -> dict:
        d = EndpointsTarget.describe(self) if self.endpoints else {
            "target": self.name, "mode": self.mode, "regions": list(self.regions),
            "witness": self.witness}
        d.update(target=self.name, latency_scale=self.latency_scale)
        return d
