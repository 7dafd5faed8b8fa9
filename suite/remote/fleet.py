"""The control node's side of a remote run: one SSH session and one worker per host.

`Fleet.start` connects to every host of the hosts file (in parallel; host keys verified,
suite.remote.ssh), starts `gtcheck worker` there (through `sudo -n` where the hosts file
says so), checks that the worker runs the control node's gtcheck version and protocol
(the hosts must already have it installed: on the local test bed they share this
machine's filesystem and have no package index, so verifying the control node's own
install is what applies), hands it the test and the region's endpoint, and measures its
clock (suite.remote.clock). Any failure is one line naming the host.

During the run the ordinary runner (suite.runner) drives everything as in a local run:
the generator, process ids, timeouts, retirement, the nemesis. Only the client differs:
`RemoteClient` sends each operation to a worker in the thread's region and returns the
worker's completion with the host's name, the worker's own start/end times and that
host's clock offset and bound. `MappedHistory` sits between the runner and the history
file and puts each remote operation at its worker-timed interval mapped to the control
clock and widened by the bound, in time order (clock.Merger), so the history's order is
real-time order as the linearizability checker needs it.

A host whose worker dies (kill -9, lost connection) is marked lost at once: its in-flight
operations complete `info` ("host-lost", so the runner retires their processes, as
Jepsen does), and its idle clients move to another live host of the region; with none
left, operations fail definitely (never sent). `restart(name)` starts a fresh worker.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Mapping

from results.history import INVOKE, NEMESIS, HistoryWriter, Op
from suite.remote import ssh
from suite.remote.clock import (ClockEstimate, ClockSample, ClockTrack, Merger, drifted,
                                estimate, mapped_interval)
from suite.remote.hosts import HostsFile, HostSpec
from suite.remote.ssh import HostError
from suite.remote.worker import PROTOCOL, worker_versions

HELLO_TIMEOUT_S = 30.0
CLOCK_SAMPLES = 16
RESYNC_S = 1.0        # how often each worker's clock is measured again during the run
RESYNC_SAMPLES = 4


class _Pending:
    __slots__ = ("event", "msg", "lost")

    def __init__(self):
        self.event = threading.Event()
        self.msg: dict | None = None
        self.lost: str | None = None


class HostSession:
    """One host: its SSH connection, its worker process and the worker's clock."""

    def __init__(self, spec: HostSpec, client: Any, *, log: Callable[[str], None]):
        self.spec = spec
        self.name = spec.name
        self.ssh = client
        self.log = log
        self.chan: Any = None
        self.pid: int | None = None
        self.ppid: int | None = None
        self.lost: str | None = "not started"
        self.ready = False  # set up, clock measured: operations may be sent
        self.track: ClockTrack | None = None
        self.gap_bound_ns = 0  # the bound the worker spaces operations by (>= op bounds)
        self.clients = 0
        self.epoch_ns = 0
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self._n = itertools.count(1)
        self._control: dict[str, _Pending] = {}
        self._stderr: deque[str] = deque(maxlen=20)
        self._stderr_reader: threading.Thread | None = None

    # --- the worker process --------------------------------------------------------------

    def start_worker(self) -> None:
        """Start `gtcheck worker` and check its versions; HostError naming the host."""
        argv = [self.spec.gtcheck, "worker", "--host", self.name]
        if self.spec.clock_offset_ms:
            argv += ["--clock-offset-ms", repr(self.spec.clock_offset_ms)]
        self._launch(ssh.command_line(argv, sudo=self.spec.sudo))

    def _launch(self, command: str) -> None:
        try:
            chan = self.ssh.get_transport().open_session()
            chan.exec_command(command)
        except Exception as e:  # noqa: BLE001 -- one line naming the host
            raise HostError(f"{self.spec.where()}: cannot start the worker: {e}") from None
        with self._lock:
            self.chan = chan
            self.ready = False
            self._pending.clear()
            self._control = {"hello": _Pending(), "setup": _Pending()}
            self.lost = None
        self._stderr.clear()
        self._stderr_reader = threading.Thread(target=self._read_stderr, args=(chan,),
                                               daemon=True, name=f"gtcheck-host-{self.name}-err")
        self._stderr_reader.start()
        threading.Thread(target=self._read, args=(chan,), daemon=True,
                         name=f"gtcheck-host-{self.name}").start()
        hello = self._await("hello", HELLO_TIMEOUT_S)
        mine, theirs = worker_versions(), hello.get("versions") or {}
        if (theirs.get("gtcheck"), theirs.get("protocol")) != (mine["gtcheck"], PROTOCOL):
            self.stop()
            raise HostError(f"{self.spec.where()}: gtcheck {theirs.get('gtcheck')} (protocol "
                            f"{theirs.get('protocol')}) there, {mine['gtcheck']} (protocol "
                            f"{PROTOCOL}) here: install this version there, or point the "
                            f"host's `gtcheck:` at one")
        self.pid = hello.get("pid")
        # Through sudo, the worker's parent is sudo, which stops itself when its command
        # is stopped (job control): whoever resumes the worker must resume it too.
        self.ppid = hello.get("ppid") if self.spec.sudo else None

    def _await(self, kind: str, timeout_s: float) -> dict:
        slot = self._control[kind]
        if not slot.event.wait(timeout_s):
            raise HostError(f"{self.spec.where()}: no {kind} from the worker within "
                            f"{timeout_s:g}s{self._stderr_tail()}")
        if slot.lost is not None:
            raise HostError(f"{self.spec.where()}: the worker ended before {kind}: "
                            f"{slot.lost}")
        return slot.msg or {}

    def _stderr_tail(self) -> str:
        return f" (its stderr: {self._stderr[-1]})" if self._stderr else ""

    def setup(self, test_json: Mapping[str, Any], endpoints: Mapping[str, str], *,
              proxy: bool = False) -> None:
        self.send({"t": "setup", "test": dict(test_json), "endpoints": dict(endpoints),
                   "region": self.spec.region, "proxy": proxy})
        msg = self._await("setup", HELLO_TIMEOUT_S + 30)
        if msg.get("t") == "error":
            raise HostError(f"{self.spec.where()}: worker set-up failed: {msg.get('error')}")

    def sync_clock(self, *, samples: int = CLOCK_SAMPLES,
                   timeout_s: float = 10.0) -> ClockEstimate:
        got = []
        for _ in range(samples):
            slot = _Pending()
            n = next(self._n)
            self._control[f"clock{n}"] = slot
            t1 = time.monotonic_ns()
            self.send({"t": "clock", "n": n})
            ok = slot.event.wait(timeout_s)
            t2 = time.monotonic_ns()
            self._control.pop(f"clock{n}", None)
            if not ok or slot.lost is not None or slot.msg is None:
                raise HostError(f"{self.spec.where()}: no clock answer from the worker"
                                f"{': ' + slot.lost if slot.lost else ''}")
            got.append(ClockSample(t1, int(slot.msg["w"]), t2))
        return estimate(got)

    def request_delay(self, ms: float) -> None:
        """Delay this worker's requests by `ms` in its TCP proxy (no netem here)."""
        self.send({"t": "delay", "ms": ms})

    def send(self, msg: dict) -> None:
        data = (json.dumps(msg, separators=(",", ":"), default=str) + "\n").encode()
        with self._send_lock:
            self.chan.sendall(data)

    def _read(self, chan: Any) -> None:
        reason = "the worker's output ended"
        try:
            f = chan.makefile("rb", 65536)
            for raw in f:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    self.log(f"host {self.name}: not a protocol line: {raw[:200]!r}")
                    continue
                self._route(msg)
        except Exception as e:  # noqa: BLE001 -- the connection is gone: the host is lost
            reason = f"{type(e).__name__}: {e}"
        if chan is not self.chan:
            return  # an old worker's channel (restarted): nothing to fail
        self._stderr_reader.join(1.0)  # its last words explain the end
        status = chan.recv_exit_status() if chan.exit_status_ready() else None
        if status is None:
            time.sleep(0.2)
            status = chan.exit_status_ready() and chan.recv_exit_status()
        if status == -1:  # SSH reports a signal, not a status
            reason = "the worker was killed by a signal"
        elif status not in (None, False, 0):
            reason = f"the worker exited with status {status}"
        self._lose(reason + self._stderr_tail(), chan)

    def _read_stderr(self, chan: Any) -> None:
        try:
            for raw in chan.makefile_stderr("rb", 4096):
                line = raw.decode(errors="replace").rstrip()
                if line:
                    self._stderr.append(line)
                    self.log(f"host {self.name}: {line}")
        except Exception:  # noqa: BLE001 -- stderr is diagnostics only; its end is no error
            return

    def _route(self, msg: dict) -> None:
        t = msg.get("t")
        if t == "done":
            with self._lock:
                slot = self._pending.pop(msg.get("n"), None)
            if slot is not None:
                slot.msg = msg
                slot.event.set()
            return
        if t == "clock":
            key = f"clock{msg.get('n')}"
        elif t in ("ready", "error"):
            key = "setup"
        else:
            key = t
        slot = self._control.get(key)
        if slot is not None:
            slot.msg = msg
            slot.event.set()

    def _lose(self, reason: str, chan: Any = None) -> None:
        with self._lock:
            if self.lost is not None or (chan is not None and chan is not self.chan):
                return  # already lost, or an old worker's channel (restarted since)
            self.lost = reason
            pending, self._pending = self._pending, {}
        if reason != "stopped":
            self.log(f"host {self.name} lost: {reason}")
        for slot in list(pending.values()) + list(self._control.values()):
            slot.lost = reason
            slot.event.set()

    def stop(self) -> None:
        """Ask the worker to end and close its channel (the SSH connection stays)."""
        chan = self.chan
        if chan is None:
            return
        try:
            if not self.lost:
                self.send({"t": "bye"})
        except Exception:  # noqa: BLE001 -- a dead channel needs no goodbye
            pass
        self._lose("stopped")
        deadline = time.monotonic() + 5.0
        while not chan.exit_status_ready() and not chan.closed and time.monotonic() < deadline:
            time.sleep(0.02)  # let it end by itself: no process is left behind
        if not chan.exit_status_ready() and not chan.closed and self.pid is not None:
            self.log(f"host {self.name}: the worker did not end; killing pid {self.pid}")
            try:
                ssh.run(self.ssh, ["kill", "-9", str(self.pid)], sudo=self.spec.sudo,
                        timeout_s=10)
                if self.ppid:  # a stopped sudo would never pass the worker's end on
                    ssh.run(self.ssh, ["kill", "-CONT", str(self.ppid)], sudo=True,
                            timeout_s=10)
            except Exception as e:  # noqa: BLE001 -- reported; the host keeps a stray worker
                self.log(f"host {self.name}: could not kill the worker: {e}")
        try:
            chan.close()
        except Exception as e:  # noqa: BLE001 -- closing is best effort
            self.log(f"host {self.name}: closing the worker channel: {e}")

    # --- operations ----------------------------------------------------------------------

    def call(self, cid: int, op: Mapping[str, Any], timeout_s: float) -> dict:
        """Perform `op` on this host; the completion with host, worker times and clock."""
        slot = _Pending()
        with self._lock:
            if self.lost is not None or not self.ready or self.chan.closed:
                # nothing is sent: it definitely did not happen
                return {"type": "fail", "error": f"host-lost: {self.name}: "
                                                 f"{self.lost or 'not ready'}"}
            n = next(self._n)
            self._pending[n] = slot
        try:
            self.send({"t": "op", "c": cid, "n": n, "op": dict(op)})
        except Exception as e:  # noqa: BLE001 -- maybe partly sent: unknown
            with self._lock:
                self._pending.pop(n, None)
            return {"type": "info", "error": f"host-lost: {self.name}: send failed: {e}",
                    "host": self.name}
        if not slot.event.wait(timeout_s):
            with self._lock:
                self._pending.pop(n, None)
            return {"type": "info", "error": "no-answer", "host": self.name}
        if slot.msg is None:
            return {"type": "info", "error": f"host-lost: {self.name}: {slot.lost}",
                    "host": self.name}
        m, track = slot.msg, self.track
        done = dict(m.get("op") or {})
        done.setdefault("type", "info")
        o0 = track.offset_ns
        done.update(host=self.name, worker_ns=[m["s"], m["e"]], clock_offset_ns=o0,
                    clock_bound_ns=track.bound_ns(m["s"] + o0, m["e"] + o0),
                    epoch_ns=self.epoch_ns)
        return done


