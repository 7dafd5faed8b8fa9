"""MRSC set-up rules: which UpdateTable calls make (or change) a strongly consistent table.

The control plane (the emulator's UpdateTable) hands the MRSC-related parts of a request
to these pure functions, which either return the resulting participants or raise the
`DynamoError` (ValidationException) the real service gives. The rules are SEMANTICS.md's
"MRSC rules" and M01, M14:

- MRSC is set up in one call on an empty table: `ReplicaUpdates` Create for the other
  replica(s), optionally `GlobalTableWitnessUpdates` Create for a witness, and
  `MultiRegionConsistency: STRONG`; the result has exactly three participants (three
  replicas, or two replicas and a witness), all in one region set (US, EU or AP);
- `MultiRegionConsistency` is valid only together with Create actions; the witness list
  holds at most one entry; a witness needs exactly two replicas;
- after creation the mode cannot change and no replica can be added; removal takes two
  replicas, or one replica plus the witness, at once (the table then stops being global);
  a single replica or the witness alone cannot be removed; Disassociate is not supported;
- TransactWriteItems, TransactGetItems and UpdateTimeToLive are rejected (M14).

The message texts follow the service's style; they are not copied verbatim from AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from emulator.errors import DynamoError, validation

REGION_SETS: dict[str, frozenset[str]] = {
    "US": frozenset({"us-east-1", "us-east-2", "us-west-2"}),
    "EU": frozenset({"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"}),
    "AP": frozenset({"ap-northeast-1", "ap-northeast-2", "ap-northeast-3"}),
}

UNSUPPORTED_OPERATIONS = {
    "TransactWriteItems": "Transactions are not supported for tables configured for "
                          "multi-Region strong consistency",
    "TransactGetItems": "Transactions are not supported for tables configured for "
                        "multi-Region strong consistency",
    "UpdateTimeToLive": "Time to Live is not supported for tables configured for "
                        "multi-Region strong consistency",
}


@dataclass(frozen=True)
class MrscLayout:
    """The participants of an MRSC table: replica regions (home first) and the witness."""

    replicas: tuple[str, ...]
    witness: str | None

    @property
    def participants(self) -> tuple[str, ...]:
        return self.replicas + ((self.witness,) if self.witness else ())


def region_set(region: str) -> str | None:
    for name, regions in REGION_SETS.items():
        if region in regions:
            return name
    return None


def check_participants(replicas: Sequence[str], witness: str | None) -> list[str]:
    """The journal participants of an MRSC table, or ValidationException (M01)."""
    participants = list(dict.fromkeys(replicas))
    if witness is not None:
        if witness in participants:
            raise validation(f"The witness Region {witness} cannot also be a replica Region")
        participants.append(witness)
    if len(participants) != 3:
        raise validation(
            "A global table with multi-Region strong consistency must have exactly three "
            f"Regions: three replicas, or two replicas and one witness (got "
            f"{len(replicas)} replica(s) and {1 if witness else 0} witness)")
    sets = {region_set(p) for p in participants}
    if len(sets) != 1 or None in sets:
        raise validation(
            "All Regions of a global table with multi-Region strong consistency must "
            "belong to the same Region set (US: us-east-1, us-east-2, us-west-2; EU: "
            "eu-west-1, eu-west-2, eu-west-3, eu-central-1; AP: ap-northeast-1, "
            f"ap-northeast-2, ap-northeast-3); got {', '.join(participants)}")
    return participants


def unsupported_operation(operation: str) -> DynamoError | None:
    """The ValidationException for an operation MRSC tables reject (M14), else None."""
    message = UNSUPPORTED_OPERATIONS.get(operation)
    return None if message is None else validation(message)


def plan_strong_setup(home: str, *, existing_replicas: Iterable[str], item_count: int,
                      replica_creates: Sequence[str], witness_creates: Sequence[str],
                      other_replica_actions: Sequence[str] = (), has_lsi: bool = False,
                      ttl_enabled: bool = False) -> MrscLayout:
    """Validate an UpdateTable that sets MultiRegionConsistency STRONG on table in `home`.

    `existing_replicas` are the table's other replica regions now; `replica_creates` and
    `witness_creates` the regions of this call's Create actions; `other_replica_actions`
    the names of any non-Create replica actions in the call (Update, Delete,
    Disassociate).
    """
    existing = [r for r in existing_replicas if r != home]
    if other_replica_actions or not (replica_creates or witness_creates):
        raise validation("MultiRegionConsistency can only be specified together with "
                         "Create actions in ReplicaUpdates or GlobalTableWitnessUpdates")
    if existing:
        raise validation("The consistency mode of an existing global table cannot be "
                         "changed; multi-Region strong consistency must be configured "
                         "when the first replicas are created")
    if len(witness_creates) > 1:
        raise validation("GlobalTableWitnessUpdates can contain at most one update")
    if home in replica_creates:
        raise validation("Cannot add, delete, or update the local region through "
                         "ReplicaUpdates")
    if len(set(replica_creates)) != len(replica_creates):
        raise validation("Duplicate Region in ReplicaUpdates")
    witness = witness_creates[0] if witness_creates else None
    if witness is not None and witness == home:
        raise validation("The table's own Region cannot be its witness")
    if witness is not None and witness in replica_creates:
        raise validation(f"Region {witness} cannot be both a replica and the witness")
    if witness is not None and len(replica_creates) != 1:
        raise validation("A witness can be added only to a global table with exactly two "
                         "replicas; multi-Region strong consistency uses three replicas "
                         "or two replicas and a witness")
    layout = MrscLayout((home, *replica_creates), witness)
    check_participants(layout.replicas, witness)
    if item_count > 0:
        raise validation("Multi-Region strong consistency can only be configured on an "
                         "empty table; the table contains items")
    if has_lsi:
        raise validation("Local secondary indexes are not supported for tables with "
                         "multi-Region strong consistency")
    if ttl_enabled:
        raise validation("Time to Live is not supported for tables with multi-Region "
                         "strong consistency")
    return layout


def plan_strong_update(layout: MrscLayout, *, home: str, replica_creates: Sequence[str],
                       replica_deletes: Sequence[str], witness_creates: Sequence[str],
                       witness_deletes: Sequence[str], other_replica_actions: Sequence[str] = (),
                       consistency: str | None = None) -> MrscLayout | None:
    """Validate an UpdateTable on an existing MRSC table; the new layout, or None when the
    call removes the global table's other participants (the table stays, single-region)."""
    if consistency is not None and consistency != "STRONG":
        raise validation("The consistency mode of a global table cannot be changed after "
                         "it is created")
    if "Disassociate" in other_replica_actions:
        raise validation("Disassociate is not supported for tables with multi-Region "
                         "strong consistency")
    if replica_creates or witness_creates:
        raise validation("Replicas or witnesses cannot be added to a table with "
                         "multi-Region strong consistency")
    if home in replica_deletes:
        raise validation("Cannot add, delete, or update the local region through "
                         "ReplicaUpdates")
    for r in replica_deletes:
        if r not in layout.replicas:
            raise validation(f"Region {r} is not a replica of this table")
    for w in witness_deletes:
        if w != layout.witness:
            raise validation(f"Region {w} is not the witness of this table")
    removed = len(replica_deletes) + len(witness_deletes)
    if removed == 0:
        return layout
    if removed != 2:
        raise validation("A table with multi-Region strong consistency cannot lose a single "
                         "participant: delete two replicas, or one replica and the witness, "
                         "in one request")
    return None
