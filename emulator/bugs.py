"""Bug switches: small, realistic replication mistakes the emulator can be told to make.

A consistency test suite is judged by the bugs it finds (issue 12). To measure that, the
emulator carries a catalogue of mistakes that real replication code makes, each off by
default and switched on by name (`gtcheck emulator serve --bug NAME[,NAME]`, `gtcheck run
--emulator-bug NAME[,NAME]`, `Deployment(bugs=...)`). Each one is a few lines at the place
in the engine where such a mistake would really be made -- the read path that decides
whether to fence, the replicator that resumes after a heal, the apply rule that checks
versions -- never a wrong answer substituted at the API edge, so what a test sees is the
mistake's genuine consequence (or nothing, if the schedule never exercises that path).
Each entry names the SEMANTICS.md claim it breaks, which `gtcheck validate` prints in its
detection matrix.

`Bugs` is what the engines consult: the set of names in force and the seeded random
generator a "one in N" mistake draws from (derived from the deployment's seed, so a run is
repeatable).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Iterable

from gtcheck.errors import BadInput

DROP_ONE_IN_N = 20  # replicator-drops-records: one destination write in N is lost


@dataclass(frozen=True)
class Bug:
    """One switch: its name, the mode it lives in, the claim it breaks, what it does."""

    name: str
    mode: str    # "async" | "strong": the engine whose code holds the mistake
    claim: str   # SEMANTICS.md IDs
    summary: str
    where: str   # the code that holds the mistake


CATALOGUE: dict[str, Bug] = {b.name: b for b in (
    Bug("sc-read-no-fence", "strong", "M06",
        "an SC read skips its read fence when the region has none of its own writes in "
        "flight ('nothing of ours is pending, so the local copy is current'): it misses "
        "writes acknowledged in other regions",
        "emulator/mrsc.py MrscEngine._fence_needed"),
    Bug("ack-before-commit", "strong", "M04, M08, M15",
        "a write is acknowledged as soon as the journal accepted its proposal, before it "
        "committed and was applied; an entry later skipped as a conflict (or lost in a "
        "leader change) was nevertheless answered as a success",
        "emulator/mrsc.py MrscEngine._propose_and_wait"),
    Bug("conflict-check-skipped", "strong", "M08",
        "the apply rule installs an entry without checking that its items are still at "
        "the version it was computed from: of two increments built from one version both "
        "succeed and one is lost",
        "emulator/mrsc_apply.py decide"),
    Bug("duplicate-entry-reexecuted", "strong", "M09",
        "an entry whose request id was applied before (a re-proposal after a slow "
        "answer, committed twice) is taken for a retry of a known success and installed "
        "again without its version check, writing its old item over later writes",
        "emulator/mrsc.py MrscEngine._apply"),
    Bug("server-retry-unknown", "strong", "M04",
        "when a write's outcome is unknown (its entry was proposed but not learned in "
        "time) the region retries it from the item's current state instead of answering "
        "500: the retry's definite answer (409 conflict, 503 cut off) is given for a "
        "request whose first entry may still commit",
        "emulator/mrsc.py MrscEngine.write"),
    Bug("sc-read-while-recovering", "strong", "M10, M06",
        "a region that cannot reach its journal quorum (cut off, or restarted and "
        "catching up) answers SC reads from its local copy instead of refusing them",
        "emulator/mrsc.py MrscEngine.get"),
    Bug("lww-arrival-order", "async", "A06",
        "a replicated write is applied whenever it arrives, without comparing its "
        "timestamp with the item's current version: regions end on different winners",
        "emulator/replication.py AsyncEngine.apply_replicated"),
    Bug("relay", "async", "A10",
        "replicators ship every record of their region's stream, replicated ones too, so "
        "a write reaches a region whose direct link is cut through a third region",
        "emulator/replication.py AsyncEngine._attach"),
    Bug("replicator-drops-records", "async", "A02, A08",
        f"a replicator counts a record as delivered before the destination write "
        f"succeeded; one destination write in {DROP_ONE_IN_N} fails and is never retried",
        "emulator/replication.py Replicator._arrive"),
    Bug("backlog-discarded-on-heal", "async", "A08, A09, A13",
        "when a broken replication path comes back, the replicator resumes from the "
        "stream's latest record and discards the backlog it kept while the path was down",
        "emulator/replication.py Replicator.path_changed"),
    Bug("ec-read-goes-back", "async", "A05, G2",
        "EC reads are balanced over all three in-region copies per request instead of "
        "being served by one copy: a read from a lagging copy after one from the leader "
        "goes back in time",
        "emulator/store.py TableReplica.copy_for_read"),
    Bug("stream-record-for-dropped-write", "async", "A07",
        "the destination writes a replicated write's stream record before its "
        "last-writer-wins check: a stale write that is dropped still shows in the "
        "region's stream",
        "emulator/replication.py AsyncEngine.apply_replicated"),
    Bug("replicated-write-no-record", "async", "A07",
        "one applied replicated write in 10 is installed without its stream record (the "
        "record append is skipped after the install)",
        "emulator/replication.py AsyncEngine.apply_replicated"),
    Bug("mrsc-stream-reorder", "strong", "M13",
        "an MRSC region's stream writer buffers one item record in 4 and publishes it after "
        "the item's next record: that region's stream shows the key's writes out of "
        "journal order",
        "emulator/store.py TableReplica.append_record"),
    Bug("delete-not-replicated", "async", "A06, A12",
        "the replicator takes a record without a new image (a REMOVE: DeleteItem, a batch "
        "DeleteRequest, a transactional Delete) for one with nothing to apply and counts it "
        "delivered: a delete never reaches the other regions, where the item lives on",
        "emulator/replication.py Replicator._arrive"),
    Bug("ttl-delete-not-replicated", "async", "A12",
        "the TTL process writes its delete straight into the region's storage, below the "
        "change stream: an expired item disappears where it expired and lives on in every "
        "other region",
        "emulator/ttl.py TtlSweeper._delete"),
    Bug("restamp-on-ack-timeout", "async", "A06",
        "a replicator waits for the destination's acknowledgement for twice the outbound "
        "one-way delay (plus its overhead and jitter), as if the way back were as fast as "
        "the way out, and at every timeout until the acknowledgement is back resends the "
        "record stamped with the source's clock now: when only the way back is slow (a one-way delay), an old write returns with a "
        "new timestamp and overwrites later ones there",
        "emulator/replication.py Replicator._arrive"),
    Bug("query-sc-unfenced", "strong", "M06",
        "Query hands the engine an EC scan whatever its ConsistentRead says: an SC Query "
        "reads the local copy without a read fence and misses writes acknowledged in other "
        "regions (GetItem, Scan and BatchGetItem are right)",
        "emulator/dataplane.py RegionService.query"),
    Bug("transaction-two-step", "async", "A11",
        "TransactWriteItems checks every condition, then applies its items in two steps "
        "with the region's lock released between them: a reader in the same region can "
        "see half of the transaction",
        "emulator/dataplane.py RegionService.transact_write_items"),
    Bug("local-stamp-below-current", "async", "A06",
        "a local write is stamped by the region's clock alone, not above the version it "
        "replaces: a region whose clock is behind installs its write locally (it always "
        "wins there) with a stamp below the current version, so every other region drops "
        "it as stale and the regions disagree",
        "emulator/replication.py AsyncEngine.write"),
    Bug("ttl-delete-without-recheck", "async", "A12",
        "the TTL process deletes what an earlier sweep found expired once its delay has "
        "passed, as it was found, without reading the item again: an item whose expiry was "
        "extended in between is deleted anyway",
        "emulator/ttl.py TtlSweeper.sweep"),
    Bug("scan-page-skips-item", "async", "A01, A05",
        "a Scan or Query page cut short by Limit names the first item it did not return "
        "as its LastEvaluatedKey instead of the last one it did: the next page starts "
        "after that item, which a paginated read never sees",
        "emulator/dataplane.py RegionService._page"),
    Bug("transaction-partial-on-cancel", "async", "A11",
        "TransactWriteItems checks and writes its items one at a time in request order "
        "and stops at the first failed condition: the items before it stay written "
        "although the transaction is answered TransactionCanceledException",
        "emulator/dataplane.py RegionService.transact_write_items"),
)}


def parse_bugs(spec: str | Iterable[str] | None) -> tuple[str, ...]:
    """`"a,b"` or ["a", "b"] -> ("a", "b"); empty or "none" -> (); unknown -> BadInput."""
    if spec is None:
        return ()
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for n in (str(x).strip() for x in names):
        if not n or n == "none":
            continue
        if n not in CATALOGUE:
            raise BadInput(f"unknown emulator bug {n!r} (known: {', '.join(CATALOGUE)})")
        if n not in out:
            out.append(n)
    return tuple(out)


class Bugs:
    """The switches in force in one deployment and the randomness their mistakes draw."""

    def __init__(self, names: Iterable[str] = (), seed: int = 0) -> None:
        self.names = frozenset(parse_bugs(list(names)))
        self._rng = random.Random(f"gtcheck-bugs:{seed}")
        self._lock = threading.Lock()

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __bool__(self) -> bool:
        return bool(self.names)

    def one_in(self, n: int) -> bool:
        """True once in `n` calls on average (seeded; thread-safe)."""
        with self._lock:
            return self._rng.randrange(n) == 0

    def choice(self, seq):
        with self._lock:
            return self._rng.choice(seq)


NO_BUGS = Bugs()


def help_text() -> str:
    """One line per switch, for `--help`."""
    return "; ".join(f"{b.name} ({b.mode}, breaks {b.claim})" for b in CATALOGUE.values())
