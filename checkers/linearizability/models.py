"""Sequential specifications (models) for the linearizability checker.

A model is a small set of pure functions, in the manner of Porcupine's `Model` struct,
so that the search never knows a data type:

- `init(initial)` -> the state before the history (an immutable, hashable value);
- `prepare(call)` -> the call as the search should see it, or None to drop it (a `fail`
  write that definitely did not happen, a read whose result is unknown);
- `step(state, call)` -> `(ok, new_state)`: may `call` take effect in `state`, returning
  what it returned? Pure; never mutates `state`;
- equality and hashing are those of the state values themselves (None, int, str, tuple,
  frozenset), which lets the search intern states and memoise `(linearized, state)`;
- `pure(call)` -> True when the call never changes the state, whatever the state (a read,
  a cas whose compare failed): the search may then place it as soon as it is legal;
- `reachable(state, read, candidates)` -> False only when the pure call `read` (not ok in
  `state`) cannot become ok by any order of any subset of `candidates` (the calls that may
  still be linearized before it); a conservative pruning hint, True when unsure.
  `reach_context(read, candidates)` may digest the candidates once per read (what it
  returns is what `reachable` then gets as `candidates`; by default the list itself);
- `rescuers(read, candidates)` / `settled(state, read)`, for the search's look-ahead at
  pure calls not yet invoked: `rescuers` gives the candidates (state-changing calls that
  may still come before `read`) that could alone make `read` legal from any state, or
  None when the model has no such notion (the default: no look-ahead); `settled(state,
  read)` is False only when, with none of those rescuers linearized between now and
  `read`, `read` cannot be legal whatever else comes between. So a configuration in
  state s is dead when some pending read has `settled(s, read)` False and no rescuer of
  it is still unlinearized. (A kv get of v: rescuers are the puts of a prefix of v; from
  s without a put only appends follow, so v must start with s. A register read of v:
  rescuers are writes and cas to v; without one the state must be v already.)
- `partition(call)` -> the independent sub-object the call touches (the item key), for
  P-compositionality: a history is linearizable iff each key's sub-history is;
- `prune(calls)` -> the calls that must still be searched, after dropping crashed calls
  whose effect no other call can observe (a model-specific, verdict-preserving shortcut);
- `describe(state)` / `describe_call(call)` -> short human text for counterexamples.

A `Call` is one operation of the history after pairing its invocation with its
completion. `status` is "ok" (it happened and returned `out`), "fail" (it definitely did
not take effect; kept only where the model says the failure still tells something, such as
a cas whose compare did not match) or "info" (unknown outcome: it stays open to the end of
the history, and its step must always be ok, taking effect or not).
"""

from __future__ import annotations

from typing import Any, Hashable, Iterable, Mapping

from gtcheck.errors import BadInput

OK, FAIL, INFO = "ok", "fail", "info"

# fail errors that mean "the compare of a conditional write did not match" (so the failed
# cas still observed the state); any other definite failure of a cas is a plain non-effect.
COMPARE_FAILED = frozenset((None, "ConditionalCheckFailed", "ConditionalCheckFailedException",
                            "compare-failed", "cas-mismatch"))


class Call:
    """One paired operation: invocation `value` (the argument), completion `out`."""

    __slots__ = ("index", "process", "f", "key", "value", "out", "status", "error",
                 "call_pos", "ret_pos")

    def __init__(self, index: int, process: Any, f: str, key: Any, value: Any, out: Any,
                 status: str, error: Any, call_pos: int, ret_pos: int | None):
        self.index = index          # history index of the invocation
        self.process = process
        self.f = f
        self.key = key
        self.value = value          # the invocation's argument (frozen)
        self.out = out              # the completion's value (frozen); None if unknown
        self.status = status        # ok | fail | info
        self.error = error
        self.call_pos = call_pos    # position of the invocation in real-time order
        self.ret_pos = ret_pos      # position of the completion; None = open to the end

    def with_(self, **changes: Any) -> "Call":
        c = Call(self.index, self.process, self.f, self.key, self.value, self.out,
                 self.status, self.error, self.call_pos, self.ret_pos)
        for k, v in changes.items():
            setattr(c, k, v)
        return c

    def __repr__(self) -> str:
        return (f"Call(#{self.index} p{self.process} {self.f} key={self.key!r} "
                f"value={self.value!r} out={self.out!r} {self.status})")


