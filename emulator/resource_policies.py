"""Resource-based policies of a region's tables and streams: Put-, Get- and
DeleteResourcePolicy, as the DynamoDB API reference documents them.

A policy is kept and answered, never enforced (the emulator authorises every request). A
table replica (and its stream) has at most one policy; each change gets a new RevisionId
(a number that grows with time, so revisions compare), and putting the very policy already
there changes nothing. `ExpectedRevisionId` makes a change conditional: on the current
revision, or with "NO_POLICY" on there being none; a mismatch answers
PolicyNotFoundException naming both revisions. A table or stream that does not exist is
ResourceNotFoundException; GetResourcePolicy of one without a policy,
PolicyNotFoundException; DeleteResourcePolicy of one without a policy answers no
RevisionId (the API reference: "empty if you make a request against a resource without a
policy"). A policy must be
a JSON object of at most 20 KB ("Resource-based policy considerations", Developer Guide).
A deleted table's policy goes with it (the policies are kept per table replica).
"""

from __future__ import annotations

import json
import re
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable

from emulator.cluster import Cluster, GlobalTable
from emulator.errors import DynamoError, not_found, validation
from emulator.store import TableReplica

POLICY_BYTES_MAX = 20 * 1024
NO_POLICY = "NO_POLICY"
_RESOURCE = re.compile(r"arn:aws[a-z-]*:dynamodb:([a-z0-9-]+):[0-9]{12}:table/([^/]+)"
                       r"(/stream/[0-9A-Za-z.:_-]+)?")


@dataclass(frozen=True)
class Policy:
    document: str
    revision: str


class ResourcePolicyService:
    """The resource-policy operations of one region."""

    def __init__(self, cluster: Cluster, region: str) -> None:
        self.cluster = cluster
        self.region = region
        self._policies: "weakref.WeakKeyDictionary[TableReplica, dict[str, Policy]]" = \
            weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._last_revision = 0

    def operations(self) -> dict[str, Callable[[dict], dict]]:
        return {"PutResourcePolicy": self.put, "GetResourcePolicy": self.get,
                "DeleteResourcePolicy": self.delete}

    def _resource(self, req: dict) -> tuple[GlobalTable, TableReplica, str, str]:
        """(table, its replica here, "table" or the stream label, the ARN) a request names."""
        arn = req.get("ResourceArn")
        if arn is None:
            raise validation("1 validation error detected: Value null at 'resourceArn' failed "
                             "to satisfy constraint: Member must not be null")
        if not isinstance(arn, str):
            raise DynamoError("SerializationException", "Unexpected value type in payload")
        m = _RESOURCE.fullmatch(arn)
        if m is None or m.group(1) != self.region:
            raise validation(f"Invalid ResourceArn provided as input {arn}")
        name = m.group(2)
        t = self.cluster.regions[self.region].tables.get(name)
        if t is None:
            raise not_found(f"Requested resource not found: Table: {name} not found")
        part = "table"
        if m.group(3):
            if t.stream_arn(self.region) != arn or not (t.stream_spec or t.global_):
                raise not_found(f"Requested resource not found: Stream: {arn} not found")
            part = "stream"
        return t, t.replicas[self.region], part, arn

    def _revision(self) -> str:
        """A new revision id: epoch microseconds, strictly growing."""
        self._last_revision = max(self._last_revision + 1, time.time_ns() // 1000)
        return str(self._last_revision)

    @staticmethod
    def _mismatch(t: GlobalTable, expected: str, current: Policy | None) -> DynamoError:
        prefix = "Resource-based policy not found for the provided ResourceArn: "
        if current is None:
            return DynamoError("PolicyNotFoundException", prefix + "Requested update for "
                               f"policy with revision id {expected}, but no policy is "
                               f"associated to target table {t.name}.")
        if expected == NO_POLICY:
            return DynamoError("PolicyNotFoundException", prefix + "Requested policy update "
                               f"expecting none to be present for table {t.name}, but a policy "
                               f"exists with revision id {current.revision}.")
        return DynamoError("PolicyNotFoundException", prefix + "Requested update for policy "
                           f"with revision id {expected}, but the policy associated to target "
                           f"table {t.name} has revision id {current.revision}.")

    def put(self, req: dict) -> dict:
        t, rep, part, _ = self._resource(req)
        doc = req.get("Policy")
        expected = req.get("ExpectedRevisionId")
        if doc is None:
            raise validation("1 validation error detected: Value null at 'policy' failed to "
                             "satisfy constraint: Member must not be null")
        if not isinstance(doc, str) or (expected is not None and not isinstance(expected, str)):
            raise DynamoError("SerializationException", "Unexpected value type in payload")
        if len(doc.encode("utf-8")) > POLICY_BYTES_MAX:
            raise validation(f"Policy size must be at most {POLICY_BYTES_MAX} bytes")
        try:
            parsed = json.loads(doc)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise validation("Invalid policy document: the policy must be a JSON object")
        with self._lock:
            mine = self._policies.setdefault(rep, {})
            current = mine.get(part)
            if expected is not None and (current.revision if current else NO_POLICY) != expected:
                raise self._mismatch(t, expected, current)
            if current is not None and current.document == doc:
                return {"RevisionId": current.revision}  # the same policy: nothing changes
            mine[part] = Policy(doc, self._revision())
            return {"RevisionId": mine[part].revision}

    def get(self, req: dict) -> dict:
        _, rep, part, arn = self._resource(req)
        with self._lock:
            p = self._policies.get(rep, {}).get(part)
        if p is None:
            raise DynamoError("PolicyNotFoundException", "Resource-based policy not found for "
                              f"the provided ResourceArn: {arn}")
        return {"Policy": p.document, "RevisionId": p.revision}

    def delete(self, req: dict) -> dict:
        t, rep, part, _ = self._resource(req)
        expected = req.get("ExpectedRevisionId")
        if expected is not None and not isinstance(expected, str):
            raise DynamoError("SerializationException", "Unexpected value type in payload")
        with self._lock:
            mine = self._policies.get(rep, {})
            current = mine.get(part)
            if expected is not None and (current is None or expected != current.revision):
                raise self._mismatch(t, expected, current)
            if current is None:
                return {}  # "empty if you make a request against a resource without a policy"
            del mine[part]
        return {"RevisionId": current.revision}


def operations(cluster: Cluster, region: str) -> dict[str, Callable[[dict], Any]]:
    return ResourcePolicyService(cluster, region).operations()
