"""The runner: turns a generator into real operations on real threads, and records them.

One worker thread per client thread (each bound to a region, each with its own client
opened from the workload's prototype) plus one nemesis worker. A single interpreter loop
owns the generator and the history: it asks the generator for the next operation (with the
current monotonic time and the free threads in its `Context`), waits until that
operation's time, records the invocation, hands it to the thread's worker, and records
each completion as the worker reports it. Only the interpreter touches the generator and
the `HistoryWriter`, so the history order is the order the interpreter saw things.

Per-operation timeouts: an operation still running after `op_timeout_s` is recorded as
`info` ("timeout"); its worker is abandoned (its late answer is discarded) and a fresh
worker continues on the same thread. Any `info` retires the process: the thread continues
as process `old + concurrency` with a freshly opened client (Jepsen's rule: an operation
with an unknown outcome may still take effect, so that process can never be reused).

Phases: the main phase runs until its generator is exhausted, the time limit passes, or
`stop` is set (Ctrl-C / SIGTERM); then nothing new starts, and what is in flight completes
or times out into `info` (at a time limit, within `LIMIT_GRACE_S`: "time-limit"). The final phase follows (heal every fault, wait for quiescence,
final reads marked `final: true`; a nemesis operation cut off in the main phase is
first let finish, up to the nemesis timeout, so no fault lands after the heal); it stops
early only if `abort` is set (a second
signal), in which case in-flight operations are recorded `info` ("interrupted") at once.
`give_up` (set by the caller when the target is gone) ends the main phase like `stop` and
skips the final phase: there is nothing left to heal or read. `halt` (set by the caller
when `--stop-on-violation` found one) ends the main phase like `stop`, and the final phase
runs `halt_final` instead (the heal alone: the verdict is decided, nothing waits for
quiescence).
Every recorded line is flushed before the interpreter moves on, so a run killed at any
moment leaves a history that holds every operation it recorded.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from results.history import HistoryWriter, Op
from suite import generator as gen
from suite.errors import BadInput, GeneratorError
from suite.generator import NEMESIS, PENDING, SLEEP, Context
from suite.protocols import Client, Nemesis

POLL_S = 0.05  # the longest the interpreter waits before looking at stop/abort again
# What is still in flight when the main phase's time limit passes gets this long (at most
# its own timeout) to complete, then is recorded `info` ("time-limit"): the main phase
# ends at the limit plus this grace, not plus a whole operation timeout (issue 25).
LIMIT_GRACE_S = 1.0
_OP_FIELDS = ("index", "time", "type", "process", "f", "key", "value", "region",
              "consistent", "error")


def op_from_dict(d: Mapping[str, Any]) -> Op:
    """A history record from a generator's or a client's dict (unknown keys -> extra)."""
    if not isinstance(d.get("f"), str):
        raise GeneratorError(f"operation has no string 'f': {dict(d)!r}")
    extra = {k: v for k, v in d.items() if k not in _OP_FIELDS}
    return Op(index=-1, time=int(d.get("time", 0)), type=d["type"], process=d["process"],
              f=d["f"], key=d.get("key"), value=d.get("value"), region=d.get("region"),
              consistent=d.get("consistent"), error=d.get("error"), extra=extra)


def describe_exception(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}"
    return text if len(text) <= 300 else text[:297] + "..."


def completion_from(result: Any, invoke: Mapping[str, Any]) -> dict:
    """Normalise what `invoke` returned into a completion dict based on the invocation.

    The completion keeps the invocation's process, f, key, region, consistent and extra
    fields; `value` is the result's if it gave one, else the invocation's. A result that
    is not a mapping with type ok/fail/info is recorded as `info` (we cannot know)."""
    base = {k: v for k, v in invoke.items() if k not in ("type", "time", "error")}
    if isinstance(result, Op):
        result = result.to_dict()
    if not isinstance(result, Mapping) or result.get("type") not in ("ok", "fail", "info"):
        return {**base, "type": "info",
                "error": f"invalid completion from client: {result!r}"[:300]}
    out = dict(base)
    for k, v in result.items():
        if k in ("process", "f", "index", "time"):
            continue  # identity and timing belong to the runner
        out[k] = v
    return out


@dataclass
class _Msg:
    worker: "_Worker"
    invoke: dict
    completion: dict
    time: int


class _Worker:
    """A daemon thread that performs one thread's operations, one at a time.

    For clients it opens a client from the prototype for each new process (the first
    one, and each one after a crash), and closes the old one. It reports every
    completion on the shared outbox, tagged with itself so the interpreter can ignore
    an abandoned worker's late answer."""

    def __init__(self, runner: "Runner", thread: Any, region: str | None, process: Any):
        self.runner = runner
        self.thread = thread
        self.region = region
        self.process = process
        self.inbox: queue.Queue = queue.Queue()
        self.client: Any = None
        self.client_process: Any = None
        self.abandoned = False
        self.ready = threading.Event()  # set once the first client is open (or failed)
        self._t = threading.Thread(target=self._loop, name=f"gtcheck-worker-{thread}",
                                   daemon=True)
        self._t.start()

    def _open(self, process: Any) -> str | None:
        """Open a fresh client for `process` (closing the old one); the error if it failed."""
        self._close_client()
        try:
            self.client = self.runner.client.open(self.runner.test, self.region)
        except Exception as e:  # noqa: BLE001 -- reported to the operation that needs it
            self.runner.log(f"opening a client in {self.region}: {describe_exception(e)}")
            return describe_exception(e)
        self.client_process = process
        return None

    def _invoke(self, op: dict) -> Any:
        r = self.runner
        if self.thread == NEMESIS:
            return r.nemesis.invoke(r.test, op)
        if self.client is None or self.client_process != op["process"]:
            error = self._open(op["process"])
            if error is not None:  # never sent: it definitely did not happen
                return {"type": "fail", "error": "client-open: " + error}
        return self.client.invoke(r.test, op)

    def _close_client(self) -> None:
        if self.client is not None:
            c, self.client = self.client, None
            try:
                c.close(self.runner.test)
            except Exception as e:  # noqa: BLE001 -- logged; closing is best effort
                self.runner.log(f"closing client of thread {self.thread}: "
                                f"{describe_exception(e)}")

    def _loop(self) -> None:
        # Clients are opened ahead of their first operation (and again right after a
        # crash), so opening one never counts against an operation's latency or timeout.
        is_client = self.thread != NEMESIS
        if is_client:
            self._open(self.process)
        self.ready.set()
        while True:
            op = self.inbox.get()
            if op is None:
                break
            try:
                result = self._invoke(op)
            except Exception as e:  # noqa: BLE001 -- unclassified: the outcome is unknown
                result = {"type": "info", "error": describe_exception(e)}
            done = completion_from(result, op)
            now = self.runner.now()
            if done["type"] == "info" and is_client:
                self._close_client()  # this process is retired
            self.runner.outbox.put(_Msg(self, op, done, now))
            if self.abandoned:
                break
            if done["type"] == "info" and is_client:
                self._open(gen.retired_process(op["process"], self.runner.concurrency))
        self._close_client()

    def send(self, op: dict) -> None:
        self.inbox.put(op)

    def stop(self) -> None:
        self.inbox.put(None)

    def join(self, timeout: float) -> None:
        self._t.join(timeout)

    def alive(self) -> bool:
        return self._t.is_alive()


