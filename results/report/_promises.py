"""Plain words for checkers: which promise each one judges, and what its verdict means.

The report speaks to someone who knows their application, not gtcheck's internals, so
every checker result is shown as the promise it stands for (SEMANTICS.md IDs in
brackets) with its verdict in words. Checker names are matched loosely (case, `_` vs `-`,
a few aliases) because the checker set grows; a name this table does not know is still
shown, generically, with its own name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MODE_NAMES = {
    "async": "asynchronous replication (MREC, last writer wins)",
    "strong": "Multi-Region Strong Consistency (MRSC)",
}


@dataclass(frozen=True)
class Promise:
    title: str
    text: str
    informational: bool = False  # reports data or allowed anomalies; never a failure
    by_mode: tuple[tuple[str, str], ...] = ()   # (mode, text) where the promise differs

    def text_for(self, mode: str | None) -> str:
        return dict(self.by_mode).get(mode or "", self.text)


PROMISES: dict[str, Promise] = {
    "linearizability": Promise(
        "Linearizable items",
        "Every write, conditional write, increment and strongly consistent read of an item "
        "appears to take effect at one instant between its start and its end, the same "
        "order in every region (M05, M06, M13). Checked by an exhaustive search; EC reads "
        "are not part of it, and a search that runs out of time says undecided."),
    "counter": Promise(
        "Counter bounds",
        "Every read of a counter is a value some combination of the increments makes, never "
        "above those attempted before it ended; strongly consistent reads are at least "
        "the increments acknowledged before they began (M16). Asynchronous mode: a region "
        "never loses an increment it acknowledged or a value it showed unless a write from "
        "another region could have overwritten it by last-writer-wins (A01, A05, A14); "
        "losses that such a write could explain are counted, not failures."),
    "set": Promise(
        "No lost set elements",
        "No element appears that was never added, only failed to be added, or before its "
        "add began. MRSC: every acknowledged add is in the final reads and in every "
        "strongly consistent read begun after it, and those reads only grow. Asynchronous "
        "mode: a region never loses an element it acknowledged or showed unless a write "
        "from another region could have overwritten it by last-writer-wins (A01, A05, A14)."),
    "ec-reads": Promise(
        "Eventually consistent reads",
        "EC reads return some written value and never go back in time within a region "
        "(M07)."),
    "conflicts": Promise(
        "Conflicting writes stay invisible",
        "A write answered ReplicatedWriteConflictException never becomes visible (M08)."),
    "read-your-writes": Promise(
        "Read your writes in the writing region",
        "A strongly consistent read in the region that acknowledged a write (or a "
        "conditional write) sees it or something newer (A01)."),
    "monotonic-reads": Promise(
        "Monotonic reads",
        "Reads of one item in one region never go back in time (A05); an eventually "
        "consistent read counts as evidence of what the region held (G2), and no two "
        "regions see an item's versions in opposite orders (A06)."),
    "convergence": Promise(
        "Convergence",
        "After the final heal, every region's final strongly consistent read agrees "
        "(A06, A08, A09)."),
    "lww": Promise(
        "Last writer wins",
        "The value every region converged on is the write with the highest timestamp "
        "(A06)."),
    "never-written": Promise(
        "No phantom values",
        "No read, and no successful conditional write, sees a value that was never "
        "written or before its write began."),
    "failed-writes": Promise(
        "Failed writes stay invisible",
        "A write that failed definitely is never seen by any read."),
    "gsi-reads": Promise(
        "Reads through a global secondary index",
        "A GSI is kept in each region from that region's replica, late, and serves only "
        "eventually consistent reads, in both modes (MRSC's linearizability covers table "
        "reads only, M06): these reads are judged beside the table's promises, as "
        "eventually consistent reads (M07): they return written values; stale reads and "
        "reads going back are reported for your application to survive, not failures."),
    "stale-reads": Promise(
        "Stale reads across regions (allowed)",
        "A strongly consistent read in one region may miss a write acknowledged in "
        "another (A03, A15): reported for your application to survive, not a failure.",
        informational=True),
    "lost-increments": Promise(
        "Lost increments (allowed)",
        "Increments lost from the final value that a write from another region could have "
        "overwritten by last-writer-wins (A14), counted per increment: reported, not a "
        "failure.", informational=True),
    "sc-reads": Promise(
        "Strongly consistent reads are fresh",
        "A strongly consistent read reflects every write acknowledged anywhere before it "
        "began (M06)."),
    "lost-adds": Promise(
        "Lost set adds (allowed)",
        "Acknowledged elements missing from the final reads that a write from another "
        "region could have overwritten by last-writer-wins (A06, A14), counted per "
        "element: reported, not a failure.",
        informational=True),
    "lww-model": Promise(
        "One last-writer-wins order explains every read",
        "Per item there is one timestamp order of the writes in which every region's "
        "reads walk forward, each region sees its own writes at once, EC reads lag but "
        "never go back, and the final reads all show the last write (A01, A05, A06, "
        "G2). Searched per item; a search over its budget says undecided, and a "
        "violation shows the smallest set of reads no such order explains."),
    "linearizability-violations": Promise(
        "Non-linearizable histories (allowed)",
        "Asynchronous replication does not promise linearizable items (A03, A15); where "
        "the history is not linearizable the operations are shown: reported, not a "
        "failure.", informational=True),
    "no-relay": Promise(
        "No relay under a cut link (A10)",
        "With one link cut, writes do not travel through a third region (A10): a read at "
        "one end of the cut that shows a write made at the other end during the cut "
        "breaks it (relayed-write). Each no-relay read listed is evidence the promise "
        "held: the cut region still read an older value that a third region had "
        "already replaced."),
    "availability": Promise(
        "Availability per region",
        "Asynchronous mode: every region keeps serving through every fault (A09). MRSC: "
        "an isolated region stops serving writes and SC reads, the others keep serving "
        "(M10, M12).",
        by_mode=(("async", "Every region keeps serving reads and writes through every fault, "
                           "an isolated one included (A08, A09)."),
                 ("strong", "An isolated region stops serving writes and SC reads; the other "
                            "two keep serving, at higher latency if a link is cut "
                            "(M10, M11, M12)."))),
    "latency": Promise(
        "Latency",
        "Latency quantiles per region and operation, overall and per fault period.",
        informational=True),
    "stats": Promise(
        "Operation counts",
        "How many operations succeeded, failed or ended unknown, per operation and region.",
        informational=True),
    "demo": Promise(
        "The talk's demo",
        "The demo's table -- value and latency per region per step -- rebuilt from the "
        "history; every region's final read agrees, and under MRSC (or with a single "
        "writer) no acknowledged increment is lost (A14, A15, M16)."),
    "set-full": Promise(
        "Every element visible, everywhere, for good",
        "Each element is its own item, written once and read repeatedly in every region.",
        by_mode=(("async", "An SC read in the writing region sees an acknowledged element at "
                           "once (A01); once a region shows an element it never loses it "
                           "(A05); after the final heal every region holds every "
                           "acknowledged element (A08, A09). Remote staleness is allowed "
                           "(A03) and reported with its length."),
                 ("strong", "Every SC read, in every region, holds every element "
                            "acknowledged anywhere before it began (M06), and the final "
                            "reads everywhere hold them all (M15)."))),
    "replication-lag": Promise(
        "Replication lag per region pair",
        "Time from an element's acknowledgement in one region until the first read in "
        "another region showed it (SC reads under async, EC reads under MRSC), bounded by "
        "that read and the one before it.",
        informational=True),
    "streams": Promise(
        "Every region's stream shows exactly the writes it applied",
        "Each record is a write some client made and that did not fail (A07), no write is "
        "recorded twice, each record's old image is the new image of the item's record "
        "before it, and the last record is what the region's final read returned.",
        by_mode=(("async", "Each acknowledged write appears in its own region's stream; a "
                           "remote write that lost to a newer one (A06) may be missing from "
                           "a region's stream and is reported, not a failure (A07)."),
                 ("strong", "Every acknowledged write appears in every region's stream, and "
                            "every region shows each key's records in the same order "
                            "(M13)."))),
    "stream-lag": Promise(
        "Stream lag per region pair",
        "Time from a write's acknowledgement in one region to the ApproximateCreationDateTime "
        "of its stream record in another.",
        informational=True),
    "elle": Promise(
        "Transactional isolation (Elle)",
        "No dependency cycle among transactions that the mode forbids."),
    "serializable-in-writing-region": Promise(
        "Transactions serializable in their region",
        "Each region's own transactions, on the keys it writes, are serializable: no "
        "dependency cycle (G0, G1, G-single, G2) and no aborted, intermediate or "
        "internally inconsistent read among them (A11)."),
    "cross-region-anomalies": Promise(
        "Transactions seen across regions",
        "Another region may see part of a transaction, since replication is per item; "
        "the cycles this makes over the whole history are reported, not failures (A11).",
        informational=True),
    "strict-serializable": Promise(
        "Strictly serializable items",
        "The single-item transactions MRSC accepts are strictly serializable (M05, M06)."),
    "transactions-rejected": Promise(
        "Transactions rejected",
        "MRSC tables reject TransactWriteItems and TransactGetItems with a "
        "ValidationException; none is accepted (M14)."),
    "bank": Promise(
        "Money conserved",
        "In the region that runs the transfers every read of all accounts shows the same "
        "total and no negative balance; another region may catch a transfer half "
        "replicated (reported, A11); after the final heal all regions agree (A06, A08)."),
}

ALIASES = {
    "linear": "linearizability", "linearizable": "linearizability",
    "ryw": "read-your-writes", "monotonic": "monotonic-reads",
    "last-writer-wins": "lww", "converge": "convergence",
    "phantom-reads": "never-written", "no-phantom-reads": "never-written",
    "failed-write": "failed-writes", "failed-write-invisible": "failed-writes",
    "replicated-write-conflict": "conflicts", "conflict": "conflicts",
    "ec-read": "ec-reads", "eventual-reads": "ec-reads",
    "stale-read": "stale-reads", "lost-increment": "lost-increments",
    "counter-bounds": "counter", "perf": "latency",
    "cycles": "elle",
}


def promise_for(checker_name: str) -> Promise | None:
    key = checker_name.strip().lower().replace("_", "-").replace(" ", "-")
    key = ALIASES.get(key, key)
    return PROMISES.get(key)


def verdict_words(valid: Any) -> tuple[str, str]:
    """(css class, word) for a verdict."""
    if valid is True:
        return "valid", "held"
    if valid is False:
        return "invalid", "BROKEN"
    return "unknown", "undecided"


def headline(valid: Any, mode: str | None, broken: list[str], undecided: list[str],
             reason: str | None = None) -> str:
    mode_words = MODE_NAMES.get(mode or "", "this run's mode")
    if valid not in (True, False) and reason:
        return f"Unknown: {reason}."
    if valid is None:
        return "No verdict: this run has no checker results yet."
    if valid is True:
        return f"Valid: every promise of {mode_words} that was checked held."
    if valid is False:
        return (f"Invalid: {len(broken)} promise{'s' if len(broken) != 1 else ''} of "
                f"{mode_words} broken ({', '.join(broken)}).")
    return (f"Unknown: no promise was broken, but {', '.join(undecided) or 'some checks'} "
            "could not be decided.")
