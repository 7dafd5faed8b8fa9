"""Host-level faults over SSH: the nemesis of a run whose clients sit on remote hosts.

The emulator's nemeses fault the table's regions through its admin API; these fault the
hosts (`--hosts`), with the tools a host has, through the SSH connections the run
already holds (suite.remote.fleet). Families (`--nemesis`), each taking its turn on the
schedule grid the emulator's families use (nemesis.packages):

- `host-cut`: cut one host from its region's endpoint with iptables (`cut-host`): a DROP
  rule in a chain of our own (GTCHECK) hooked into INPUT and OUTPUT. SSH is left alone:
  the control node must still reach the host to heal it.
- `host-kill`: `kill -9` one host's worker (`kill-worker`); ended by `restart-worker`.
- `host-pause`: SIGSTOP one host's worker (`pause-worker`); ended by `resume-worker`
  (SIGCONT).
- `host-clock`: restart one host's worker under faketime with its clock skewed by +-N ms
  (`skew-host-clock`); ended by `unskew-host-clock` (a fresh worker, clock measured). Never `date`: the hosts of the local
  test bed share this machine's clock. A host without faketime fails the operation
  (definitely not in force) and says so.
- `host-latency`: `delay-host` N ms on the host's traffic to its endpoint, with tc netem
  where the kernel has sch_netem (detected on the host by trying it, never assumed); where
  it does not (as on this machine's kernel), the worker's requests go through a delaying
  TCP proxy on the host (in the worker process), and the run log says so.

`heal` undoes every fault on every host. `teardown` (the end of the run, also after
Ctrl-C) heals again and removes the GTCHECK chains; a host where something could not be
undone is named in the error it raises (the run summary shows it in red). Each fault's
value names its host and that host's region, so fault periods (results.history) and the
availability checker know which region's clients it hit.

A run killed outright (SIGKILL, a lost machine) never reaches its teardown, and a DROP
rule it left would fail the next run's clients on that host. So every remote run begins
by removing any GTCHECK chain it finds on its hosts (`clear_left_behind`, said in the
run log), and before judging asks every host whether a fault is still in force
(`in_force`: rules in GTCHECK, or a fault this nemesis remembers as not undone): the run
records them, and availability is not judged under them (suite.core).
"""

from __future__ import annotations

import random
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from suite.errors import BadInput, SetupError
from suite.generator import PENDING, Generator, gen_op, seconds_to_ns
from suite.remote.clock import clock_moved
from suite.protocols import NemesisPackage
from suite.registry import register_nemesis

HEAL = "heal"
CHAIN = "GTCHECK"
NOT_UNDONE = "faults NOT undone on host(s)"


@dataclass(frozen=True)
class HostFamily:
    name: str
    begin: str
    end: str
    magnitude: str | None = None  # "skew" (+-ms) or "delay" (ms)
    description: str = ""

    def begin_op(self, hosts: Mapping[str, str], rng: random.Random, ms: float) -> dict:
        host = rng.choice(sorted(hosts))
        value: dict = {"host": host, "region": hosts[host]}
        if self.magnitude == "skew":
            value["ms"] = ms if rng.random() < 0.5 else -ms
        elif self.magnitude == "delay":
            value["ms"] = ms
        return {"f": self.begin, "value": value}

    def end_op(self, begun: Mapping[str, Any]) -> dict:
        if self.end == HEAL:
            return {"f": HEAL, "value": None}
        v = begun["value"]
        return {"f": self.end, "value": {"host": v["host"], "region": v.get("region")}}


HOST_FAMILIES: Mapping[str, HostFamily] = {f.name: f for f in (
    HostFamily("host-cut", "cut-host", HEAL, None,
               "cut one client host from its region's endpoint (iptables DROP)"),
    HostFamily("host-kill", "kill-worker", "restart-worker", None,
               "kill -9 one host's worker, then start a fresh one"),
    HostFamily("host-pause", "pause-worker", "resume-worker", None,
               "SIGSTOP one host's worker, then SIGCONT"),
    HostFamily("host-clock", "skew-host-clock", "unskew-host-clock", "skew",
               "restart one host's worker under faketime with a skewed clock"),
    HostFamily("host-latency", "delay-host", HEAL, "delay",
               "delay one host's traffic to its endpoint (tc netem, else a TCP proxy)"),
)}
HOST_FS = frozenset({f.begin for f in HOST_FAMILIES.values()}
                    | {f.end for f in HOST_FAMILIES.values()})
DEFAULT_MS = {"skew": 2000.0, "delay": 100.0}


