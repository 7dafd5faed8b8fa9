"""How a run uses remote hosts: the few steps `suite.core` calls when `test.hosts` is set.

- `plan(test)`: read and check the hosts file before anything starts (a bad file is one
  line and exit 3, with no run directory made).
- `target_for(test, hosts, factory)`: the embedded emulator must be reachable from the
  hosts, so with a `control_address` it binds that address instead of 127.0.0.1 (the
  hosts file says so explicitly); any other target is made as usual, and its endpoints
  must be reachable from the hosts as they are.
- `open_fleet(test, target, hosts, log)`: connect to every host, start and set up the
  workers, measure their clocks (suite.remote.fleet), remove any fault an earlier run
  killed outright left on the hosts (`HostNemesis.clear_left_behind`), and wrap the
  target so host-level nemeses find the fleet (`HostsTarget`, the `HostControl` ability).
- `faults_in_force(fleet)`: before judging, the host faults still in force, if any.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, runtime_checkable

from suite.errors import BadInput
from suite.remote.fleet import Fleet
from suite.remote.hosts import HostsFile, read_hosts


@runtime_checkable
class HostControl(Protocol):
    """A target whose clients run on hosts the harness controls over SSH."""

    fleet: Fleet


def plan(test: Any) -> HostsFile | None:
    if not getattr(test, "hosts", None):
        return None
    hosts = read_hosts(test.hosts)
    hosts.check_covers(test.regions)
    return hosts


def target_for(test: Any, hosts: HostsFile, factory: Callable[[Any], Any]) -> Any:
    if test.target == "emulator" and hosts.control_address:
        from suite.targets.emulator import EmulatorTarget
        bugs = tuple(getattr(test, "emulator_bugs", ()) or ())
        return EmulatorTarget(mode=test.mode, regions=tuple(test.regions),
                              witness=test.witness, latency_scale=test.latency_scale,
                              seed=test.seed,
                              # planted bugs as in a local run (suite.targets.target_from_test)
                              deployment_options={"host": hosts.control_address,
                                                  **({"bugs": bugs} if bugs else {})})
    if test.target == "emulator":
        raise BadInput(f"{hosts.path}: the embedded emulator listens on 127.0.0.1, which "
                       "remote hosts cannot reach: set control_address (an address of "
                       "this machine the hosts reach), or use --target endpoints:FILE")
    return factory(test)


class HostsTarget:
    """The run's target plus the `HostControl` ability: every attribute is the target's,
    and `fleet` is the run's hosts."""

    def __init__(self, target: Any, fleet: Fleet):
        self._target = target
        self.fleet = fleet

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


def open_fleet(test: Any, target: Any, hosts: HostsFile, *,
               log: Callable[[str], None]) -> Fleet:
    fleet = Fleet(hosts, accept_new=bool(getattr(test, "ssh_accept_new", False)), log=log,
                  op_timeout_s=test.op_timeout)
    known = getattr(target, "endpoints", None)
    if not known:
        raise BadInput(f"--hosts works with the emulator and endpoints: targets; the "
                       f"{test.target} target gives the hosts no endpoints to use")
    endpoints = {r: known[r] for r in test.regions}
    # Without sch_netem, host latency goes through a delaying proxy in each worker.
    fleet.proxy = "host-latency" in tuple(getattr(test, "nemesis", ()))
    log(f"gtcheck: starting workers on {len(hosts.hosts)} host(s) from {hosts.path}")
    fleet.start(test.to_json(), endpoints)
    # a run killed outright never undid its faults: remove what it left (said in the log)
    try:
        fleet.nemesis().clear_left_behind()
    except BaseException:
        fleet.close()
        raise
    return fleet


def faults_in_force(fleet: Fleet) -> dict[str, str]:
    """{host: what} for each host fault still in force after the run's final phase
    (`HostNemesis.in_force`): the run records them and is not judged available under
    them (suite.core.apply_run_conditions)."""
    return fleet.nemesis().in_force()