class Fleet:
    """Every host of a remote run; see the module docstring."""

    def __init__(self, hosts: HostsFile, *, accept_new: bool = False,
                 log: Callable[[str], None] = lambda m: None, op_timeout_s: float = 5.0):
        self.hosts = hosts
        self.accept_new = accept_new
        self.log = log
        self.op_timeout_s = op_timeout_s
        self.sessions: dict[str, HostSession] = {}
        self.epoch_ns = 0
        self.epoch_err_ns = 0
        self._test_json: Mapping[str, Any] = {}
        self._endpoints: Mapping[str, str] = {}
        self._cid = itertools.count(1)
        self._lock = threading.Lock()
        self.warnings: list[str] = []
        self._closing = threading.Event()
        self._nemesis: Any = None
        self.proxy = False  # workers send their requests through a delaying proxy

    # --- set-up --------------------------------------------------------------------------

    def start(self, test_json: Mapping[str, Any], endpoints: Mapping[str, str]) -> None:
        """Connect, start and set up every host's worker; measure clocks. All or nothing."""
        self._test_json, self._endpoints = test_json, endpoints
        specs = self.hosts.hosts
        errors: list[str] = []
        with ThreadPoolExecutor(max_workers=len(specs)) as pool:
            for spec, err in zip(specs, pool.map(self._start_one, specs)):
                if err is not None:
                    errors.append(err)
        if errors:
            for e in errors[1:]:
                self.log(f"gtcheck: {e}")
            self.close()
            raise HostError(errors[0] + (f" (and {len(errors) - 1} more host(s) failed)"
                                         if len(errors) > 1 else ""))
        for s in self.sessions.values():
            c = s.track.latest()
            self.log(f"host {s.name} ({s.spec.region}): worker pid {s.pid}, clock offset "
                     f"{c.offset_ns / 1e6:+.3f} ms, bound {c.bound_ns / 1e6:.3f} ms "
                     f"(round trip {c.rtt_ns / 1e6:.3f} ms)")

    def _start_one(self, spec: HostSpec) -> str | None:
        try:
            client = ssh.connect(spec, known_hosts=self.hosts.known_hosts,
                                 accept_new=self.accept_new)
            s = HostSession(spec, client, log=self.log)
            with self._lock:
                self.sessions[spec.name] = s
            self._bring_up(s)
        except HostError as e:
            return str(e)
        return None

    def _bring_up(self, s: HostSession) -> None:
        s.start_worker()
        s.setup(self._test_json, self._endpoints, proxy=self.proxy)
        self._adopt_clock(s)

    def _adopt_clock(self, s: HostSession) -> None:
        """Measure `s`'s clock; its bounds include the uncertainty of the run's start."""
        s.track = ClockTrack.start(s.sync_clock(), extra_ns=self.epoch_err_ns)
        s.epoch_ns = self.epoch_ns
        self._send_gap(s)
        s.ready = True

    def _send_gap(self, s: HostSession) -> None:
        """Tell the worker the largest bound its next operations can get before the next
        measurement (with room for a few late ones: a paused host holds the measuring
        thread up to 2 s), so it spaces each client's operations by twice that and
        widened intervals of one process never overlap; the merge's slack uses it too."""
        now = time.monotonic_ns()
        s.gap_bound_ns = s.track.bound_ns(now, now + int(5 * RESYNC_S * 1e9))
        s.send({"t": "bound", "ns": s.gap_bound_ns})

    def _resync(self) -> None:
        """Measure every ready worker's clock again, every RESYNC_S, until closed."""
        while not self._closing.wait(RESYNC_S):
            for s in list(self.sessions.values()):
                if s.lost is not None or not s.ready or s.track is None:
                    continue
                try:
                    e = s.sync_clock(samples=RESYNC_SAMPLES, timeout_s=2.0)
                    self._add_estimate(s, e)
                    self._send_gap(s)
                except Exception as e:  # noqa: BLE001 -- a paused or lost host; try later
                    self.log(f"host {s.name}: clock not measured: {e}")

    def _add_estimate(self, s: HostSession, e: ClockEstimate) -> None:
        if drifted(s.track.latest(), e):
            self.warnings.append(
                f"host {s.name}: clock offset moved from {s.track.latest().offset_ns} to "
                f"{e.offset_ns} ns, more than drift allows: its operations' times may be "
                "unsound")
        s.track = s.track.with_estimate(e)

    def restart(self, name: str, *, prefix: list[str] | None = None,
                worker_args: list[str] | None = None) -> None:
        """A fresh worker on host `name` (after a kill, under `prefix`, or with further
        `worker_args`, e.g. `--faketime +0.500s`)."""
        s = self.sessions[name]
        s.stop()
        transport = s.ssh.get_transport()
        if transport is None or not transport.is_active():  # the connection itself is gone
            s.ssh = ssh.connect(s.spec, known_hosts=self.hosts.known_hosts,
                                accept_new=self.accept_new)
        argv = list(prefix or []) + [s.spec.gtcheck, "worker", "--host", s.name]
        if s.spec.clock_offset_ms:
            argv += ["--clock-offset-ms", repr(s.spec.clock_offset_ms)]
        argv += list(worker_args or [])
        s._launch(ssh.command_line(argv, sudo=s.spec.sudo))
        s.setup(self._test_json, self._endpoints, proxy=self.proxy)
        self._adopt_clock(s)
        c = s.track.latest()
        self.log(f"host {name}: worker restarted (pid {s.pid}), clock offset "
                 f"{c.offset_ns / 1e6:+.3f} ms, bound {c.bound_ns / 1e6:.3f} ms")

    def attach(self, now: Callable[[], int]) -> None:
        """Learn the run's start on this clock from the runner's `now()` (ns since start):
        read between two readings of the monotonic clock, its start lies between them."""
        a = time.monotonic_ns()
        rel = now()
        b = time.monotonic_ns()
        self.epoch_ns, self.epoch_err_ns = a - rel, b - a + 1
        for s in self.sessions.values():
            s.epoch_ns = self.epoch_ns
            if s.track is not None:
                s.track = s.track.with_extra(self.epoch_err_ns)
                self._send_gap(s)
        threading.Thread(target=self._resync, daemon=True, name="gtcheck-clock").start()

    def endpoint_of(self, region: str) -> str:
        return self._endpoints[region]

    def nemesis(self) -> Any:
        """The run's one host nemesis (suite.remote.faults), shared by its families."""
        if self._nemesis is None:
            from suite.remote.faults import HostNemesis
            self._nemesis = HostNemesis(self, log=self.log)
        return self._nemesis

    def max_bound_ns(self) -> int:
        """At least every bound an operation gets now (each worker's spacing bound)."""
        return max((s.gap_bound_ns for s in self.sessions.values()), default=0)

    # --- clients -------------------------------------------------------------------------

    def pick(self, region: str) -> HostSession | None:
        """The live host of `region` with the fewest clients (None: none is live)."""
        live = [s for s in self.sessions.values()
                if s.spec.region == region and s.lost is None and s.ready]
        return min(live, key=lambda s: s.clients) if live else None

    def client(self) -> "RemoteClient":
        return RemoteClient(self)

    def new_cid(self) -> int:
        return next(self._cid)

    # --- the end -------------------------------------------------------------------------

    def close(self) -> None:
        """Check each live worker's clock again (a drift beyond the bound is reported),
        stop the workers and close every connection."""
        self._closing.set()
        for s in list(self.sessions.values()):
            if s.lost is None and s.track is not None:
                try:
                    self._add_estimate(s, s.sync_clock(samples=8, timeout_s=2.0))
                except HostError as e:
                    self.log(f"gtcheck: final clock check: {e}")
            s.stop()
            try:
                s.ssh.close()
            except Exception as e:  # noqa: BLE001 -- closing is best effort
                self.log(f"host {s.name}: closing SSH: {e}")

    def describe(self) -> dict:
        """hosts.json: each host, its worker and clock estimates (start and end)."""
        return {"hosts": [{"name": s.name, "region": s.spec.region,
                           "address": s.spec.address, "port": s.spec.port,
                           "user": s.spec.user, "pid": s.pid, "lost": s.lost,
                           "clock_offset_ns": s.track.offset_ns if s.track else None,
                           "clock_estimates": [e.to_json() for e in s.track.estimates]
                           if s.track else []}
                          for s in self.sessions.values()],
                "epoch_err_ns": self.epoch_err_ns, "warnings": list(self.warnings)}


