"""The MRSC multi-region journal: an append-only log replicated across three participants.

An append commits once durable in 2 of 3 participants and every participant receives the
committed entries in one total order (SEMANTICS.md M02, M03). `consensus` is the protocol
(Raft, a pure message-driven state machine, no I/O); `node` runs one participant over a
transport (threads, timers, the emulator's WAN model) and hands committed entries to a
subscriber, the region's strong replication engine.
"""

from emulator.journal.consensus import DurableState, Entry, Participant, Timing
from emulator.journal.node import JournalNode, Transport

__all__ = ["DurableState", "Entry", "JournalNode", "Participant", "Timing", "Transport"]