@dataclass
class _InFlight:
    op: dict
    deadline: int  # ns; for a sleep, when it ends
    worker: _Worker | None  # None for a sleep
    cut: bool = False  # its deadline is the time limit's grace, not its own timeout


@dataclass
class RunOutcome:
    interrupted: bool = False
    aborted: bool = False
    timeouts: int = 0
    gave_up: bool = False
    main_phase_s: float | None = None
    errors: list[str] = field(default_factory=list)


class Runner:
    """Runs generators against a client prototype and a nemesis, recording to `history`."""

    def __init__(self, test: Any, *, client: Client | None, nemesis: Nemesis | None,
                 history: HistoryWriter, regions: Sequence[str], concurrency: int,
                 op_timeout_s: float = 5.0, nemesis_timeout_s: float | None = None,
                 stop: threading.Event | None = None, abort: threading.Event | None = None,
                 give_up: threading.Event | None = None,
                 halt: threading.Event | None = None, halt_final: Any = None,
                 on_record: Callable[[Op], None] | None = None,
                 log: Callable[[str], None] | None = None,
                 clock: Callable[[], int] = time.monotonic_ns):
        if concurrency < 1:
            raise BadInput("concurrency must be at least 1")
        if not regions:
            raise BadInput("at least one region is needed")
        self.test = test
        self.client = client
        self.nemesis = nemesis
        self.history = history
        self.regions = tuple(regions)
        self.concurrency = concurrency
        self.op_timeout_ns = gen.seconds_to_ns(op_timeout_s)
        self.nemesis_timeout_ns = gen.seconds_to_ns(
            nemesis_timeout_s if nemesis_timeout_s is not None else max(op_timeout_s, 30.0))
        self.stop_event = stop or threading.Event()
        self.abort_event = abort or threading.Event()
        self.give_up_event = give_up or threading.Event()
        self.halt_event = halt or threading.Event()
        self.halt_final = halt_final
        self.on_record = on_record
        self.log = log or (lambda msg: None)
        self._clock = clock
        self._t0 = clock()
        self.outbox: queue.Queue = queue.Queue()
        self.ctx = Context.initial(concurrency, nemesis=nemesis is not None)
        self.workers: dict[Any, _Worker] = {}
        self.in_flight: dict[Any, _InFlight] = {}
        self.cut_nemesis: list[_Worker] = []  # nemesis workers abandoned mid-operation
        self.outcome = RunOutcome()

    # --- time and recording -------------------------------------------------------------

    def now(self) -> int:
        return self._clock() - self._t0

    def region_of(self, thread: Any) -> str | None:
        return None if thread == NEMESIS else self.regions[thread % len(self.regions)]

    def _record(self, d: Mapping[str, Any]) -> Op:
        op = self.history.record(op_from_dict(d))
        if self.on_record is not None:
            self.on_record(op)
        return op

    # --- workers ------------------------------------------------------------------------

    def _worker(self, thread: Any) -> _Worker:
        w = self.workers.get(thread)
        if w is None:
            w = _Worker(self, thread, self.region_of(thread), self.ctx.process_of(thread))
            self.workers[thread] = w
        return w

    def start_workers(self, wait_s: float) -> None:
        """Start every thread's worker and wait (up to `wait_s`) for their clients."""
        for t in self.ctx.all_threads:
            self._worker(t)
        deadline = time.monotonic() + wait_s
        for w in self.workers.values():
            w.ready.wait(max(0.0, deadline - time.monotonic()))

    def _abandon(self, thread: Any) -> None:
        w = self.workers.pop(thread, None)
        if w is not None:
            w.abandoned = True
            w.stop()
            if thread == NEMESIS:
                self.cut_nemesis.append(w)

    def _await_cut_nemesis(self) -> None:
        """Before the final phase heals: let every nemesis operation cut off (at the time
        limit, or timed out) finish, up to the nemesis timeout, so no fault it was still
        injecting lands after the heal and stays in force during the final reads."""
        deadline = time.monotonic() + self.nemesis_timeout_ns / 1e9
        for w in self.cut_nemesis:
            if w.alive():
                self.log("waiting for a nemesis operation cut off in the main phase to "
                         "end before healing")
                while w.alive() and not self.abort_event.is_set() \
                        and time.monotonic() < deadline:
                    w.join(min(0.1, max(0.0, deadline - time.monotonic())))
            if w.alive():
                error = ("a nemesis operation cut off in the main phase was still running "
                         "when the final phase began: a fault it injects may outlive the heal")
                self.outcome.errors.append(error)
                self.log(error)
        self.cut_nemesis = [w for w in self.cut_nemesis if w.alive()]

    # --- the interpreter ----------------------------------------------------------------

    def _dispatch(self, op: dict, g: Any) -> Any:
        """Start `op` now; returns the generator updated with the invocation."""
        now = self.now()
        p = op["process"]
        thread = NEMESIS if p == NEMESIS else self.ctx.thread_of(p)
        if thread is None or not self.ctx.is_free(thread):
            raise GeneratorError(f"generator emitted an operation for busy or unknown "
                                 f"process {p!r}: {op!r}")
        self.ctx = self.ctx.with_time(now).busy(thread)
        if op.get("type") == SLEEP:
            self.in_flight[thread] = _InFlight(op, now + gen.seconds_to_ns(op["value"]), None)
            return g
        op = {**op, "time": now}
        if thread != NEMESIS:
            op.setdefault("region", self.region_of(thread))
        self._record(op)
        g = gen.gen_update(g, self.test, self.ctx, op)
        timeout = self.nemesis_timeout_ns if thread == NEMESIS else self.op_timeout_ns
        worker = self._worker(thread)
        self.in_flight[thread] = _InFlight(op, now + timeout, worker)
        worker.send(op)
        return g

    def _complete(self, thread: Any, done: dict, g: Any) -> Any:
        """Record a completion, free its thread (retiring a crashed process)."""
        self.in_flight.pop(thread, None)
        self._record(done)
        self.ctx = self.ctx.with_time(max(self.ctx.time, done["time"]))
        g = gen.gen_update(g, self.test, self.ctx, done)
        retire = None
        if done["type"] == "info" and thread != NEMESIS:
            retire = gen.retired_process(done["process"], self.concurrency)
        self.ctx = self.ctx.released(thread, retire_to=retire)
        return g

    def _handle(self, msg: _Msg, g: Any) -> Any:
        thread = msg.worker.thread
        inflight = self.in_flight.get(thread)
        if inflight is None or inflight.worker is not msg.worker:
            return g  # an abandoned worker's late answer: already recorded as info
        return self._complete(thread, {**msg.completion, "time": msg.time}, g)

    def _expire(self, g: Any, *, force: str | None = None) -> Any:
        """Finish sleeps that ended and operations past their deadline (or, with `force`,
        every operation in flight, recorded as info with that error)."""
        now = self.now()
        for thread, fl in sorted(self.in_flight.items(), key=lambda kv: gen.thread_order(kv[0])):
            if fl.worker is None:
                if force is not None or now >= fl.deadline:
                    del self.in_flight[thread]
                    self.ctx = self.ctx.with_time(now).released(thread)
                continue
            if force is None and now < fl.deadline:
                continue
            error = force or ("time-limit" if fl.cut else "timeout")
            if error == "timeout":
                self.outcome.timeouts += 1
            self._abandon(thread)
            done = {**{k: v for k, v in fl.op.items() if k not in ("type", "error")},
                    "type": "info", "error": error, "time": now}
            g = self._complete(thread, done, g)
            if force is None:
                self._worker(thread)  # a fresh worker opens its client ahead of use
        return g

    def _cut_at_limit(self, deadline_ns: int) -> None:
        """The time limit passed: what is in flight may take `LIMIT_GRACE_S` more (or
        its own timeout, if sooner), then it is recorded `info` "time-limit"."""
        grace = min(gen.seconds_to_ns(LIMIT_GRACE_S), self.op_timeout_ns)
        cut = max(deadline_ns, self.now()) + grace
        for fl in self.in_flight.values():
            if fl.worker is not None and fl.deadline > cut:
                fl.deadline, fl.cut = cut, True

    def _wait(self, until_ns: int | None, g: Any) -> Any:
        """Wait for one completion, at most until `until_ns` and at most POLL_S."""
        limit = POLL_S
        deadlines = [fl.deadline for fl in self.in_flight.values()]
        if until_ns is not None:
            deadlines.append(until_ns)
        if deadlines:
            limit = min(limit, max(0.0, (min(deadlines) - self.now()) / 1e9))
        try:
            msg = self.outbox.get(timeout=limit)
        except queue.Empty:
            return g
        g = self._handle(msg, g)
        while True:  # take whatever else already arrived
            try:
                g = self._handle(self.outbox.get_nowait(), g)
            except queue.Empty:
                return g

    def interpret(self, generator: Any, *, stop: threading.Event,
                  deadline_ns: int | None = None) -> None:
        """Run one phase: until the generator is exhausted, `deadline_ns` (since the run
        started) passes, or `stop` is set; then drain what is in flight."""
        g = gen.as_gen(generator)
        generating = g is not None
        cut = False  # in-flight operations held to the time limit's grace
        while True:
            if self.abort_event.is_set():
                self.outcome.aborted = True
                self._expire(g, force="interrupted")
                return
            g = self._expire(g)
            if generating and (stop.is_set() or
                               (deadline_ns is not None and self.now() >= deadline_ns)):
                generating = False
                # Sleeps are not operations: nothing to wait for.
                for t in [t for t, fl in self.in_flight.items() if fl.worker is None]:
                    del self.in_flight[t]
                    self.ctx = self.ctx.released(t)
            if not cut and deadline_ns is not None and self.now() >= deadline_ns \
                    and not stop.is_set():
                cut = True
                self._cut_at_limit(deadline_ns)
            if not generating:
                if not self.in_flight:
                    return
                g = self._wait(None, g)
                continue
            res = gen.gen_op(g, self.test, self.ctx.with_time(self.now()))
            if res is None:
                generating = False
                continue
            if res is PENDING:
                if not self.in_flight:
                    raise GeneratorError("generator is pending with nothing in flight")
                g = self._wait(deadline_ns, g)
                continue
            op, nxt = res
            if op["time"] > self.now():
                until = op["time"] if deadline_ns is None else min(op["time"], deadline_ns)
                g = self._wait(until, g)
                continue
            g = self._dispatch(op, nxt)

    # --- the whole run ------------------------------------------------------------------

    def run(self, main: Any, final: Any = None, *, time_limit_s: float | None = None) -> RunOutcome:
        """The main phase (bounded by `time_limit_s`), then the final phase, then the
        workers are stopped and their clients closed. Client/nemesis setup and teardown
        belong to the caller (`suite.core`)."""
        try:
            self.start_workers(wait_s=self.op_timeout_ns / 1e9)
            deadline = None if time_limit_s is None else \
                self.now() + gen.seconds_to_ns(time_limit_s)
            try:
                self.interpret(main, stop=_Either(self.stop_event, self.give_up_event,
                                                  self.halt_event),
                               deadline_ns=deadline)
            except GeneratorError as e:
                self.outcome.errors.append(f"main phase: {e}")
                self.log(f"main phase stopped: {e}")
                self._expire(None, force="interrupted")
            self.outcome.interrupted = self.stop_event.is_set()
            self.outcome.gave_up = self.give_up_event.is_set()
            self.outcome.main_phase_s = self.now() / 1e9
            halted = self.halt_event.is_set() and not self.outcome.interrupted
            if halted:
                final = self.halt_final
            why = ("given up" if self.outcome.gave_up else "interrupted"
                   if self.outcome.interrupted else "stopped on a violation" if halted
                   else "time limit reached"
                   if deadline is not None and self.now() >= deadline
                   else "the workload's operations are done")
            if final is None:
                self.log(f"main phase over at {self.now() / 1e9:.1f}s ({why})")
            elif self.abort_event.is_set() or self.outcome.gave_up:
                self.log(f"main phase over at {self.now() / 1e9:.1f}s ({why}); "
                         "final phase skipped")
            else:
                self.log(f"main phase over at {self.now() / 1e9:.1f}s ({why}); final phase: "
                         "heal every fault, wait for quiescence, final reads")
                self._await_cut_nemesis()
                final_marked = gen.map_ops(mark_final, final)
                self.interpret(final_marked, stop=self.abort_event)
                self.log(f"final phase over at {self.now() / 1e9:.1f}s")
        finally:
            for w in list(self.workers.values()):
                w.stop()
            for w in list(self.workers.values()):
                w.join(timeout=1.0)
            self.workers.clear()
        return self.outcome


class _Either:
    """Set when any of its events is: the main phase stops for a signal, for giving up or
    for a violation found."""

    def __init__(self, *events: threading.Event):
        self.events = events

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)


def mark_final(op: dict) -> dict:
    """Final-phase client operations carry `final: true` (nemesis heals do not)."""
    return op if op.get("process") == NEMESIS else {**op, "final": True}