SCALAR_TYPES = frozenset((int, str, float, bool))


def freeze(v: Any) -> Hashable:
    """JSON-ish values as hashable, immutable values (lists -> tuples, dicts -> items)."""
    if v is None or type(v) in SCALAR_TYPES:
        return v
    if isinstance(v, list | tuple):
        return tuple(freeze(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted(((k, freeze(x)) for k, x in v.items()), key=repr))
    if isinstance(v, set | frozenset):
        return frozenset(freeze(x) for x in v)
    return v


def show(v: Any) -> str:
    if v is None:
        return "nil"
    if isinstance(v, frozenset):
        return "#{" + " ".join(sorted(show(x) for x in v)) + "}"
    if isinstance(v, tuple):
        return "[" + " ".join(show(x) for x in v) + "]"
    if isinstance(v, str):
        return repr(v)
    return str(v)


class Model:
    """Base of the models: defaults for partition, prune and describe.

    Subclasses set `name`, `fs` (the operation names they accept) and define `init`,
    `prepare` and `step`. Instances are stateless; one instance serves every check.
    """

    name = "model"
    fs: frozenset[str] = frozenset()
    default_initial: Any = None

    def init(self, initial: Any = None) -> Hashable:
        return freeze(self.default_initial if initial is None else initial)

    def prepare(self, call: Call) -> Call | None:
        if self.fs and call.f not in self.fs:
            raise BadInput(f"model {self.name!r} has no operation {call.f!r} "
                           f"(history index {call.index}; expected one of "
                           f"{', '.join(sorted(self.fs))})")
        return call

    def step(self, state: Hashable, call: Call) -> tuple[bool, Hashable]:
        raise NotImplementedError

    reads: frozenset[str] = frozenset(("read",))

    def pure(self, call: Call) -> bool:
        return call.f in self.reads and call.status != INFO

    def reachable(self, state: Hashable, read: Call, candidates: Any) -> bool:
        return True

    def reach_context(self, read: Call, candidates: list[Call]) -> Any:
        return candidates

    def rescuers(self, read: Call, candidates: list[Call]) -> list[Call] | None:
        return None

    def settled(self, state: Hashable, read: Call) -> bool:
        return True

    def partition(self, call: Call) -> Hashable:
        return call.key

    def prune(self, calls: list[Call]) -> list[Call]:
        return calls

    def describe(self, state: Hashable) -> str:
        return show(state)

    def describe_call(self, call: Call) -> str:
        return _describe_call(call)

    def __repr__(self) -> str:
        return f"<model {self.name}>"


def _describe_call(call: Call) -> str:
    if call.status == INFO:
        return f"{call.f} {show(call.value)} (crashed: outcome unknown)"
    if call.status == FAIL:
        return f"{call.f} {show(call.value)} (failed)"
    if call.out is not None and call.out != call.value:
        return f"{call.f} -> {show(call.out)}"
    return f"{call.f} {show(call.value)}"


def _drop_failed_and_unknown_reads(call: Call, reads: frozenset[str]) -> Call | None:
    """The common rule: a `fail` changes nothing (dropped); a read with an unknown
    result constrains nothing (dropped); a crashed mutation stays open."""
    if call.status == FAIL:
        return None
    if call.f in reads and call.status == INFO:
        return None
    return call


class Register(Model):
    """A read/write register (Jepsen's `register`); starts at `initial` (nil)."""

    name = "register"
    fs = frozenset(("read", "write"))

    def prepare(self, call):
        f, status = call.f, call.status
        if f not in self.fs:
            return Model.prepare(self, call)  # raises the message
        if status == FAIL or (f == "read" and status == INFO):
            return None  # did not happen / says nothing
        return call

    def step(self, state, call):
        if call.f == "read":
            return call.out == state, state
        return True, call.value

    def reachable(self, state, read, candidates):
        return _register_reachable(read, candidates)

    def rescuers(self, read, candidates):
        return _register_rescuers(read, candidates)

    def settled(self, state, read):
        return read.out == state

    def prune(self, calls):
        return _prune_register(calls, cas=False)


class CasRegister(Model):
    """A read/write/compare-and-set register, stepping exactly as Porcupine's etcd model.

    `cas` takes `[old, new]`. An ok cas happened (state was old, becomes new). A `fail`
    cas whose error says the compare did not match is a read that the state was not
    `old`; a cas failed for any other definite reason changed nothing and is dropped.
    Which failures say "the compare did not match" is for the rules (`rules.py`) to
    decide before the model sees the call (Porcupine: every failed cas; DynamoDB:
    ConditionalCheckFailed; Knossos: none). A crashed cas may or may not have happened.
    """

    name = "cas-register"
    fs = frozenset(("read", "write", "cas"))

    def prepare(self, call):
        call = Model.prepare(self, call)
        if call.f == "cas":
            v = call.value
            if not (isinstance(v, tuple) and len(v) == 2):
                raise BadInput(f"cas at history index {call.index} needs value [old, new], "
                               f"got {show(v)}")
            if call.status == FAIL:
                return call if call.error in COMPARE_FAILED else None
            return call
        return _drop_failed_and_unknown_reads(call, frozenset(("read",)))

    def pure(self, call):
        if call.status == INFO or call.f == "write":
            return False
        return call.f == "read" or call.status == FAIL or call.value[0] == call.value[1]

    def step(self, state, call):
        f = call.f
        if f == "read":
            return call.out == state, state
        if f == "write":
            return True, call.value
        old, new = call.value
        status = call.status
        if status == OK:
            return (True, new) if state == old else (False, state)
        if status == FAIL:
            return state != old, state
        return True, (new if state == old else state)

    def reachable(self, state, read, candidates):
        return _register_reachable(read, candidates)

    def rescuers(self, read, candidates):
        return _register_rescuers(read, candidates)

    def settled(self, state, read):
        return read.f != "read" or read.out == state

    def prune(self, calls):
        return _prune_register(calls, cas=True)

    def describe_call(self, call):
        if call.f == "cas":
            old, new = call.value
            tail = {OK: "", FAIL: " (failed: compare did not match)",
                    INFO: " (crashed: outcome unknown)"}[call.status]
            return f"cas {show(old)}->{show(new)}{tail}"
        return _describe_call(call)


def _register_reachable(read: Call, candidates: list[Call]) -> bool:
    """A read of v can become legal only through a write of v or a cas to v."""
    if read.f != "read":
        return True
    v = read.out
    for c in candidates:
        if c.f == "write":
            if c.value == v:
                return True
        elif c.f == "cas" and c.status != FAIL and c.value[1] == v:
            return True
    return False


def _register_rescuers(read: Call, candidates: list[Call]) -> list[Call] | None:
    """The calls that can set the value a read returns: writes of it, cas to it."""
    if read.f != "read":
        return None
    v = read.out
    return [c for c in candidates if (c.f == "write" and c.value == v) or
            (c.f == "cas" and c.status != FAIL and c.value[1] == v)]


def _prune_register(calls: list[Call], cas: bool) -> list[Call]:
    """Drop crashed writes/cas whose new value no later call can observe.

    Removing a crashed call X that set value v from a linearization only changes the state
    seen by the calls between X and the next state change: those saw v and now see the
    previous value. That is harmless unless one of them observes v (an ok read of v, a
    cas comparing with v) or observes "not the previous value" (a failed cas). So X can be
    dropped when no read returning v, no cas comparing with v, and no failed cas completes
    after X was invoked. (Crashed no-op cas calls in that stretch are crashed too and may
    equally be dropped, i.e. placed at the end.) Observers are counted among all calls, X's
    fellow droppable ones included, so one pass is sound.
    """
    crashed = [c for c in calls if c.status == INFO]
    if not crashed:
        return calls
    # per observed value: the latest completion position of any call that observes it
    last_obs: dict[Any, float] = {}
    last_fail = -1.0
    end = float("inf")
    for c in calls:
        r = end if c.ret_pos is None else c.ret_pos
        if c.f == "read":
            v = c.out
        elif c.f == "cas":
            if c.status == FAIL:
                last_fail = max(last_fail, r)
                continue
            v = c.value[0]
        else:
            continue
        try:
            if last_obs.get(v, -1.0) < r:
                last_obs[v] = r
        except TypeError:  # unhashable: be conservative, nothing is droppable
            return calls
    drop: set[int] = set()
    for c in crashed:
        new = c.value[1] if c.f == "cas" else c.value
        if last_obs.get(new, -1.0) < c.call_pos and last_fail < c.call_pos:
            drop.add(id(c))
    if not drop:
        return calls
    return [c for c in calls if id(c) not in drop]


class Counter(Model):
    """A counter of `add` (value = amount) and `read`; starts at `initial` (0).

    A crashed add stays open to the end, so it contributes either 0 or its amount."""

    name = "counter"
    fs = frozenset(("add", "read"))
    default_initial = 0

    def prepare(self, call):
        call = super().prepare(call)
        call = _drop_failed_and_unknown_reads(call, frozenset(("read",)))
        if call is not None and call.f == "add" and not isinstance(call.value, int | float):
            raise BadInput(f"add at history index {call.index} needs a number, "
                           f"got {show(call.value)}")
        return call

    def step(self, state, call):
        if call.f == "read":
            return call.out == state, state
        return True, state + call.value

    def reachable(self, state, read, candidates):
        adds = [c.value for c in candidates if c.f == "add"]
        if any(a < 0 for a in adds) or not isinstance(read.out, int | float):
            return True
        return state <= read.out <= state + sum(adds)


class SetModel(Model):
    """A grow-only set of `add` (value = element) and `read` (value = the whole set)."""

    name = "set"
    fs = frozenset(("add", "read"))

    def init(self, initial=None):
        return frozenset(freeze(x) for x in (initial or ()))

    def prepare(self, call):
        call = super().prepare(call)
        call = _drop_failed_and_unknown_reads(call, frozenset(("read",)))
        if call is not None and call.f == "read":
            out = call.out
            if out is None:
                out = frozenset()
            elif not isinstance(out, tuple | frozenset):
                raise BadInput(f"set read at history index {call.index} needs a list, "
                               f"got {show(out)}")
            call = call.with_(out=frozenset(out))
        return call

    def step(self, state, call):
        if call.f == "read":
            return call.out == state, state
        if call.value in state:
            return True, state
        return True, state | {call.value}

    def reachable(self, state, read, candidates):
        if not state <= read.out:
            return False
        return read.out - state <= {c.value for c in candidates if c.f == "add"}


class KV(Model):
    """One key of Porcupine's key-value store: get / put / append on strings, starting "".

    Partitioned by key (the default), the state is one key's string, exactly Porcupine's
    kv model; unpartitioned, `MapModel` lifts it to the whole map."""

    name = "kv"
    fs = frozenset(("get", "put", "append"))
    reads = frozenset(("get",))
    default_initial = ""

    def prepare(self, call):
        f, status = call.f, call.status
        if f not in self.fs:
            return Model.prepare(self, call)  # raises the message
        if status == FAIL or (f == "get" and status == INFO):
            return None  # did not happen / says nothing
        if f == "get" and call.out is None:
            call = call.with_(out="")
        return call

    def step(self, state, call):
        f = call.f
        if f == "get":
            return call.out == state, state
        if f == "put":
            return True, call.value
        return True, state + call.value

    def reachable(self, state, read, candidates):
        # after the last put (or none) only appends follow, and appends only extend
        out = read.out
        if not isinstance(out, str) or out.startswith(state):
            return True
        return candidates  # whether a put of a prefix of out may still come first

    def rescuers(self, read, candidates):
        out = read.out
        if not isinstance(out, str):
            return None
        return [c for c in candidates
                if c.f == "put" and isinstance(c.value, str) and out.startswith(c.value)]

    def settled(self, state, read):
        out = read.out
        return not isinstance(out, str) or not isinstance(state, str) or \
            out.startswith(state)

    def reach_context(self, read, candidates):
        out = read.out
        return not isinstance(out, str) or any(
            c.f == "put" and isinstance(c.value, str) and out.startswith(c.value)
            for c in candidates)


class MapModel(Model):
    """Lifts a per-key model to the whole map of keys (used when partition=False).

    The state is a frozenset of (key, per-key state) pairs; keys never touched stay at the
    per-key initial state. Same verdicts as partitioning, far slower: kept for checking
    that claim and for models whose keys are not independent."""

    def __init__(self, inner: Model):
        self.inner = inner
        self.name = inner.name
        self.fs = inner.fs
        self._initial: Hashable = None

    def init(self, initial=None):
        self._initial = self.inner.init(initial)
        return frozenset()

    def prepare(self, call):
        return self.inner.prepare(call)

    def step(self, state, call):
        d = dict(state)
        sub = d.get(call.key, self._initial)
        ok, new = self.inner.step(sub, call)
        if not ok:
            return False, state
        if new == sub:
            return True, state
        d[call.key] = new
        return True, frozenset(d.items())

    def pure(self, call):
        return self.inner.pure(call)

    def reachable(self, state, read, candidates):
        sub = dict(state).get(read.key, self._initial)
        return self.inner.reachable(sub, read, candidates)

    def reach_context(self, read, candidates):
        return self.inner.reach_context(read, [c for c in candidates if c.key == read.key])

    def partition(self, call):
        return None

    def prune(self, calls):
        by_key: dict[Any, list[Call]] = {}
        for c in calls:
            by_key.setdefault(c.key, []).append(c)
        kept = {id(c) for part in by_key.values() for c in self.inner.prune(part)}
        return [c for c in calls if id(c) in kept]

    def describe(self, state):
        items = sorted(dict(state).items(), key=lambda kv: repr(kv[0]))
        return "{" + ", ".join(f"{show(k)}: {self.inner.describe(v)}" for k, v in items) + "}"

    def describe_call(self, call):
        return f"{show(call.key)}: {self.inner.describe_call(call)}"


MODELS: Mapping[str, Model] = {
    "register": Register(),
    "cas-register": CasRegister(),
    "counter": Counter(),
    "set": SetModel(),
    "kv": KV(),
}


class FunctionsModel(Model):
    """A model given as any object with `init` and `step` (and optionally the other
    functions of the protocol, e.g. a SimpleNamespace of functions, as Porcupine's Model
    struct): what it lacks comes from the defaults of `Model`; every `f` is accepted."""

    _FUNCTIONS = ("init", "prepare", "step", "pure", "reachable", "reach_context",
                  "rescuers", "settled", "partition", "prune", "describe", "describe_call")

    def __init__(self, functions: Any):
        self.name = getattr(functions, "name", "custom")
        self.fs = frozenset(getattr(functions, "fs", ()))
        for name in self._FUNCTIONS:
            fn = getattr(functions, name, None)
            if fn is not None:
                setattr(self, name, fn)


def get_model(model: str | Model) -> Model:
    """A model by name, or a Model object; BadInput for an unknown name."""
    if isinstance(model, Model):
        return model
    if isinstance(model, str) and model in MODELS:
        return MODELS[model]
    if not isinstance(model, str) and hasattr(model, "step") and hasattr(model, "init"):
        return FunctionsModel(model)
    raise BadInput(f"unknown model {model!r} (expected one of {', '.join(MODELS)})")


def names() -> Iterable[str]:
    return MODELS.keys()