class RemoteClient:
    """The runner's client in a remote run: each operation goes to a worker of its region.

    `open` binds a new process to the live host of its region with the fewest clients;
    an idle client whose host was lost moves to another live host of the region (a
    process is only a sequence of operations; none of its own was in flight)."""

    def __init__(self, fleet: Fleet, region: str | None = None,
                 session: HostSession | None = None, cid: int = 0):
        self.fleet = fleet
        self.region = region
        self.session = session
        self.cid = cid

    def open(self, test: Any, region: str) -> "RemoteClient":
        s = self.fleet.pick(region)  # None: no live host now; `invoke` looks again
        if s is not None:
            s.clients += 1
        return RemoteClient(self.fleet, region, s, self.fleet.new_cid())

    def setup(self, test: Any) -> None:
        """Tables are made by the control node; nothing to do per client."""

    def teardown(self, test: Any) -> None:
        """Nothing to undo per client."""

    def close(self, test: Any) -> None:
        if self.session is not None:
            self.session.clients -= 1

    def invoke(self, test: Any, op: Mapping[str, Any]) -> dict:
        s = self.session
        if s is None or s.lost is not None or not s.ready:
            moved = self.fleet.pick(self.region) if self.region else None
            if moved is None:  # nothing was sent anywhere: it definitely did not happen
                return {"type": "fail", "error": f"no live host in region {self.region}"}
            if s is not None:
                s.clients -= 1
            moved.clients += 1
            self.session = s = moved
        return s.call(self.cid, op, timeout_s=self.fleet.op_timeout_s + 30.0)