@dataclass(frozen=True)
class HostSchedule(Generator):
    """One family's turns at fixed times: turn n begins at `interval * (1 + 2 * slot) +
    n * 2 * slots * interval` and ends one interval later (nemesis.packages' grid), on a
    host drawn from the seed."""

    family: str
    hosts: Mapping[str, str]  # host -> its region
    interval_s: float
    seed: int
    ms: float = 0.0
    slot: int = 0
    slots: int = 1
    turn: int = 0
    begun: Any = None

    def op(self, test, ctx):
        if ctx.some_free_thread() is None:
            return PENDING
        rng = random.Random(self.seed)
        fam = HOST_FAMILIES[self.family]
        interval = seconds_to_ns(self.interval_s)
        at = interval * (1 + 2 * self.slot) + self.turn * 2 * self.slots * interval
        if self.begun is None:
            op = fam.begin_op(self.hosts, rng, self.ms)
            begun, turn = op, self.turn
        else:
            op = fam.end_op(self.begun)
            begun, turn, at = None, self.turn + 1, at + interval
        res = gen_op({**op, "time": max(ctx.time, at)}, test, ctx)
        if res is None or res is PENDING:
            return res
        return res[0], HostSchedule(self.family, self.hosts, self.interval_s,
                                    rng.getrandbits(64), self.ms, self.slot, self.slots,
                                    turn, begun)


def _endpoint(url: str) -> tuple[str, int]:
    u = urllib.parse.urlsplit(url)
    return u.hostname or "", u.port or (443 if u.scheme == "https" else 80)


@dataclass
class _HostState:
    cut: bool = False
    paused: bool = False
    restart: bool = False   # killed, or running under faketime: a fresh worker heals it
    unskewed: Any = None    # while skewed: the host's clock estimate before the skew
    netem_dev: str | None = None
    proxied: bool = False
    chain: bool = False


