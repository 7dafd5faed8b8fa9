"""Consistency models and the anomalies each one forbids, as data (Elle's tables).

A verdict on a transactional history is a statement about models: "this history is
consistent with snapshot isolation but not serializable". To make it the same statement
Elle makes, this module holds the three relations Elle reasons with (jepsen-io/elle,
src/elle/consistency_model.clj, after Adya's "Weak Consistency" (1999), Adya, Liskov &
O'Neil's "Generalized Isolation Level Definitions" (2000), Bailis et al.'s "Highly
Available Transactions" (2013), Cerone et al. (2015)):

- IMPLIED: anomaly a -> b when every history with a also has b (G0 implies G1c: Adya's
  G1c is any cycle of ww/wr edges, and a ww cycle is one);
- MODELS: model a -> b when a is stronger (every history satisfying a satisfies b);
- PROSCRIBED: the anomalies each model forbids directly (the rest it forbids through the
  models it implies and the anomalies that imply those).

From these, `prohibited(models)` is the set of anomalies a set of target models rules
out, and `boundary(anomalies)` names the weakest models a history violates ("not") and
the stronger ones that fall with them ("also_not"), exactly as Elle computes them. The
tables are transcriptions of the definitions (data); the graph code is ours.

gtcheck adds one target of its own, `serializable-in-writing-region`: for DynamoDB
global tables in async (MREC) mode a transaction is serializable only against the
transactions of the region that ran it (SEMANTICS.md A11); the checker judges it by
restricting the history to one region's transactions and asking for `serializable`
there (see `checkers.elle.check`).
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache
from typing import Iterable

# anomaly -> anomalies it implies (Elle's implied-anomalies; "-item" names as Elle's
# explainer reports them for item (not predicate) anti-dependencies).
IMPLIED: dict[str, tuple[str, ...]] = {
    "G0": ("G1c", "G0-process"),
    "G0-process": ("G1c-process", "G0-realtime"),
    "G0-realtime": ("G1c-realtime",),
    "G1a": ("G1",), "G1b": ("G1",),
    "G1c": ("G1", "G1c-process"),
    "G1c-process": ("G1c-realtime", "G1-process"),
    "G1c-realtime": ("G1-realtime",),
    "G1": ("G1-process",), "G1-process": ("G1-realtime",),
    "G-single-item": ("G-single", "G-single-item-process", "G-nonadjacent-item"),
    "G-single-item-process": ("G-single-process", "G-single-item-realtime",
                              "G-nonadjacent-item-process"),
    "G-single-item-realtime": ("G-single-realtime", "G-nonadjacent-item-realtime"),
    "G-single": ("G-nonadjacent", "GSIb", "G-single-process"),
    "G-single-process": ("G-nonadjacent-process", "G-single-realtime"),
    "G-single-realtime": ("G-nonadjacent-realtime",),
    "G-nonadjacent-item": ("G-nonadjacent", "G2-item", "G-nonadjacent-item-process"),
    "G-nonadjacent-item-process": ("G-nonadjacent-process", "G2-item-process",
                                   "G-nonadjacent-item-realtime"),
    "G-nonadjacent-item-realtime": ("G2-item-realtime", "G-nonadjacent-realtime"),
    "G-nonadjacent": ("G2", "G-nonadjacent-process"),
    "G-nonadjacent-process": ("G2-process", "G-nonadjacent-realtime"),
    "G-nonadjacent-realtime": ("G2-realtime",),
    "G2": ("G2-process",),
    "G2-item": ("G2", "G2-item-process"),
    "G2-item-process": ("G2-process", "G2-item-realtime"),
    "G2-item-realtime": ("G2-realtime",),
    "G2-process": ("G2-realtime",),
    "GSIa": ("GSI",), "GSIb": ("GSI",),
    # two committed reads that cannot come from one timeline imply a dirty read
    "incompatible-order": ("G1a",),
    # a read of one's own later write is a trivial wr cycle T -> T
    "future-read": ("G1c",),
    # one's own appends installed out of program order: a trivial ww cycle T -> T
    "reordered-appends": ("G0",),
    "dirty-update": ("G1a",),
    # lost update is write skew on one key (Bailis), hence G2-item (Adya's H_lu)
    "lost-update": ("write-skew", "G2-item"),
    "write-skew": ("G2",),
}

# Extra "worse than" edges Elle uses only to order the cycle searches.
SEVERITY: dict[str, tuple[str, ...]] = {
    "G0": ("G1c",), "G0-process": ("G1c-process",), "G0-realtime": ("G1c-realtime",),
    "G1c": ("G-single", "G2-item"),
    "G1c-process": ("G-single-process", "G2-item-process"),
    "G1c-realtime": ("G-single-realtime", "G2-item-realtime"),
    "G2": ("G0-process",), "G2-process": ("G0-realtime",),
}

CANONICAL = {
    "consistent-view": "PL-2+", "conflict-serializable": "PL-3",
    "cursor-stability": "PL-CS", "forward-consistent-view": "PL-FCV",
    "monotonic-snapshot-read": "PL-MSR", "monotonic-view": "PL-2L",
    "read-committed": "PL-2", "read-uncommitted": "PL-1", "repeatable-read": "PL-2.99",
    "serializable": "PL-3", "snapshot-isolation": "PL-SI",
    "strict-serializable": "PL-SS", "strong-serializable": "PL-SS",
    "update-serializable": "PL-3U",
    "strong-session-read-uncommitted": "strong-session-PL-1",
    "strong-session-read-committed": "strong-session-PL-2",
    "strong-read-uncommitted": "strong-PL-1", "strong-read-committed": "strong-PL-2",
    "update-atomic": "ROLA",
}
FRIENDLY = {v: k for k, v in CANONICAL.items()}
FRIENDLY["PL-3"] = "serializable"

# stronger model -> weaker models it implies (names canonicalised below)
_MODELS_RAW: dict[str, tuple[str, ...]] = {
    "causal-cerone": ("read-atomic",),
    "consistent-view": ("cursor-stability", "monotonic-view"),
    "conflict-serializable": ("view-serializable",),
    "cursor-stability": ("read-committed", "PL-2"),
    "forward-consistent-view": ("consistent-view",),
    "PL-2": ("PL-1",),
    "PL-3": ("repeatable-read", "update-serializable"),
    "update-serializable": ("forward-consistent-view",),
    "monotonic-atomic-view": ("read-committed",),
    "monotonic-view": ("PL-2",),
    "monotonic-snapshot-read": ("PL-2",),
    "parallel-snapshot-isolation": ("causal-cerone", "ROLA"),
    "prefix": ("causal-cerone",),
    "read-atomic": ("monotonic-atomic-view",),
    "read-committed": ("read-uncommitted",),
    "repeatable-read": ("cursor-stability", "monotonic-atomic-view"),
    "ROLA": ("read-atomic",),
    "serializable": ("repeatable-read", "snapshot-isolation", "view-serializable"),
    "session-serializable": ("1SR",),
    "snapshot-isolation": ("forward-consistent-view", "monotonic-atomic-view",
                           "monotonic-snapshot-read", "parallel-snapshot-isolation",
                           "prefix"),
    "strict-serializable": ("PL-3", "serializable", "linearizable", "snapshot-isolation",
                            "strong-snapshot-isolation", "strong-session-serializable"),
    "strong-session-PL-1": ("PL-1",),
    "strong-session-PL-2": ("PL-2", "strong-session-PL-1"),
    "strong-PL-1": ("strong-session-PL-1",),
    "strong-PL-2": ("strong-session-PL-2", "strong-PL-1"),
    "strong-session-serializable": ("serializable", "strong-session-snapshot-isolation"),
    "strong-session-snapshot-isolation": ("snapshot-isolation", "strong-session-PL-2"),
    "strong-serializable": ("session-serializable",),
    "strong-snapshot-isolation": ("strong-session-snapshot-isolation", "strong-PL-2"),
    "linearizable": ("sequential",), "sequential": ("causal",),
    "causal": ("writes-follow-reads", "PRAM"),
    "PRAM": ("monotonic-reads", "monotonic-writes", "read-your-writes"),
}

_PROSCRIBED_RAW: dict[str, tuple[str, ...]] = {
    "causal-cerone": ("internal", "G1a"),
    "cursor-stability": ("G1", "G-cursor", "lost-update"),
    "monotonic-view": ("G1", "G-monotonic"),
    "monotonic-snapshot-read": ("G1", "G-MSR"),
    "consistent-view": ("G1", "G-single"),
    "forward-consistent-view": ("G1", "G-SIb"),
    "parallel-snapshot-isolation": ("internal", "G1a"),
    "PL-3": ("G1", "G2", "predicate-read-miss", "PL-3-cycle-exists"),
    "PL-2": ("G1", "PL-2-cycle-exists"),
    # gtcheck's garbage-read (a read of a value no transaction wrote: Adya's reads
    # return installed versions, so no model admits it) is forbidden from the weakest up
    "PL-1": ("G0", "duplicate-elements", "cyclic-versions", "garbage-read",
             "PL-1-cycle-exists"),
    "prefix": ("internal", "G1a"),
    "serializable": ("internal",),
    "snapshot-isolation": ("internal", "G1", "G-SI", "G-nonadjacent",
                           "PL-SI-cycle-exists"),
    "read-atomic": ("internal", "G1a", "future-read"),
    "repeatable-read": ("G1", "G2-item", "PL-2.99-cycle-exists", "lost-update"),
    "ROLA": ("lost-update",),
    "strict-serializable": ("G1", "G1c-realtime", "G2-realtime", "PL-SS-cycle-exists"),
    "strong-session-PL-1": ("strong-session-PL-1-cycle-exists", "G0-process"),
    "strong-session-PL-2": ("strong-session-PL-2-cycle-exists", "G1c-process"),
    "strong-PL-1": ("strong-PL-1-cycle-exists", "G0-realtime"),
    "strong-PL-2": ("strong-PL-2-cycle-exists", "G1c-realtime"),
    "strong-session-snapshot-isolation": ("internal", "G1-process",
                                          "G-nonadjacent-process",
                                          "strong-session-snapshot-isolation-cycle-exists"),
    "strong-snapshot-isolation": ("internal", "G1-realtime", "G-nonadjacent-realtime",
                                  "strong-snapshot-isolation-cycle-exists"),
    "strong-session-serializable": ("G1-process", "G2-process",
                                    "strong-session-serializable-cycle-exists"),
    "update-serializable": ("G1", "G-update"),
}


def canonical(model: str) -> str:
    return CANONICAL.get(model, model)


def friendly(model: str) -> str:
    return FRIENDLY.get(model, model)


def _canon_graph(raw: dict[str, tuple[str, ...]], canon_values: bool) -> dict:
    out: dict[str, set[str]] = {}
    for k, vs in raw.items():
        row = out.setdefault(canonical(k), set())
        row.update(canonical(v) if canon_values else v for v in vs)
    return out


MODELS = _canon_graph(_MODELS_RAW, True)
PROSCRIBED = _canon_graph(_PROSCRIBED_RAW, False)
ALL_MODELS = frozenset(MODELS) | frozenset(v for vs in MODELS.values() for v in vs) \
    | frozenset(CANONICAL.values())


def _reverse(g: dict[str, Iterable[str]]) -> dict[str, set[str]]:
    rev: dict[str, set[str]] = {}
    for k, vs in g.items():
        for v in vs:
            rev.setdefault(v, set()).add(k)
    return rev


_MODELS_IN = _reverse(MODELS)
_IMPLIED_IN = _reverse(IMPLIED)
_PROSCRIBED_BY = _reverse(PROSCRIBED)  # anomaly -> models forbidding it directly


def _reach(graph: dict, starts: Iterable[str]) -> set[str]:
    seen = set(starts)
    todo = deque(seen)
    while todo:
        for nxt in graph.get(todo.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def implied_anomalies(anomalies: Iterable[str]) -> set[str]:
    return _reach(IMPLIED, anomalies)


def anomalies_implying(anomalies: Iterable[str]) -> set[str]:
    return _reach(_IMPLIED_IN, anomalies)


def implied_models(models: Iterable[str]) -> set[str]:
    return _reach(MODELS, (canonical(m) for m in models))


def impossible_models(models: Iterable[str]) -> set[str]:
    """Models that cannot hold when `models` do not: every stronger model."""
    return _reach(_MODELS_IN, (canonical(m) for m in models))


@lru_cache(maxsize=64)
def _prohibited(models: frozenset[str]) -> frozenset[str]:
    direct: set[str] = set()
    for m in implied_models(models):
        direct |= PROSCRIBED.get(m, set())
    return frozenset(anomalies_implying(direct))


def prohibited(models: Iterable[str]) -> frozenset[str]:
    """Every anomaly that rules out at least one of `models`."""
    return _prohibited(frozenset(canonical(m) for m in models))


def anomalies_to_impossible_models(anomalies: Iterable[str]) -> set[str]:
    direct: set[str] = set()
    for a in implied_anomalies(anomalies):
        direct |= _PROSCRIBED_BY.get(a, set())
    return impossible_models(direct)


def weakest(models: set[str]) -> set[str]:
    """The models of the set implied by none of the others' weaker... i.e. those that no
    other member of the set is weaker than (Elle's weakest-models)."""
    out = set(models)
    for m in list(models):
        rest = out - {m}
        if rest & (_reach(MODELS, [m]) - {m}):
            out.discard(m)
    return out


def boundary(anomalies: Iterable[str]) -> dict[str, list[str]]:
    """{"not": weakest models ruled out, "also_not": the other models ruled out}, in
    Elle's friendly names."""
    imp = anomalies_to_impossible_models(anomalies)
    is_not = weakest(imp)
    return {"not": sorted(friendly(m) for m in is_not),
            "also_not": sorted({friendly(m) for m in imp - is_not})}


def depths() -> dict[str, int]:
    """Topological depth of each anomaly in IMPLIED + SEVERITY (Elle's anomaly-depths):
    the searches run shallowest (most severe) first."""
    merged: dict[str, set[str]] = {}
    for g in (IMPLIED, SEVERITY):
        for k, vs in g.items():
            merged.setdefault(k, set()).update(vs)
    verts = set(merged) | {v for vs in merged.values() for v in vs}
    preds = _reverse(merged)
    memo: dict[str, int] = {}

    def depth(v: str) -> int:
        if v not in memo:
            memo[v] = 1 + max((depth(p) for p in preds.get(v, ())), default=-1)
        return memo[v]

    out = {v: depth(v) for v in verts}
    for vs in PROSCRIBED.values():
        for a in vs:
            out.setdefault(a, 0)
    return out


# gtcheck's named targets, weakest first: what `--consistency-model` accepts and what a
# verdict's "strongest consistent" / "weakest violated" are chosen from.
TARGETS = ("read-uncommitted", "read-committed", "snapshot-isolation", "serializable",
           "strict-serializable")
WRITING_REGION = "serializable-in-writing-region"
ALL_TARGETS = TARGETS + (WRITING_REGION,)


def check_model_name(name: str) -> str:
    if name == WRITING_REGION:
        return name
    if canonical(name) not in ALL_MODELS:
        raise ValueError(name)
    return name


# The anomalies gtcheck's transactional checkers name, for `forbids`.
NAMED_ANOMALIES = (
    "G0", "G1a", "G1b", "G1c", "G-single-item", "G-nonadjacent-item", "G2-item",
    "lost-update", "duplicate-elements", "internal", "incompatible-order", "dirty-update",
    "future-read", "cyclic-versions", "garbage-read", "reordered-appends",
    "G0-realtime", "G1c-realtime", "G-single-item-realtime", "G2-item-realtime",
    "G0-process", "G1c-process", "G-single-item-process", "G2-item-process")


def forbids(target: str) -> list[str]:
    """The named anomalies a target model forbids (the writing-region target forbids what
    serializable does, within each region's own transactions)."""
    model = "serializable" if target == WRITING_REGION else target
    ruled = prohibited([model])
    return [a for a in NAMED_ANOMALIES if a in ruled]
