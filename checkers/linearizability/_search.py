"""The Wing-Gong-Lowe search for one independent sub-history (one key).

This is the algorithm of Porcupine's `checkSingle`, made cheap in Python:

- The history is a doubly linked list of call and return entries, in real-time order, held
  in two int arrays (`nxt`, `prv`): node i < n is the call of operation i, node n + i its
  return, node 2n the head. Crashed (`info`) operations have their return at the very end,
  so they stay open to the end of the history.
- A depth-first search linearizes a call that precedes the first return in the list (so
  every operation that returned before it was invoked is already linearized), lifts it and
  its return out of the list, and backtracks when it meets a return it cannot pass.
- Memoisation as in Porcupine: the set of linearized operations is a Python int bitset;
  states are interned to small ints; a configuration (linearized set, state) seen once is
  never explored again (it was a dead end, or the search would have stopped). The bitset
  is kept as a window (every call below `base` is linearized; bits above it) so its size
  follows the concurrency, not the history's length: a cache entry costs the same at the
  100,000th operation of a key as at the first.
- When a pending pure call (a read) is not ok in the current state, the model is asked
  (`reachable`, memoised per read and state) whether the state-changing calls that may
  still come before it could make it ok; if not, the configuration is a dead end without
  trying every order of them.
- Calls with the same operation, argument and result are interchangeable: of those
  open, only one invoked earliest and returning earliest is tried (symmetry reduction);
  and a crashed call that would not change the current state is not tried at all
  (leaving it open is at least as good: it need never be linearized).
- Look-ahead at reads not yet invoked (models with `rescuers`: register, cas-register,
  kv): after a state-changing call moves the state to t, the first few pending reads (in
  return order) are asked whether they can still be legal from t. A read that is not
  `settled` in t (a kv get of v with v not starting with t; a register read of v != t)
  needs one of its rescuers (a put of a prefix of v; a write or cas to v) to come
  between; if none of them is still unlinearized, the configuration is a dead end now,
  instead of after every order of the calls in between was tried. This is what keeps
  invalid kv histories from exploring every order of concurrent appends.
- Transitions are memoised per (operation, state id): `model.step` runs once per pair.
- Cheap placement of pure calls: if a candidate call never changes the state (a read, a
  cas whose compare failed; `model.pure`) and is ok in the current state, linearizing it
  right now is never wrong (moving it to the front of any linearization from here keeps
  every other call's state and respects real time), so it is placed without a
  backtracking point, before any state-changing call is tried.
- The search is over when every definite (non-crashed) operation is linearized: crashed
  ones can then all go at the end, where their step is always ok.

On failure the deepest dead end found is the counterexample: the linearized prefix, the
operation whose return could not be passed, and the states the search held there.
"""

from __future__ import annotations

import bisect
import time
from typing import Any, Callable, Generator, Hashable, Sequence

from checkers.linearizability.models import INFO, SCALAR_TYPES, Call, Model
from gtcheck.errors import BadInput

UNKNOWN = "unknown"
SLICE = 1024        # iterations between yields to the scheduler
_MAX_STATES = 16     # possible states kept for a counterexample
LOOKAHEAD = 1        # pending reads checked after each state change (0: no look-ahead)
# (1, not 3: the first pending read is the one that prunes; checking more cost more than
# it saved on one-key registers, the kv corpus and c50-bad's longest keys alike)
_SCAN = 32           # at most this many linearized reads skipped while looking for them
# The look-ahead pays for itself where it prunes (kv: appends); on histories where it
# does not (valid registers: the candidate-read check already catches nearly all), it
# doubles the time. So a search turns it off once it ran LOOK_TRIAL times and pruned
# fewer than one configuration in LOOK_RATIO. (Off only means less pruning: verdicts
# stay the same.)
LOOK_TRIAL = 128
LOOK_RATIO = 16
SETUP_YIELD_MIN = 4096  # partitions longer than this yield between set-up phases


def sequential(model: Model, calls: Sequence[Call], init_state: Hashable
               ) -> dict[str, Any] | None:
    """The verdict without a search when real time leaves one order: no crashed call and
    every call returned before the next was invoked (most keys of a history spread over
    many keys). Then the history is linearizable iff stepping the calls in that order is
    legal; otherwise the first illegal call is stuck after the prefix before it, exactly
    what the search would report. None when the calls overlap (search them)."""
    _hashable(model, init_state, "init")
    last = -1  # (calls out of invocation order show as overlapping: then search)
    for c in calls:
        r = c.ret_pos
        if r is None or c.call_pos < last or c.status == INFO:
            return None
        last = r
    state = init_state
    step = model.step
    for i, c in enumerate(calls):
        ok, new = step(state, c)
        if not ok:
            return {"valid": False, "stuck": c, "prefix": list(calls[:i]),
                    "states": [state], "stats": {"configurations": i}}
        if new is not state and type(new) not in SCALAR_TYPES:  # (those always hash)
            _hashable(model, new, "step")  # as the search demands of every state
        state = new
    return {"valid": True, "stats": {"configurations": len(calls)}}


