"""When a stream record is *proven* missing: the records known read, in stream order.

DynamoDB Streams' GetRecords (API Reference) says: "If there are no stream records
available in the portion of the shard that the iterator points to, GetRecords returns an
empty list. Note that it might take multiple calls to get to a portion of the shard that
contains stream records." An empty page therefore proves nothing about a shard's tip: a
drain that stopped at empty pages may have stopped before records still to come, on AWS
as on an emulator that serves such pages (emulator/README.md, `--stream-empty-pages`).
What the drain does prove comes from the Developer Guide (DynamoDB Streams): "For each
item that is modified in a DynamoDB table, the stream records appear in the same
sequence as the actual modifications to the item." So once a region's drain has read,
contiguously from a shard's start (every listed ancestor read to its end), a record of
item k, every earlier modification of k in that region has its record among those read.
A record is *proven missing* from region R's stream only when the drain read, in R's
stream, a record of the same item from a modification that came after the one whose
record is missing; otherwise the record may simply not have been reached, and the claim
is *not drained* (unknown, with the reason), never "missing".

This module answers the two questions that rule needs, as pure functions of the drain's
recorded steps (checkers/stream_drain.py) and the records read: which records are
*covered* (read contiguously, so nothing of their item before them was skipped), in
stream order; and, for a claim, the first covered record of the item whose modification
provably came after it (`first_after`). Which modifications come after which is the
checker's (checkers/streams.py), from SEMANTICS.md: A01 (a write is applied in its own
region before it is acknowledged), A04 (one origin's writes arrive in order), M04/M15
(MRSC applies every acknowledged write everywhere, in one order).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

from checkers import stream_drain as sd


def _depths(listing: Sequence[sd.Shard]) -> dict[str, int]:
    """Each listed shard's distance from its oldest listed ancestor (parents first)."""
    parent = {s.id: s.parent for s in listing}
    out: dict[str, int] = {}
    for s in listing:
        d, p, seen = 0, s.parent, {s.id}
        while p is not None and p in parent and p not in seen:
            seen.add(p)
            d, p = d + 1, parent[p]
        out[s.id] = d
    return out


def covered_by_steps(ledger: sd.Ledger, records: Mapping[int, dict]) -> list[dict]:
    """The records of one region (`records`: sequence number -> record) that the final
    drain read contiguously from their shard's start, each shard's listed parent read to
    its end, in stream order (ancestors first, then sequence number)."""
    listing = ledger.listing or ()
    listed = {s.id: s for s in listing}
    depth = _depths(listing)
    reach: dict[str, int] = {}
    for sid, head in ledger.head.items():
        s = listed.get(sid)
        if s is None or head is None:
            continue
        if s.parent is not None and s.parent in listed and s.parent not in ledger.ended:
            continue  # read before its parent ended: an ancestor's records may be unread
        reach[sid] = int(head)
    out = [r for seq, r in records.items()
           if r.get("shard") in reach and seq <= reach[r["shard"]]]
    return sorted(out, key=lambda r: (depth.get(r.get("shard"), 0), int(r["seq"])))


def covered_by_whole_drains(drains: Iterable[frozenset], records: Mapping[int, dict]
                            ) -> list[dict]:
    """Older histories' whole-stream drains (workloads/streams.py before issue 21's drain
    steps): each read from TRIM_HORIZON, so what one read is a prefix of the stream."""
    reach = max((max(seqs) for seqs in drains if seqs), default=None)
    if reach is None:
        return []
    return [records[s] for s in sorted(records) if s <= reach]


def first_after(covered_of_key: Sequence[dict], after: Callable[[dict], bool]
                ) -> int | None:
    """The position in `covered_of_key` (one item's covered records, in stream order) of
    the first record whose modification provably came after the claim (`after`), None
    when the drain read none: the claim is then not drained."""
    return next((i for i, r in enumerate(covered_of_key) if after(r)), None)


def key_of(rec: Mapping[str, Any], key_attr: str) -> Any:
    keys = rec.get("keys")
    return keys.get(key_attr) if isinstance(keys, Mapping) else None
