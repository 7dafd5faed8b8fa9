"""MRSC participant rules (SEMANTICS.md M01), checked by the strong engine itself.

The UpdateTable flow that sets a table up (one call on an empty table: ReplicaUpdates
Create, GlobalTableWitnessUpdates Create, MultiRegionConsistency STRONG; removal of two
participants at once) lives in the control plane, emulator/cluster.py. Whatever builds an
`MrscEngine` must hand it exactly three participants -- three replicas, or two replicas
and a witness -- all in one region set (US, EU or AP); `check_participants` enforces that
with the ValidationException the service gives, so the engine can never run on a journal
that has no majority of 2 of 3.
"""

from __future__ import annotations

from typing import Sequence

from emulator.errors import validation

REGION_SETS: dict[str, frozenset[str]] = {
    "US": frozenset({"us-east-1", "us-east-2", "us-west-2"}),
    "EU": frozenset({"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"}),
    "AP": frozenset({"ap-northeast-1", "ap-northeast-2", "ap-northeast-3"}),
}


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