class HostNemesis:
    """Performs host faults over the fleet's SSH connections; remembers what is in
    force on each host so `heal` and `teardown` can undo exactly that."""

    def __init__(self, fleet: Any, *, log: Callable[[str], None] = lambda m: None):
        self.fleet = fleet
        self.log = log
        self.state: dict[str, _HostState] = {n: _HostState() for n in fleet.sessions}
        self.netem: dict[str, bool] = {}
        self._torn_down = False
        # One fault operation at a time. A fault still in flight at the main phase's time
        # limit (a worker restart over SSH can take seconds on a loaded machine) is
        # recorded `info` and its runner thread abandoned, but it goes on; the final heal,
        # from a fresh thread, must wait for it and then undo it, not restart the same
        # worker beside it (suite.runner's time-limit cut).
        self._lock = threading.RLock()

    def fs(self) -> set[str]:
        return set(HOST_FS) | {HEAL}

    # --- helpers -------------------------------------------------------------------------

    def _run(self, host: str, argv: Sequence[str], *, sudo: bool = True) -> tuple[int, str]:
        from suite.remote import ssh
        s = self.fleet.sessions[host]
        status, out, err = ssh.run(s.ssh, argv, sudo=sudo and s.spec.sudo, timeout_s=20)
        return status, (out + err).strip()

    def _must(self, host: str, argv: Sequence[str], *, sudo: bool = True) -> str:
        status, text = self._run(host, argv, sudo=sudo)
        if status != 0:
            raise SetupError(f"host {host}: {' '.join(argv)}: exit {status}: {text[:200]}")
        return text

    def _iptables(self, host: str, *args: str) -> int:
        return self._run(host, ["iptables", "-w", "5", *args])[0]

    def _session(self, host: str) -> Any:
        s = self.fleet.sessions.get(host)
        if s is None:
            raise BadInput(f"no host named {host!r} in the hosts file")
        return s

    # --- the protocol --------------------------------------------------------------------

    def setup(self, test: Any) -> "HostNemesis":
        return self

    def prepare(self, family: str) -> None:
        """Before the run: what a family's faults need in place, so that a fault itself
        is one quick command (a cut must not start late because chains were being made)."""
        if family == "host-cut":
            for host in self.fleet.sessions:
                self._ensure_chain(host)

    def invoke(self, test: Any, op: Any) -> Any:
        with self._lock:
            return self._invoke(test, op)

    def _invoke(self, test: Any, op: Any) -> Any:
        f = op["f"] if isinstance(op, Mapping) else op.f
        value = (op.get("value") if isinstance(op, Mapping) else op.value) or {}
        try:
            if f == HEAL:
                failed = self.heal()
                done = {"type": "ok"} if not failed else {
                    "type": "info", "error": "heal-incomplete",
                    "message": "; ".join(f"{h}: {r}" for h, r in failed.items())[:300]}
            else:
                done = self._begin(f, value)
        except BadInput as e:
            done = {"type": "fail", "error": "bad-fault", "message": str(e)[:300]}
        except Exception as e:  # noqa: BLE001 -- unknown outcome: the fault may be in force
            done = {"type": "info", "error": f"host-fault:{type(e).__name__}",
                    "message": str(e)[:300]}
        return {**op, **done} if isinstance(op, Mapping) else op.replace(**done)

    def _begin(self, f: str, value: Mapping[str, Any]) -> dict:
        host = value.get("host")
        s = self._session(host)
        st = self.state.setdefault(host, _HostState())
        if f == "cut-host":
            addr, port = _endpoint(self.fleet.endpoint_of(s.spec.region))
            if not st.chain:
                self._ensure_chain(host)
            st.cut = True  # before the rule: a half-done cut is still undone
            self._must(host, ["iptables", "-w", "5", "-A", CHAIN, "-p", "tcp", "-d", addr,
                              "--dport", str(port), "-j", "DROP"])
        elif f == "kill-worker":
            if s.lost is not None or s.pid is None:
                return {"type": "fail", "error": "no-worker"}
            st.restart = True
            self._must(host, ["kill", "-9", str(s.pid)])
        elif f == "pause-worker":
            if s.lost is not None or s.pid is None:
                return {"type": "fail", "error": "no-worker"}
            st.paused = True
            self._must(host, ["kill", "-STOP", str(s.pid)])
        elif f == "resume-worker":
            self._resume(host, st)
        elif f in ("restart-worker", "unskew-host-clock"):
            self.fleet.restart(host)
            st.restart = False
            st.unskewed = None
        elif f == "skew-host-clock":
            status, _ = self._run(host, ["sh", "-c", "command -v faketime"], sudo=False)
            if status != 0:
                return {"type": "fail", "error": "no-faketime",
                        "message": f"faketime is not installed on host {host}"}
            ms = float(value.get("ms", DEFAULT_MS["skew"]))
            track = getattr(s, "track", None)
            if st.unskewed is None and track is not None:
                st.unskewed = track.latest()  # the host's clock before any skew
            st.restart = True
            # the worker runs faketime itself (suite/remote/worker.py): no host needs to
            # let faketime run as root through sudo
            self.fleet.restart(host, worker_args=["--faketime", f"{ms / 1000:+.3f}s"])
            return self._skew_measured(host, st, s, ms)
        elif f == "delay-host":
            self._delay(host, s, st, float(value.get("ms", DEFAULT_MS["delay"])))
        else:
            return {"type": "fail", "error": f"unsupported-fault:{f}"}
        return {"type": "ok"}

    def _skew_measured(self, host: str, st: _HostState, s: Any, ms: float) -> dict:
        """The clock fault as it happened: the restarted worker's clock against the
        host's clock before any skew, measured by the control node (suite.remote.clock).
        A skew further from what was asked than the measurement's error allows is `info`
        (a worker under faketime is in force, but not the fault asked for)."""
        track = getattr(s, "track", None)
        if st.unskewed is None or track is None:
            return {"type": "ok"}
        moved_ns, error_ns = clock_moved(st.unskewed, track.latest())
        got = {"skew_ms_measured": round(moved_ns / 1e6, 3),
               "skew_ms_error": round(error_ns / 1e6, 3)}
        self.log(f"host {host}: clock skewed by {moved_ns / 1e6:+.3f} ms "
                 f"(+-{error_ns / 1e6:.3f} ms; asked {ms:+.3f} ms)")
        if abs(moved_ns - ms * 1e6) > error_ns:
            return {"type": "info", "error": "skew-not-as-asked",
                    "message": f"host {host}: its clock moved {moved_ns / 1e6:+.3f} ms "
                               f"(+-{error_ns / 1e6:.3f}), not {ms:+.3f} ms", **got}
        return {"type": "ok", **got}

    def _ensure_chain(self, host: str) -> None:
        st = self.state[host]
        st.chain = True
        if self._iptables(host, "-n", "-L", CHAIN) != 0:
            self._must(host, ["iptables", "-w", "5", "-N", CHAIN])
        for hook in ("INPUT", "OUTPUT"):
            if self._iptables(host, "-C", hook, "-j", CHAIN) != 0:
                self._must(host, ["iptables", "-w", "5", "-I", hook, "1", "-j", CHAIN])

    def _resume(self, host: str, st: _HostState) -> None:
        s = self.fleet.sessions[host]
        if st.paused and s.pid is not None:
            # sudo stopped itself with its command; it must go on too (fleet.HostSession)
            self._must(host, ["kill", "-CONT", str(s.pid)] + ([str(s.ppid)] if s.ppid else []))
        st.paused = False

    def _delay(self, host: str, s: Any, st: _HostState, ms: float) -> None:
        if self.netem.get(host) is not False:
            addr, _ = _endpoint(self.fleet.endpoint_of(s.spec.region))
            route = self._must(host, ["ip", "-o", "route", "get", addr], sudo=False).split()
            dev = route[route.index("dev") + 1] if "dev" in route else "eth0"
            status, text = self._run(host, ["tc", "qdisc", "add", "dev", dev, "root",
                                            "netem", "delay", f"{ms:g}ms"])
            if status == 0:
                self.netem[host] = True
                st.netem_dev = dev
                return
            if "unknown" not in text.lower() and "no such file" not in text.lower():
                raise SetupError(f"host {host}: tc netem: {text[:200]}")
            self.netem[host] = False
            self.log(f"host {host}: this kernel has no sch_netem ({text[:80]}); delaying "
                     "the worker's requests through a TCP proxy on the host instead")
        st.proxied = True
        s.request_delay(ms)

    def _undo(self, host: str) -> None:
        st = self.state.get(host) or _HostState()
        s = self.fleet.sessions[host]
        if st.cut or st.chain:
            self._must(host, ["iptables", "-w", "5", "-F", CHAIN])
            st.cut = False
        if st.paused:
            self._resume(host, st)
        if st.netem_dev:
            self._must(host, ["tc", "qdisc", "del", "dev", st.netem_dev, "root"])
            st.netem_dev = None
        if st.proxied:
            if s.lost is None:
                s.request_delay(0)
            st.proxied = False
        if st.restart:  # a worker we killed or skewed: a fresh one undoes it
            self.fleet.restart(host)
            st.restart = False
            st.unskewed = None

    def _chain_rules(self, host: str) -> list[str] | None:
        """The rules of the GTCHECK chain on `host`, None when there is no such chain
        (or no iptables: then gtcheck cannot have made one). Raises when the host
        could not say (e.g. no permission)."""
        status, text = self._run(host, ["iptables", "-w", "5", "-S", CHAIN])
        if status == 0:
            return [line for line in text.splitlines() if line.startswith("-A ")]
        low = text.lower()
        if status == 127 or "no chain" in low or "not found" in low \
                or "does a matching rule exist" in low:
            return None
        if "incompatible" in low:
            # iptables-nft 1.8.9 answers -S / -L on a chain that does not exist with
            # "chain `GTCHECK' in table `filter' is incompatible, use 'nft' tool"; -C on
            # a hook names the missing chain plainly ("Chain 'GTCHECK' does not exist").
            hooked, answer = self._run(host, ["iptables", "-w", "5", "-C", "INPUT", "-j",
                                              CHAIN])
            if hooked != 0 and "does not exist" in answer.lower():
                return None
        raise SetupError(f"host {host}: iptables -S {CHAIN}: exit {status}: {text[:200]}")

    def clear_left_behind(self) -> dict[str, list[str]]:
        """At the start of a run: remove every GTCHECK chain (its rules, its INPUT and
        OUTPUT hooks, the chain) that an earlier run left on the hosts, and say so in
        the run log. Returns {host: the rules removed} for the hosts that had one."""
        removed: dict[str, list[str]] = {}
        for host, s in self.fleet.sessions.items():
            if s.lost is not None:
                continue
            try:
                rules = self._chain_rules(host)
            except SetupError as e:
                self.log(f"host {host}: could not look for an iptables chain {CHAIN} left "
                         f"by an earlier run: {e}")
                continue
            if rules is None:
                continue
            self._must(host, ["iptables", "-w", "5", "-F", CHAIN])
            for hook in ("INPUT", "OUTPUT"):
                while self._iptables(host, "-C", hook, "-j", CHAIN) == 0:
                    self._must(host, ["iptables", "-w", "5", "-D", hook, "-j", CHAIN])
            self._must(host, ["iptables", "-w", "5", "-X", CHAIN])
            removed[host] = rules
            what = (f"{len(rules)} rule(s) flushed: {'; '.join(rules)[:300]}" if rules
                    else "it held no rule")
            self.log(f"host {host}: removed iptables chain {CHAIN} left by an earlier "
                     f"run ({what})")
        return removed

    def in_force(self) -> dict[str, str]:
        """{host: what} for every host fault still in force: rules in the host's GTCHECK
        chain, or faults this nemesis made and remembers as not undone. Lost hosts are
        left out (their clients are gone); a host where this run made a chain and that
        cannot say now is reported so."""
        with self._lock:
            return self._in_force()

    def _in_force(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for host, s in self.fleet.sessions.items():
            if s.lost is not None:
                continue
            found = []
            st = self.state.get(host) or _HostState()
            for name, on in (("cut", st.cut), ("worker paused", st.paused),
                             ("netem delay", st.netem_dev), ("proxy delay", st.proxied),
                             ("worker killed or skewed", st.restart)):
                if on:
                    found.append(f"{name} not undone")
            try:
                rules = self._chain_rules(host)
                if rules:
                    found.append(f"iptables chain {CHAIN} holds {len(rules)} rule(s): "
                                 f"{'; '.join(rules)[:200]}")
            except SetupError as e:
                # a host whose iptables we may not use cannot hold a rule of ours either
                # (clear_left_behind said so at the start), unless this run made one
                if st.chain:
                    found.append(f"could not check its iptables chain {CHAIN}: {e}")
            if found:
                out[host] = "; ".join(found)
        return out

    def heal(self) -> dict[str, str]:
        """Undo every fault on every host; {host: why} for the ones that failed."""
        with self._lock:
            return self._heal()

    def _heal(self) -> dict[str, str]:
        failed = {}
        for host in self.fleet.sessions:
            try:
                self._undo(host)
            except Exception as e:  # noqa: BLE001 -- reported by host, the others go on
                failed[host] = f"{type(e).__name__}: {e}"[:300]
                self.log(f"host {host}: could not undo its faults: {failed[host]}")
        return failed

    def teardown(self, test: Any) -> None:
        with self._lock:
            self._teardown()

    def _teardown(self) -> None:
        if self._torn_down:  # shared by every host family of the run: once is enough
            return
        self._torn_down = True
        failed = self.heal()
        for host, st in self.state.items():
            if host in failed or not st.chain:
                continue
            try:
                for hook in ("INPUT", "OUTPUT"):
                    self._must(host, ["iptables", "-w", "5", "-D", hook, "-j", CHAIN])
                self._must(host, ["iptables", "-w", "5", "-X", CHAIN])
                st.chain = False
            except Exception as e:  # noqa: BLE001 -- reported by host below
                failed[host] = f"{type(e).__name__}: {e}"[:300]
        if failed:
            raise SetupError(f"{NOT_UNDONE} " + ", ".join(
                f"{h} ({why})" for h, why in sorted(failed.items())))


class FamilyNemesis:
    """One family's view of the run's one `HostNemesis`: it claims only that family's
    operations (and heal), so families compose (suite.compose) while sharing the state
    of what is in force on each host."""

    def __init__(self, shared: HostNemesis, family: HostFamily):
        self.shared = shared
        self.family = family
        self._fs = {family.begin, family.end, HEAL}

    def fs(self) -> set[str]:
        return set(self._fs)

    def setup(self, test: Any) -> "FamilyNemesis":
        self.shared.prepare(self.family.name)
        return self

    def invoke(self, test: Any, op: Any) -> Any:
        return self.shared.invoke(test, op)

    def teardown(self, test: Any) -> None:
        self.shared.teardown(test)


def host_package(name: str):
    """`factory(test, target) -> NemesisPackage` for one host family; the families the
    test names take turns (slot among the host families of `test.nemesis`)."""
    def factory(test: Any, target: Any) -> NemesisPackage:
        fleet = getattr(target, "fleet", None)
        if fleet is None:
            raise BadInput(f"the {name} nemesis needs --hosts (faults on remote client hosts)")
        mine = [n for n in test.nemesis if n in HOST_FAMILIES]
        fam = HOST_FAMILIES[name]
        hosts = {n: s.spec.region for n, s in fleet.sessions.items()}
        schedule = HostSchedule(name, hosts, test.nemesis_interval or 1.0,
                                random.Random(f"gtcheck-host-nemesis:{name}:{test.seed}")
                                .getrandbits(64), DEFAULT_MS.get(fam.magnitude or "", 0.0),
                                mine.index(name), len(mine))
        return NemesisPackage(nemesis=FamilyNemesis(fleet.nemesis(), fam), generator=schedule,
                              final_generator=[{"f": HEAL, "value": None}], name=name)
    return factory


for _name in HOST_FAMILIES:
    register_nemesis(_name, host_package(_name),
                     description=HOST_FAMILIES[_name].description + "; needs --hosts",
                     targets=())  # a run with --hosts only (test-all has none)