class MappedHistory:
    """The runner's history in a remote run: remote operations at their worker-timed,
    clock-mapped, bound-widened intervals, written in time order (clock.Merger).

    An invocation is held until its completion says where and when it ran; everything
    else (nemesis operations, operations no worker answered) keeps the control node's
    times, which bracket what happened. If widening would make a process's next
    invocation start before its previous completion (possible only when a process moved
    between hosts right after an operation), the invocation is moved to that completion
    and counted in `moved`."""

    def __init__(self, writer: HistoryWriter, fleet: Fleet):
        self.writer = writer
        self.fleet = fleet
        self.merger = Merger(fleet.max_bound_ns())
        self._held: dict[Any, Op] = {}
        self._last_done: dict[Any, int] = {}
        self._frontier = 0
        self._lock = threading.Lock()
        self.moved = 0

    @property
    def ops(self) -> list[Op]:
        return self.writer.ops

    def record(self, op: Op) -> Op:
        with self._lock:
            self._frontier = max(self._frontier, op.time)
            if op.process == NEMESIS:
                self.merger.push(op)
            elif op.type == INVOKE:
                self._held[op.process] = op
            else:
                self._complete(op)
            mark = min([self._frontier] + [i.time for i in self._held.values()])
            self.merger.slack_ns = 2 * self.fleet.max_bound_ns()  # a restart may change it
            for o in self.merger.pop_until(mark):
                self.writer.record(o)
        return op

    def _complete(self, op: Op) -> None:
        inv = self._held.pop(op.process, None)
        if inv is None:
            self.merger.push(op)
            return
        w, host = op.extra.get("worker_ns"), op.extra.get("host")
        if w:
            start, end = mapped_interval(w[0], w[1], op.extra["clock_offset_ns"],
                                         op.extra["clock_bound_ns"], op.extra["epoch_ns"])
        else:
            start, end = inv.time, op.time
        last = self._last_done.get(op.process)
        if last is not None and start <= last:
            start, self.moved = last + 1, self.moved + 1
            end = max(end, start + 1)
        self._last_done[op.process] = end
        if host is not None:
            inv = inv.replace(extra={**inv.extra, "host": host})
        self.merger.push(inv.replace(time=start))
        self.merger.push(op.replace(time=end))

    def close(self) -> None:
        with self._lock:
            for inv in self._held.values():
                self.merger.push(inv)
            self._held.clear()
            for o in self.merger.pop_all():
                self.writer.record(o)
