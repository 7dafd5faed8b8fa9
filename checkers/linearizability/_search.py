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
  never explored again (it was a dead end, or the search would have stopped).
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

import time
from typing import Any, Generator, Hashable, Sequence

from checkers.linearizability.models import INFO, Call, Model

UNKNOWN = "unknown"
SLICE = 1024        # iterations between yields to the scheduler
_MAX_STATES = 16     # possible states kept for a counterexample


def search(model: Model, calls: Sequence[Call], init_state: Hashable,
           deadline: float | None = None) -> dict[str, Any]:
    """Is this sub-history linearizable? -> {"valid": True|False|"unknown", ...}.

    Runs `searcher` to the end, or to the deadline ("unknown")."""
    gen = searcher(model, calls, init_state)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
        if deadline is not None and time.monotonic() > deadline:
            gen.close()
            return {"valid": UNKNOWN, "reason": "timeout"}


def searcher(model: Model, calls: Sequence[Call], init_state: Hashable
             ) -> Generator[None, None, dict[str, Any]]:
    """The search as a generator: it yields every SLICE iterations (so a scheduler can
    interleave partitions and enforce a deadline) and returns the result.

    `calls` are prepared and pruned calls of one partition, in any order. On False the
    result carries "stuck" (the call that cannot be linearized), "prefix" (the longest
    linearizable prefix found, as calls in order) and "states" (model states there).
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

    crashed = [c.status == INFO for c in calls]
    pure = [model.pure(c) for c in calls]
    bits = [1 << i for i in range(n)]

    # --- interned states and memoised transitions --------------------------------------
    state_of: list[Hashable] = [init_state]
    sid_of: dict[Hashable, int] = {init_state: 0}
    trans: list[dict[int, int]] = [{} for _ in range(n)]
    step = model.step

    def transition(e: int, sid: int) -> int:
        ok, new = step(state_of[sid], calls[e])
        if not ok:
            t = -1
        else:
            t = sid_of.get(new)
            if t is None:
                t = len(state_of)
                sid_of[new] = t
                state_of.append(new)
        trans[e][sid] = t
        return t

    cache: set[int] = set()
    stack: list[tuple[int, int, bool]] = []   # (call node, state id before it, forced)
    lin = 0
    sid = 0
    remaining = definite
    fresh = True
    e = nxt[head]
    iterations = 0

    best_depth = -1
    best_prefix: list[int] = []
    best_stuck = -1
    best_states: list[int] = []

    while True:
        iterations += 1
        if not iterations & (SLICE - 1):
            yield
        if fresh:
            # place a pure, ok candidate without a backtracking point, if there is one
            e = nxt[head]
            placed = dead = False
            while 0 <= e < n:
                if not pure[e]:
                    e = nxt[e]
                    continue
                t = trans[e].get(sid)
                if t is None:
                    t = transition(e, sid)
                if t == sid:
                    newlin = lin | bits[e]
                    key = newlin | (sid << n)
                    if key in cache:
                        dead = True  # explored from this very configuration before
                        break
                    cache.add(key)
                    stack.append((e, sid, True))
                    lin = newlin
                    if not crashed[e]:
                        remaining -= 1
                    pe, ne = prv[e], nxt[e]   # lift e and its return
                    nxt[pe] = ne
                    prv[ne] = pe
                    m = n + e
                    pm, nm = prv[m], nxt[m]
                    nxt[pm] = nm
                    if nm != -1:
                        prv[nm] = pm
                    placed = True
                    break
                e = nxt[e]
            if placed:
                if remaining == 0:
                    return {"valid": True}
                continue
            fresh = False
            e = -2 if dead else nxt[head]
        if 0 <= e < n:
            t = trans[e].get(sid)
            if t is None:
                t = transition(e, sid)
            if t >= 0:
                newlin = lin | bits[e]
                key = newlin | (t << n)
                if key not in cache:
                    cache.add(key)
                    stack.append((e, sid, False))
                    sid = t
                    lin = newlin
                    if not crashed[e]:
                        remaining -= 1
                        if remaining == 0:
                            return {"valid": True}
                    pe, ne = prv[e], nxt[e]
                    nxt[pe] = ne
                    prv[ne] = pe
                    m = n + e
                    pm, nm = prv[m], nxt[m]
                    nxt[pm] = nm
                    if nm != -1:
                        prv[nm] = pm
                    fresh = True
                    continue
            e = nxt[e]
            continue
        # a return entry (or a dead configuration): nothing more to try here
        if e >= n:
            depth = len(stack)
            if depth > best_depth:
                best_depth = depth
                best_prefix = [s[0] for s in stack]
                best_stuck = e - n
                best_states = [sid]
            elif depth == best_depth and e - n == best_stuck and sid not in best_states \
                    and len(best_states) < _MAX_STATES:
                best_states.append(sid)
        while True:
            if not stack:
                return {
                    "valid": False,
                    "stuck": calls[best_stuck] if best_stuck >= 0 else None,
                    "prefix": [calls[i] for i in best_prefix],
                    "states": [state_of[s] for s in best_states],
                }
            e0, s0, forced = stack.pop()
            # unlift e0 and its return
            m = n + e0
            pm, nm = prv[m], nxt[m]
            nxt[pm] = m
            if nm != -1:
                prv[nm] = m
            pe, ne = prv[e0], nxt[e0]
            nxt[pe] = e0
            prv[ne] = e0
            lin ^= bits[e0]
            sid = s0
            if not crashed[e0]:
                remaining += 1
            if not forced:
                break
        e = nxt[e0]
        fresh = False
