"""The `endpoints:FILE` target: an already running emulator (or any DynamoDB-compatible
endpoints, one per region) described by a state file.

`gtcheck emulator serve` writes a state file (default `.gtcheck/emulator.json`) naming the
endpoint of every region and of the admin API. This target reads it, makes one boto3
client per region against those endpoints, provisions the run's global table through the
ordinary control-plane calls, and -- when the file names an admin endpoint -- offers the
fault API and the item version metadata over HTTP, so nemeses and checkers work exactly as
with the embedded emulator. It never starts or stops the servers: they belong to whoever
started them. The embedded `emulator` target is this same target over a deployment it
starts itself.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from typing import Any, Mapping, Sequence

from suite.errors import BadInput, SetupError
from suite.targets.base import (KEY_ATTRIBUTE, GlobalTableProvisioner, RegionClients,
                                RegionClientsTarget, check_topology)

# Endpoints of an emulator are not AWS: any credentials work, so we never look for real ones.
EMULATOR_CREDENTIALS = {"aws_access_key_id": "gtcheck", "aws_secret_access_key": "gtcheck"}


_SESSION: Any = None
_SESSION_GUARD = threading.Lock()


def emulator_session() -> Any:
    """The process's one boto3 session with the emulator's credentials. A fresh session
    loads botocore's service models again for its first client (about 0.2 s, more on a
    busy machine), which every quick battery run paid several times over (issue 21: the
    battery's time goes where chances are); one session per process loads them once.
    Client creation from it is serialised (`suite.targets.base.session_lock`); the
    clients themselves, with their own event hooks, are per target as before."""
    global _SESSION
    with _SESSION_GUARD:
        if _SESSION is None:
            import boto3  # here, not at import: help texts never need it
            _SESSION = boto3.session.Session(**EMULATOR_CREDENTIALS)
        return _SESSION


def read_state_file(path: str | os.PathLike) -> dict:
    """Parse an emulator state file into {mode, regions: {name: url}, witness, admin}.

    Accepted shapes: `{"regions": {"us-east-1": "http://...", ...}, "admin": "http://...",
    "admin_token": "..."}` or `{"regions": {"us-east-1": {"endpoint": "http://..."}},
    "admin": {"url": ..., "token": ...}}`, plus optional `mode` and `witness` (the token is
    what the emulator's admin API requires, emulator/admin.py). Anything else is BadInput
    naming the file.
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as e:
        raise BadInput(f"{path}: cannot read the endpoints state file ({e.strerror})") from None
    except json.JSONDecodeError as e:
        raise BadInput(f"{path}: not valid JSON (line {e.lineno}: {e.msg})") from None
    if not isinstance(doc, dict):
        raise BadInput(f"{path}: expected a JSON object")
    regions_raw = doc.get("regions") or doc.get("endpoints")
    if not isinstance(regions_raw, Mapping) or not regions_raw:
        raise BadInput(f"{path}: expected \"regions\": {{region: endpoint URL}}")
    regions: dict[str, str] = {}
    for name, v in regions_raw.items():
        url = v.get("endpoint") or v.get("url") if isinstance(v, Mapping) else v
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise BadInput(f"{path}: region {name!r} has no http(s) endpoint URL ({v!r})")
        regions[str(name)] = url.rstrip("/")
    admin = doc.get("admin")
    token = doc.get("admin_token")
    if isinstance(admin, Mapping):
        token = admin.get("token", token)
        admin = admin.get("url") or admin.get("endpoint")
    if token is not None and not isinstance(token, str):
        raise BadInput(f"{path}: \"admin_token\" must be a string")
    if admin is not None and not isinstance(admin, str):
        raise BadInput(f"{path}: \"admin\" must be a URL, got {admin!r}")
    witness = doc.get("witness")
    mode = doc.get("mode")
    if mode is not None and mode not in ("async", "strong"):
        raise BadInput(f"{path}: unknown mode {mode!r}")
    return {"mode": mode, "regions": regions, "witness": witness,
            "admin": admin.rstrip("/") if admin else None, "admin_token": token}


class AdminClient:
    """HTTP client of the emulator's admin API, with the in-process Deployment's interface.

    `fault(action, *args)` POSTs `{"action", "args"}` to `<admin>/fault`; `versions(table,
    key)` POSTs `{"table", "key"}` to `<admin>/versions` and returns its `versions`. A 400
    answer (the emulator refused the arguments) raises BadInput with its message; no
    answer or any other status raises SetupError, so a nemesis records the fault as
    failed or unknown accordingly.
    """

    def __init__(self, url: str, *, token: str | None = None, timeout_s: float = 10.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    def _post(self, path: str, body: Mapping[str, Any]) -> dict:
        from emulator.admin import TOKEN_HEADER
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers[TOKEN_HEADER] = self.token
        req = urllib.request.Request(self.url + path, data=data, method="POST",
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                text = resp.read().decode() or "{}"
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")[:500]
            try:
                detail = json.loads(detail).get("error", detail)
            except (ValueError, AttributeError):
                pass
            if e.code == 400:
                raise BadInput(f"admin API {path}: {detail}") from None
            raise SetupError(f"admin API {path} answered {e.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as e:
            raise SetupError(f"admin API {self.url}{path} unreachable: {e}") from None
        return json.loads(text)

    def fault(self, action: str, *args: Any) -> dict:
        return self._post("/fault", {"action": action, "args": list(args)}).get("status", {})

    def versions(self, table: str, key: Mapping[str, Any]) -> dict:
        return self._post("/versions", {"table": table, "key": dict(key)}).get("versions", {})


def fault_args(action: str, value: Mapping[str, Any] | None) -> list:
    """A nemesis op's `value` dict (docs/CONVENTIONS.md) as the admin API's argument list:
    `{"region"}` -> [region]; `{"a", "b"}` -> [a, b]; plus `"ms"` last when present."""
    if not value:
        return []
    args: list = []
    if "region" in value and value["region"] is not None:
        args.append(value["region"])
    if "a" in value or "b" in value:
        args += [value.get("a"), value.get("b")]
    if "ms" in value:
        args.append(value["ms"])
    return args


def decode_attribute(attr: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value as the workloads record it: N -> int (or float), NS ->
    sorted numbers, S -> str, anything else as it is."""
    if "N" in attr:
        text = attr["N"]
        return int(text) if text.lstrip("-").isdigit() else float(text)
    if "NS" in attr:
        return sorted(decode_attribute({"N": x}) for x in attr["NS"])
    if "S" in attr:
        return attr["S"]
    return dict(attr)


def item_value(item: Mapping[str, Any] | None, key_attribute: str = KEY_ATTRIBUTE) -> Any:
    """The value a workload stores in an item: its one non-key attribute, decoded (a dict
    of them when there are several; None for a missing or deleted item)."""
    if not item:
        return None
    rest = {k: decode_attribute(v) for k, v in item.items() if k != key_attribute}
    if len(rest) == 1:
        return next(iter(rest.values()))
    return rest or None


class EndpointsTarget(RegionClientsTarget):
    """Global table on endpoints given per region; fault API and versions via the admin API.

    This base class has no fault API and no version metadata; `AdminEndpointsTarget`
    (below) adds both over an object with `fault(action, value)` / `versions(table,
    keys)`: an `AdminClient` over the state file's admin URL, or the embedded
    deployment's in-process API.
    """

    name = "endpoints"
    has_faults = False

    def __init__(self, endpoints: Mapping[str, str], *, mode: str = "async",
                 regions: Sequence[str] | None = None, witness: str | None = None,
                 admin_url: str | None = None, fault_api: Any = None):
        regions = tuple(regions) if regions else tuple(endpoints)
        missing = [r for r in regions if r not in endpoints]
        if missing:
            raise BadInput(f"no endpoint for region(s) {', '.join(missing)} "
                           f"(known: {', '.join(endpoints)})")
        check_topology(mode, regions, witness)
        self.endpoints = dict(endpoints)
        self.mode = mode
        self.regions = regions
        self.witness = witness
        self.admin_url = admin_url
        self._fault_api = fault_api
        self._clients = RegionClients(emulator_session(), self.endpoints)
        self._tables: set[str] = set()

    @classmethod
    def from_state_file(cls, path: str, *, mode: str | None = None,
                        regions: Sequence[str] | None = None,
                        witness: str | None = None) -> "EndpointsTarget":
        state = read_state_file(path)
        # The table's mode is chosen when the run provisions it (UpdateTable
        # MultiRegionConsistency), so the asked-for mode wins over the file's hint.
        kw = dict(mode=mode or state["mode"] or "async", regions=regions or None,
                  witness=witness or state["witness"], admin_url=state["admin"])
        if state["admin"]:
            admin = AdminClient(state["admin"], token=state["admin_token"])
            return AdminEndpointsTarget(state["regions"], fault_api=admin, **kw)
        return cls(state["regions"], **kw)

    def probe_before_run(self) -> None:
        """Every region answers: these endpoints run before the run does, so
        `suite.core.prepare` probes them before the run store is touched (issue 25)."""
        self._clients.probe(self.regions)

    def _provisioner(self) -> GlobalTableProvisioner:
        return GlobalTableProvisioner(self._control_client, self.mode, self.regions,
                                      self.witness)

    def create_table(self, test: Any, table: str) -> None:
        self._provisioner().create(table)
        self._tables.add(table)

    def delete_table(self, test: Any, table: str) -> None:
        if table not in self._tables:
            raise BadInput(f"refusing to delete table {table!r}: this target did not create it")
        self._provisioner().delete(table)
        self._tables.discard(table)

    def describe(self) -> dict:
        return {"target": self.name, "mode": self.mode, "regions": list(self.regions),
                "witness": self.witness, "endpoints": dict(self.endpoints),
                "admin": self.admin_url}


class AdminEndpointsTarget(EndpointsTarget):
    """An endpoints target whose emulator has an admin API: it also offers the fault API
    (`fault`) and item version metadata (`versions`), the optional capabilities a nemesis
    and the run pipeline look for. A target without an admin API simply lacks them.

    `fault_api` is the in-process `emulator.Deployment` or an `AdminClient` over HTTP;
    both have `fault(action, *args)` and `versions(table, key)`.
    """

    has_faults = True
    # The gtcheck emulator documents its 503 ServiceUnavailable as definite ("nothing was
    # proposed", docs/CONVENTIONS.md): clients may record it as `fail` (workloads/dynamo.py).
    definite_unavailable = True

    def __init__(self, endpoints: Mapping[str, str], *, fault_api: Any, **kw: Any):
        super().__init__(endpoints, fault_api=fault_api, **kw)

    def fault(self, action: str, value: Mapping[str, Any] | None = None) -> dict:
        return self._fault_api.fault(action, *fault_args(action, value))

    def table_keys(self, table: str) -> list[str]:
        """Every key any region holds (SC scans of each region, all regions at once: an
        SC scan waits for its region's read fence, a WAN round trip; not part of the
        history)."""
        from concurrent.futures import ThreadPoolExecutor
        # Clients and paginators made here, one at a time: a boto3 session is not
        # thread-safe, and each would load the same models again at once in parallel.
        paginators = {r: self._control_client(r).get_paginator("scan")
                      for r in self.regions}

        def region_keys(region: str) -> set[str]:
            return {item[KEY_ATTRIBUTE]["S"]
                    for page in paginators[region].paginate(
                        TableName=table, ConsistentRead=True, ProjectionExpression="#k",
                        ExpressionAttributeNames={"#k": KEY_ATTRIBUTE})
                    for item in page.get("Items", [])}
        with ThreadPoolExecutor(max_workers=len(self.regions)) as pool:
            return sorted(set().union(*pool.map(region_keys, self.regions)))

    def versions(self, table: str, keys: Sequence[str] | None = None) -> dict:
        """{region: {key: {"value", "timestamp", "origin"}}} for `keys` (default: every key
        any region holds); a region without the item has no entry for that key."""
        out: dict[str, dict] = {r: {} for r in self.regions}
        for key in (self.table_keys(table) if keys is None else keys):
            per_region = self._fault_api.versions(table, {KEY_ATTRIBUTE: {"S": key}})
            for region, v in per_region.items():
                if v is None or v.get("deleted"):
                    continue
                out.setdefault(region, {})[key] = {"value": item_value(v.get("item")),
                                                   "timestamp": v.get("timestamp"),
                                                   "origin": v.get("origin")}
        return out