def _hashable(model: Model, state: Any, where: str) -> None:
    try:
        hash(state)
    except TypeError:
        raise BadInput(f"model {model.name!r}: {where} returned an unhashable state "
                       f"{state!r} (states must be immutable values)") from None


def search(model: Model, calls: Sequence[Call], init_state: Hashable,
           deadline: float | None = None, *, track: bool = True,
           clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """Is this sub-history linearizable? -> {"valid": True|False|"unknown", ...}.

    Runs `searcher` to the end, or to the deadline ("unknown", read on `clock`)."""
    gen = searcher(model, calls, init_state, track=track)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
        if deadline is not None and clock() > deadline:
            gen.close()
            return {"valid": UNKNOWN, "reason": "timeout"}


def searcher(model: Model, calls: Sequence[Call], init_state: Hashable, *,
             track: bool = False) -> Generator[None, None, dict[str, Any]]:
    """The search as a generator: it yields every SLICE iterations (so a scheduler can
    interleave partitions and enforce a deadline) and returns the result.

    `calls` are prepared and pruned calls of one partition, in any order. On False the
    result carries "stuck" (the call that cannot be linearized), "prefix" (the longest
    linearizable prefix found, as calls in order) and "states" (model states there).
    The prefix is kept incrementally: at a new deepest dead end only the part of the
    stack that changed since the last copy is copied (`low`: the lowest the stack has been
    since then), so tracking costs about as much as the search itself and an invalid key
    never needs a second, tracked search. `track=False` (else "prefix" is None) skips it.
    """
    calls = sorted(calls, key=lambda c: c.call_pos)
    n = len(calls)
    if n == 0:
        return {"valid": True}
    definite = sum(1 for c in calls if c.status != INFO)
    if definite == 0:
        return {"valid": True}

    # --- the linked list of entries, in real-time order --------------------------------
    end = float("inf")
    events = []
    for i, c in enumerate(calls):
        events.append((c.call_pos, 0, i))
        r = c.ret_pos
        events.append((end if r is None else r, 1, n + i))
    events.sort()
    head = 2 * n
    nxt = [-1] * (2 * n + 1)
    prv = [-1] * (2 * n + 1)
    prev_node = head
    for _, _, node in events:
        nxt[prev_node] = node
        prv[node] = prev_node
        prev_node = node

    long_setup = n > SETUP_YIELD_MIN
    if long_setup:
        yield  # set-up of a long history takes a while: let a deadline in between phases
    crashed = [c.status == INFO for c in calls]
    pure = [model.pure(c) for c in calls]
    # the state-changing calls in invocation order, to slice a window of them at once
    impure = [i for i in range(n) if not pure[i]]
    impure_calls = [calls[i] for i in impure]
    reach = getattr(model, "reachable", None)
    if reach is not None and getattr(reach, "__func__", None) is Model.reachable:
        reach = None  # the default says nothing: skip the work
    reach_memo: list[dict[int, bool]] = [{} for _ in range(n)] if reach else []
    call_pos = [c.call_pos for c in calls]
    ret_pos = [end if c.ret_pos is None else c.ret_pos for c in calls]
    span = max((r - c for c, r in zip(call_pos, ret_pos) if r != end), default=0)
    crashed_ids = [i for i, c in enumerate(calls) if c.status == INFO]

    feeder_cache: dict[int, Any] = {}
    reach_context = getattr(model, "reach_context", lambda read, cands: cands)

    def feeders(q: int) -> Any:
        got = feeder_cache.get(q)
        if got is None:
            got = feeder_cache[q] = reach_context(calls[q], _feeders(q))
        return got

    def _feeders(q: int) -> list[Call]:
        """The state-changing calls that may be linearized before pure call q once q is a
        candidate: those invoked before q returned and not returned before q began (the
        ones that did are linearized already), crashed ones included."""
        hi = bisect.bisect_left(call_pos, ret_pos[q])
        lo = bisect.bisect_left(call_pos, call_pos[q] - span)
        began = call_pos[q]  # (q is pure, so never among the impure calls)
        out = [calls[j] for j in impure[bisect.bisect_left(impure, lo):
                                        bisect.bisect_left(impure, hi)]
               if ret_pos[j] > began]
        out.extend(crashed_calls[:bisect.bisect_left(crashed_ids, lo)])
        return out
    crashed_calls = [calls[j] for j in crashed_ids]
    if long_setup:
        yield
    # Interchangeable calls: two state-changing calls with the same f, key, argument,
    # result and status have the same step. If both are candidates and f was invoked
    # before e and returns no later, any linearization that places e before f stays
    # legal with the two swapped (f may go where e was; e may go where f was, as every
    # call that must follow e must also follow f). So e is only tried while no such f
    # is still open: `better[e]` lists those f. Crashed calls never return, so for them
    # the previous crashed twin suffices (a chain).
    better: list[tuple[int, ...]] = [()] * n
    groups: dict[tuple, list[int]] = {}
    for i, c in enumerate(calls):
        if pure[i]:
            continue
        sig = (c.f, c.key, c.value, c.out, c.status)
        try:
            members = groups.setdefault(sig, [])
        except TypeError:  # an unhashable argument: no twins for this call
            continue
        if crashed[i]:
            prev = [j for j in members[-1:]]
        else:
            prev = []
            lo = call_pos[i] - span
            for j in reversed(members):
                if call_pos[j] < lo:
                    break
                if not crashed[j] and call_pos[i] < ret_pos[j] <= ret_pos[i]:
                    prev.append(j)
        if prev:
            better[i] = tuple(prev)
        members.append(i)
    if long_setup:
        yield
    # --- the look-ahead: pending reads in return order, and their rescuers --------------
    look: list[int] = []
    if LOOKAHEAD > 0 and getattr(model, "rescuers", None) is not None and \
            getattr(getattr(model, "rescuers"), "__func__", None) is not Model.rescuers:
        look = sorted((i for i in range(n) if pure[i] and not crashed[i]),
                      key=lambda i: ret_pos[i])
    look_ret = [ret_pos[i] for i in look]
    settled = model.settled
    settled_memo: list[dict[int, bool] | None] = [None] * n
    rescue_of: list[tuple[int, tuple[int, ...]] | None] = [None] * n

    def rescue(q: int) -> tuple[int, tuple[int, ...]] | None:
        """(definite calls that must be linearized first, rescuer ids) for read q, or
        None when the model cannot tell. Rescuers are sought among the state-changing
        calls that may precede q: invoked before q returned, and not returned before
        q began; the latter are linearized before q is, but only once every definite
        call below `need` is (so the look-ahead at q waits for base >= need)."""
        got = rescue_of[q]
        if got is None:
            hi = bisect.bisect_left(call_pos, ret_pos[q])
            lo = bisect.bisect_left(call_pos, call_pos[q] - span)
            # q is a pure call (a read): never among the impure ones
            rs = model.rescuers(calls[q], impure_calls[bisect.bisect_left(impure, lo):
                                                      bisect.bisect_left(impure, hi)])
            if rs is None:
                got = (-1, ())
            else:
                # (in the model's order: any order will do, they form a set)
                ids = [j for j in map(index_of.get, map(id, rs)) if j is not None]
                cut = bisect.bisect_left(crashed_ids, lo)
                if cut:  # crashed calls invoked before the window stay open: candidates
                    ids.extend(crashed_rescuers(q, lo))
                got = (def_before[lo], tuple(ids))
            rescue_of[q] = got
        return got

    # Rescuers are a per-candidate test (each "could alone make the read legal"), so the
    # crashed calls' part is found once per kind of read, not again for every read (with
    # 1% crashed calls on one key, that was quadratic).
    crashed_rescue: dict[Any, list[int]] = {}
    index_of = {id(c): i for i, c in enumerate(calls)} if look else {}

    def crashed_rescuers(q: int, lo: int) -> list[int]:
        c = calls[q]
        sig = (c.f, c.key, c.value, c.out, c.status)
        try:
            every = crashed_rescue.get(sig)
        except TypeError:  # an unhashable read: no sharing
            sig, every = None, None
        if every is None:
            rs = model.rescuers(c, [calls[j] for j in crashed_ids]) or ()
            chosen = {id(x) for x in rs}
            every = [j for j in crashed_ids if id(calls[j]) in chosen]
            if sig is not None:
                crashed_rescue[sig] = every
        return every[:bisect.bisect_left(every, lo)]

    did: list[int] = []   # definite calls: rank among them in invocation order; else -1
    cbit: list[int] = []  # crashed calls: their bit in the crashed bitset; else 0
    n_definite = n_crashed = 0
    for c in calls:
        if c.status == INFO:
            did.append(-1)
            cbit.append(1 << n_crashed)
            n_crashed += 1
        else:
            did.append(n_definite)
            cbit.append(0)
            n_definite += 1

    def_call_pos = [call_pos[i] for i in range(n) if not crashed[i]]
    def_before = [0] * (n + 1)  # definite calls among the first i
    for i in range(n):
        def_before[i + 1] = def_before[i] + (not crashed[i])

    if long_setup:
        yield
    # --- interned states and memoised transitions --------------------------------------
    state_of: list[Hashable] = [init_state]
    try:
        sid_of: dict[Hashable, int] = {init_state: 0}
    except TypeError:
        raise BadInput(f"model {model.name!r}: init returned an unhashable state "
                       f"{init_state!r} (states must be immutable values)") from None
    trans: list[dict[int, int]] = [{} for _ in range(n)]
    step = model.step

    def transition(e: int, sid: int) -> int:
        ok, new = step(state_of[sid], calls[e])
        if not ok:
            t = -1
        else:
            try:
                t = sid_of.get(new)
            except TypeError:
                raise BadInput(f"model {model.name!r}: step returned an unhashable state "
                               f"{new!r} (states must be immutable values)") from None
            if t is None:
                t = len(state_of)
                sid_of[new] = t
                state_of.append(new)
        trans[e][sid] = t
        return t

    # The linearized set, kept small whatever the history's length: definite calls are
    # numbered in invocation order; every one below `base` is linearized, `base` itself
    # is not, and `dl` holds the bits of the others relative to `base` (bit 0 always
    # clear), so it spans only the window of calls in flight. Crashed calls, which may
    # stay open forever, have their own bitset `cl`. A configuration is the tuple
    # (base, dl, cl, state id).
    cache: set[tuple[int, int, int, int]] = set()
    # (call node, state id before it, forced, base, dl, cl before it)
    stack: list[tuple[int, int, bool, int, int, int]] = []
    base = dl = cl = 0
    sid = 0
    remaining = definite
    fresh = True
    e = nxt[head]
    iterations = 0

    n_look = len(look)
    ahead = n_look > 0
    looks = pruned = 0
    bisect_left = bisect.bisect_left

    def doomed(t: int, base: int, dl: int, cl: int) -> int:
        """A pending read that can no longer be legal from state t (given the calls
        linearized: base, dl, cl), or -1."""
        i = bisect_left(look_ret, def_call_pos[base])
        checked = skipped = 0
        st = None
        while i < n_look:
            q = look[i]
            i += 1
            d = did[q]
            if d < base or (dl >> (d - base)) & 1:
                skipped += 1
                if skipped == _SCAN:
                    return -1
                continue
            memo = settled_memo[q]
            if memo is None:
                memo = settled_memo[q] = {}
            ok = memo.get(t)
            if ok is None:
                if st is None:
                    st = state_of[t]
                ok = memo[t] = settled(st, calls[q])
            if not ok:
                got = rescue_of[q]
                if got is None:
                    got = rescue(q)
                need, rs = got
                if need >= 0 and base >= need:
                    for j in rs:
                        dj = did[j]
                        if dj < 0:
                            if not cl & cbit[j]:
                                break
                        elif dj >= base and not (dl >> (dj - base)) & 1:
                            break
                    else:
                        return q
            checked += 1
            if checked == LOOKAHEAD:
                return -1
        return -1

    best_depth = -1
    best_prefix: list[int] = []
    low = 0  # stack[:low] has not changed since best_prefix was copied from it
    best_stuck = -1
    best_states: list[int] = []

    while True:
        iterations += 1
        if not iterations & (SLICE - 1):
            yield
        descended = False
        if fresh:
            fresh = False
            # place a pure, ok candidate without a backtracking point, if there is one
            e = nxt[head]
            dead = False
            stuck = -1
            while e < n:
                if pure[e]:
                    t = trans[e].get(sid)
                    if t is None:
                        t = transition(e, sid)
                    if t == sid:
                        d = did[e]   # pure calls are never crashed ones
                        off = d - base
                        if off:
                            nbase, ndl = base, dl | (1 << off)
                        else:
                            ndl = dl | 1
                            z = (ndl ^ (ndl + 1)).bit_length() - 1
                            nbase, ndl = base + z, ndl >> z
                        key = (nbase, ndl, cl, sid)
                        if key in cache:
                            dead = True  # explored from this very configuration before
                            break
                        cache.add(key)
                        stack.append((e, sid, True, base, dl, cl))
                        base, dl = nbase, ndl
                        descended = True
                        break
                    if t < 0 and reach is not None:
                        # can any call that may still precede it make this read ok?
                        r = reach_memo[e].get(sid)
                        if r is None:
                            r = reach_memo[e][sid] = reach(state_of[sid], calls[e],
                                                           feeders(e))
                        if not r:
                            dead = True
                            stuck = e  # the read no order can satisfy any more
                            break
                e = nxt[e]
            if dead:
                e = -1 if stuck < 0 else n + stuck
            elif not descended:
                e = nxt[head]
        if not descended and e >= 0:
            # the ordinary search: try the state-changing candidates from e on
            while e < n:
                if not pure[e]:
                    bl = better[e]
                    if bl:
                        for f in bl:
                            d = did[f]
                            if d < 0:
                                if not cl & cbit[f]:
                                    break  # an interchangeable crashed call is open
                            elif d >= base and not (dl >> (d - base)) & 1:
                                break  # an interchangeable call returning earlier is open
                        else:
                            bl = ()
                        if bl:
                            e = nxt[e]
                            continue
                    t = trans[e].get(sid)
                    if t is None:
                        t = transition(e, sid)
                    if t >= 0:
                        d = did[e]
                        if d < 0:  # a crashed call
                            if t == sid:
                                e = nxt[e]
                                continue
                            nbase, ndl, ncl = base, dl, cl | cbit[e]
                        else:
                            ncl = cl
                            off = d - base
                            if off:
                                nbase, ndl = base, dl | (1 << off)
                            else:
                                ndl = dl | 1
                                z = (ndl ^ (ndl + 1)).bit_length() - 1
                                nbase, ndl = base + z, ndl >> z
                        key = (nbase, ndl, ncl, t)
                        if key not in cache:
                            cache.add(key)
                            if ahead and t != sid and nbase < n_definite:
                                q = doomed(t, nbase, ndl, ncl)
                                looks += 1
                                if q < 0:
                                    if looks == LOOK_TRIAL and pruned * LOOK_RATIO < looks:
                                        ahead = False
                                else:
                                    pruned += 1
                                    depth = len(stack) + 1
                                    if depth > best_depth:
                                        best_depth = depth
                                        if track:
                                            del best_prefix[low:]
                                            best_prefix.extend(s_[0] for s_ in
                                                               stack[low:])
                                            best_prefix.append(e)
                                            low = len(stack)
                                        best_stuck = q
                                        best_states = [t]
                                    elif depth == best_depth and q == best_stuck and \
                                            t not in best_states and \
                                            len(best_states) < _MAX_STATES:
                                        best_states.append(t)
                                    e = nxt[e]
                                    continue
                            stack.append((e, sid, False, base, dl, cl))
                            sid = t
                            base, dl, cl = nbase, ndl, ncl
                            descended = True
                            break
                e = nxt[e]
        if descended:
            if not crashed[e]:
                remaining -= 1
                if remaining == 0:
                    return {"valid": True, "stats": {
                        "iterations": iterations, "configurations": len(cache),
                        "states": len(state_of)}}
            pe, ne = prv[e], nxt[e]   # lift e and its return out of the list
            nxt[pe] = ne
            prv[ne] = pe
            m = n + e
            pm, nm = prv[m], nxt[m]
            nxt[pm] = nm
            if nm != -1:
                prv[nm] = pm
            fresh = True
            continue
        # a return entry that cannot be passed (or a configuration already explored)
        if e >= n:
            depth = len(stack)
            if depth > best_depth:
                best_depth = depth
                if track:
                    del best_prefix[low:]
                    best_prefix.extend(s[0] for s in stack[low:])
                    low = depth
                best_stuck = e - n
                best_states = [sid]
            elif depth == best_depth and e - n == best_stuck and sid not in best_states \
                    and len(best_states) < _MAX_STATES:
                best_states.append(sid)
        while True:
            if not stack:
                stats = {"iterations": iterations, "configurations": len(cache),
                         "states": len(state_of)}
                return {
                    "stats": stats,
                    "valid": False,
                    "stuck": calls[best_stuck] if best_stuck >= 0 else None,
                    "prefix": [calls[i] for i in best_prefix] if track else None,
                    "states": [state_of[s] for s in best_states],
                }
            e0, s0, forced, base, dl, cl = stack.pop()
            if len(stack) < low:
                low = len(stack)
            # unlift e0 and its return
            m = n + e0
            pm, nm = prv[m], nxt[m]
            nxt[pm] = m
            if nm != -1:
                prv[nm] = m
            pe, ne = prv[e0], nxt[e0]
            nxt[pe] = e0
            prv[ne] = e0
            sid = s0
            if not crashed[e0]:
                remaining += 1
            if not forced:
                break
        e = nxt[e0]
