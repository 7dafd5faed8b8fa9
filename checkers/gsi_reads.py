"""Reads through a global secondary index (the register workload's `--gsi-reads`), judged
beside the table's promises.

A GSI is maintained in each region from that region's replica, asynchronously, and its
reads are eventually consistent in both replication modes (DynamoDB developer guide,
"Global secondary indexes: read consistency": updates propagate "within a fraction of a
second, under normal conditions"; `ConsistentRead` is refused on a GSI), even on an MRSC
table whose SC table reads are linearizable (M06 covers table reads only). So a GSI read
is an EC read (M07, G2) of a separate structure: it is judged as EC reads are, on its own,
and never counts against the table's checkers (`without_gsi_reads` takes GSI reads out of
their history), so it can never fail MRSC's linearizability.

What this checker reports:
- violations (a GSI only ever holds versions its region's table held): a GSI read of a
  value no write attempted, of a value whose every write failed, or before any write of
  it began (`checkers.async_props.written_value_anomalies`, the EC-read rules);
- expected anomalies, counted and explained, never failures: `gsi-stale-read`, a GSI read
  returning a value provably older than a write acknowledged (anywhere) before the read
  began (as `checkers.anomalies` defines stale, A03 / M07), and `gsi-read-went-back`, a
  GSI read in a region returning a value provably older than an earlier GSI read in that
  region saw (the order checks of `checkers.async_props.region_order_anomalies`): AWS
  promises GSI reads no monotonicity.
A history without an answered GSI read is "unknown" (nothing was checked).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from checkers import observe as ob
from checkers.async_props import (provably_older, region_order_anomalies,
                                  written_value_anomalies)
from results.history import OK, Op

GSI_PATH = "GSI"  # the `path` a register read through the GSI records


def is_gsi_read(op: Op) -> bool:
    return op.f == "read" and (op.extra or {}).get("path") == GSI_PATH


def without_gsi_reads(history: Sequence[Op]) -> list[Op]:
    """The history with every GSI read (invocation and completion) left out: what the
    table's checkers judge. Completions are matched to their invocation by process, in
    file order (docs/CONVENTIONS.md)."""
    out: list[Op] = []
    feed = table_ops_only(out.append)
    for op in history:
        feed(op)
    return out


def table_ops_only(sink: Callable[[Op], None]) -> Callable[[Op], None]:
    """`sink` fed a recorded history op by op, GSI reads (invocation and completion) left
    out: for the checking while the run goes (checkers/online.py), which judges the
    table's promises as the offline checkers do, on `without_gsi_reads`."""
    open_gsi: set[Any] = set()

    def feed(op: Op) -> None:
        if op.is_invoke:
            if is_gsi_read(op):
                open_gsi.add(op.process)
                return
        elif op.process in open_gsi:
            open_gsi.discard(op.process)
            return
        sink(op)
    return feed


def only_gsi_reads(history: Sequence[Op]) -> list[Op]:
    """The history with every table read left out: writes, cas, nemesis and GSI reads."""
    out: list[Op] = []
    open_table_read: set[Any] = set()
    for op in history:
        if op.is_invoke and op.is_client:
            if op.f == "read" and not is_gsi_read(op):
                open_table_read.add(op.process)
                continue
        elif not op.is_invoke and op.process in open_table_read:
            open_table_read.discard(op.process)
            continue
        out.append(op)
    return out


def gsi_reads_check(test: Any, history: Sequence[Op], opts: Any) -> dict:
    view = only_gsi_reads(history)
    pairs = ob.client_pairs(view)
    reads = [p for p in pairs if p.invoke.f == "read" and p.type == OK]
    if not reads:
        return {"valid": "unknown", "reason": "nothing to check: no read through the GSI "
                "was answered", "reads": 0, "anomaly_counts": {}, "anomalies": []}
    margin = ob.skew_margin_ns(history)
    writes = ob.register_writes(pairs)
    found = written_value_anomalies(pairs, which="ec")
    went_back = region_order_anomalies(pairs, stream="ec", expected=True, writes=writes,
                                       margin_ns=margin)
    for a in went_back:
        a["kind"] = "gsi-read-went-back"
        a["explanation"] = "Through the GSI: " + a["explanation"]
    found += went_back
    found += _stale(reads, pairs, writes, margin)
    return ob.result(found, reads=len(reads), regions=sorted({ob.region_of(p) for p in reads}))


def _stale(reads: list, pairs: list, writes: Any, margin_ns: int) -> list[dict]:
    newest = ob.index_newest_acked(pairs, by_region=False)
    out = []
    for p in reads:
        key, value = p.invoke.key, ob.freeze(ob.read_value(p))
        idx = newest.get(key)
        newer = idx.before(p.start) if idx else None
        if not provably_older(value, key, newer, writes, margin_ns):
            continue
        out.append(ob.anomaly(
            "gsi-stale-read", expected=True, key=key, region=ob.region_of(p),
            ops=[p.invoke.index, newer.invoke.index],
            explanation=(f"A read through the GSI in {ob.region_of(p)} at {ob.secs(p.start)} "
                         f"(op {p.invoke.index}) returned {ob.show(value)}, but "
                         f"{ob.missed_write(newer)}: the index lags its table (GSI reads "
                         "are eventually consistent in both modes)")))
    return out
