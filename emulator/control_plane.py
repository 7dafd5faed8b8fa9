"""The AWS-like control plane: how long each control-plane change takes, and when it shows.

AWS's control plane is slow and eventually consistent, and a client that provisions a
global table has to cope with that (emulator/README.md, "The AWS-like control plane",
cites the AWS page for each behaviour): DescribeTable right after CreateTable may answer
ResourceNotFoundException; a replica (and an MRSC witness) added by UpdateTable is absent
from `Replicas` / `GlobalTableWitnesses` for a while (published observations: about 7 s
for MREC, 5-32 s for MRSC), then CREATING, then ACTIVE; a removed replica is still listed
(DELETING) for a while; a table is CREATING / UPDATING / DELETING and refuses further
changes meanwhile (ResourceInUseException); FIS experiments go pending -> initiating ->
running and stopping -> stopped; and too many simultaneous table operations answer
LimitExceededException.

`ControlPlane` holds only the timing: one (low, high) range in seconds per kind of wait,
one seeded draw per change, every draw times one `scale`, so a test at scale 0.02 sees
the same order of events as a user at scale 1, fifty times faster. It has its own
generator (the deployment's seed, salted), so switching it on changes no other random
choice of the emulator. The rules themselves live where the calls are served
(emulator/cluster.py, emulator/fis.py); they ask this object how long to wait.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Mapping

# (low, high) seconds at scale 1. The windows in which something is not yet visible are
# the published observations; the CREATING / DELETING windows are shortened (AWS takes
# minutes to create a replica) so that `gtcheck emulator serve` stays usable at scale 1.
DEFAULT_TIMES_S: Mapping[str, tuple[float, float]] = {
    "describe_lag": (1.0, 3.0),        # DescribeTable ResourceNotFound after CreateTable
    "table_create": (2.0, 6.0),        # CreateTable: CREATING
    "unlisted_async": (5.0, 9.0),      # MREC replica absent from Replicas (about 7 s)
    "unlisted_strong": (5.0, 32.0),    # MRSC replica / witness absent (5-32 s)
    "replica_create": (8.0, 20.0),     # then CREATING (table UPDATING)
    "removed_listed": (3.0, 10.0),     # a removed replica still listed, DELETING
    "table_delete": (2.0, 6.0),        # DeleteTable: DELETING
    "fis_pending": (0.5, 2.0),         # StartExperiment: pending
    "fis_initiating": (1.0, 4.0),      # then initiating, then running (the pause holds)
    "fis_stopping": (1.0, 3.0),        # StopExperiment: stopping, then stopped
    "warm_throughput": (2.0, 6.0),     # UpdateTable WarmThroughput: UPDATING
    "table_update": (2.0, 6.0),        # UpdateTable capacity mode / throughput / SSE: UPDATING
    "backup_create": (1.0, 4.0),       # CreateBackup: CREATING, then AVAILABLE
    "table_restore": (5.0, 15.0),      # a restored table: CREATING (RestoreInProgress)
    "export": (2.0, 6.0),              # ExportTableToPointInTime / ImportTable: IN_PROGRESS
}
# AWS's quota of simultaneous table operations per account (LimitExceededException).
DEFAULT_CONCURRENT_OPS = 500
SEED_SALT = 0x20C0A7


@dataclass
class ControlPlane:
    """Seeded, scaled durations of control-plane changes, and the concurrency limit."""

    scale: float = 1.0
    seed: int = 0
    max_concurrent_ops: int = DEFAULT_CONCURRENT_OPS
    times_s: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_TIMES_S))

    def __post_init__(self) -> None:
        if not self.scale >= 0:
            raise ValueError("control-plane scale must be >= 0")
        if self.max_concurrent_ops < 1:
            raise ValueError("the control-plane operation limit must be >= 1")
        self._rng = random.Random(self.seed ^ SEED_SALT)
        self._lock = threading.Lock()

    def seconds(self, kind: str) -> float:
        """One draw of how long `kind` takes (times the scale)."""
        lo, hi = self.times_s[kind]
        with self._lock:
            return self._rng.uniform(lo, hi) * self.scale

    def unlisted_kind(self, strong: bool) -> str:
        return "unlisted_strong" if strong else "unlisted_async"

    def limit_message(self) -> str:
        return (f"Subscriber limit exceeded: only {self.max_concurrent_ops} tables can be "
                "created, updated or deleted simultaneously")


def parse_scale(text: str | float | None) -> float | None:
    """`--control-plane-scale`: a number >= 0, where 0 (or None) means instant changes."""
    if text is None:
        return None
    v = float(text)
    if not v >= 0 or v == float("inf"):
        raise ValueError(f"control-plane scale must be a finite number >= 0, not {text!r}")
    return v if v > 0 else None
