"""MRSC journal entries and their deterministic apply rule (SEMANTICS.md M04, M08, M09).

The strong replication engine never applies a request directly. It reads the items the
request touches, runs the request's own logic (the `Mutation.compute` functions, which
evaluate the ConditionExpression and build the new item) against that state, and freezes
the result into a `WriteEntry`: per item, the version stamp the result was computed from
(`expect`) and the new `Version` (new item or tombstone, timestamp strictly above the old
one), plus the precomputed error when the request's own condition failed. Every region
applies journal entries in journal order with `apply_write`, which only compares stamps:

- every item still at its `expect` version -> the precomputed outcome holds: install the
  new versions (APPLIED), or install nothing when the request's condition failed
  (CONDITION_FAILED: ConditionalCheckFailedException is then linearizable);
- any item moved since -> CONFLICT: skipped everywhere; the origin region answers
  ReplicatedWriteConflictException (so of two increments built from one version, exactly
  the first in the journal succeeds).

Because versions of an item only grow along the journal (a new stamp is always above the
one it replaces, and deletes leave tombstones), an entry that was applied can never match
its `expect` again: replaying entries after an engine restart from an older checkpoint is a
no-op (M09). `ReadFence` is the SC read's heartbeat entry (M06): it changes nothing.
All functions here are pure over the `TableReplica` they are handed (caller holds its lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from emulator.engine import UNCHANGED, Mutation, WriteOutcome
from emulator.errors import DynamoError
from emulator.store import Item, Key, RegionClock, TableReplica, Version

APPLIED, CONDITION_FAILED, CONFLICT = "applied", "condition-failed", "conflict"

Stamp = tuple[int, str]


@dataclass(frozen=True, slots=True)
class ItemChange:
    """One item of a write entry: from version `expect` (None: never written) to `new`
    (a Version, or UNCHANGED for a condition check or a delete of an absent item)."""

    key: Key
    keys: Item
    expect: Stamp | None
    old_item: Item | None
    new: object  # Version | UNCHANGED


@dataclass(frozen=True, slots=True)
class WriteEntry:
    request_id: str
    origin: str
    changes: tuple[ItemChange, ...]
    error: DynamoError | None = None  # the request's own condition failed on `expect`

    @property
    def keys(self) -> tuple[Key, ...]:
        return tuple(c.key for c in self.changes)


@dataclass(frozen=True, slots=True)
class ReadFence:
    request_id: str
    origin: str


def build_write(request_id: str, origin: str, mutations: Sequence[Mutation],
                current: Sequence[Version | None], clock: RegionClock) -> WriteEntry:
    """Freeze a request into a conditional, idempotent entry from the `current` versions."""
    olds = [None if v is None else v.item for v in current]
    error: DynamoError | None = None
    try:
        news = [m.compute(old) for m, old in zip(mutations, olds)]
    except DynamoError as e:
        error = e
        news = [UNCHANGED] * len(mutations)
    changes = []
    for m, cur, old, new in zip(mutations, current, olds, news):
        expect = None if cur is None else cur.stamp()
        if new is UNCHANGED or (new is None and old is None):
            changes.append(ItemChange(m.key, m.keys, expect, old, UNCHANGED))
            continue
        ts = clock.stamp(0 if cur is None else cur.timestamp_us)
        changes.append(ItemChange(m.key, m.keys, expect, old, Version(new, ts, origin)))
    return WriteEntry(request_id, origin, tuple(changes), error)


def decide(entry: WriteEntry, current: Sequence[Version | None], *,
           check_versions: bool = True) -> str:
    """The apply decision of `entry` given the items' current versions (pure).

    `check_versions=False` is the bug switches' way in (emulator/bugs.py:
    conflict-check-skipped, duplicate-entry-reexecuted): the version condition is not
    checked, so an entry computed from an older version is installed anyway."""
    for change, cur in zip(entry.changes, current):
        if check_versions and (None if cur is None else cur.stamp()) != change.expect:
            return CONFLICT
    return CONDITION_FAILED if entry.error is not None else APPLIED


def apply_write(replica: TableReplica, entry: WriteEntry, *,
                check_versions: bool = True) -> str:
    """Apply `entry` to one region's copy (caller holds `replica.lock`); the decision."""
    decision = decide(entry, [replica.current(c.key) for c in entry.changes],
                      check_versions=check_versions)
    if decision == APPLIED:
        replica.mrsc = True  # its stream is written in journal order (M13)
        for c in entry.changes:
            if c.new is not UNCHANGED:
                replica.install(c.key, c.keys, c.new)  # type: ignore[arg-type]
    return decision


def replicated_write_conflict() -> DynamoError:
    return DynamoError(
        "ReplicatedWriteConflictException",
        "One or more items in this request are being modified by a request in another "
        "Region. Retry the request.")


def outcome(entry: WriteEntry, decision: str) -> list[WriteOutcome]:
    """What the origin region answers once it applied `entry` with `decision`."""
    if decision == CONFLICT:
        raise replicated_write_conflict()
    if decision == CONDITION_FAILED:
        assert entry.error is not None
        raise entry.error
    out = []
    for c in entry.changes:
        if c.new is UNCHANGED:
            out.append(WriteOutcome(c.old_item, c.old_item, False))
        else:
            out.append(WriteOutcome(c.old_item, c.new.item, True))  # type: ignore[union-attr]
    return out
