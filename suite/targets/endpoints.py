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

import boto3
from botocore.config import Config

from suite.errors import BadInput, SetupError
from suite.targets.base import (CONTROL_PLANE_CONFIG, PROBE_CONFIG,
                                GlobalTableProvisioner, check_topology)

# Endpoints of an emulator are not AWS: any credentials work, so we never look for real ones.
EMULATOR_CREDENTIALS = {"aws_access_key_id": "gtcheck", "aws_secret_access_key": "gtcheck"}


def read_state_file(path: str | os.PathLike) -> dict:
    """Parse an emulator state file into {mode, regions: {name: url}, witness, admin}.

    Accepted shapes: `{"regions": {"us-east-1": "http://...", ...}, "admin": "http://..."}`
    or `{"regions": {"us-east-1": {"endpoint": "http://..."}}, "admin": {"url": ...}}`,
    plus optional `mode` and `witness`. Anything else is BadInput naming the file.
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
    if isinstance(admin, Mapping):
        admin = admin.get("url") or admin.get("endpoint")
    if admin is not None and not isinstance(admin, str):
        raise BadInput(f"{path}: \"admin\" must be a URL, got {admin!r}")
    witness = doc.get("witness")
    mode = doc.get("mode")
    if mode is not None and mode not in ("async", "strong"):
        raise BadInput(f"{path}: unknown mode {mode!r}")
    return {"mode": mode, "regions": regions, "witness": witness,
            "admin": admin.rstrip("/") if admin else None}


class AdminClient:
    """HTTP client of the emulator's admin API (faults, status, item version metadata).

    Requests are JSON POSTs to `<admin>/fault` with `{"action", ...value}` and to
    `<admin>/versions` with `{"table", "keys"}`; answers are JSON. A non-2xx answer raises
    SetupError with the server's message, so a nemesis records the fault as failed.
    """

    def __init__(self, url: str, *, timeout_s: float = 10.0):
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def _post(self, path: str, body: Mapping[str, Any]) -> dict:
        data = json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                text = resp.read().decode() or "{}"
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")[:500]
            raise SetupError(f"admin API {path} answered {e.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as e:
            raise SetupError(f"admin API {self.url}{path} unreachable: {e}") from None
        return json.loads(text)

    def fault(self, action: str, value: Mapping[str, Any] | None = None) -> dict:
        return self._post("/fault", {"action": action, **(value or {})})

    def versions(self, table: str, keys: Sequence[str] | None = None) -> dict:
        body: dict[str, Any] = {"table": table}
        if keys is not None:
            body["keys"] = list(keys)
        return self._post("/versions", body)


class EndpointsTarget:
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
        self._session = boto3.session.Session(**EMULATOR_CREDENTIALS)
        self._lock = threading.Lock()  # boto3 sessions are not thread-safe for client creation
        self._control: dict[str, Any] = {}
        self._tables: set[str] = set()

    @classmethod
    def from_state_file(cls, path: str, *, mode: str | None = None,
                        regions: Sequence[str] | None = None,
                        witness: str | None = None) -> "EndpointsTarget":
        state = read_state_file(path)
        file_mode = state["mode"]
        if mode and file_mode and mode != file_mode:
            raise BadInput(f"{path} describes a {file_mode} deployment, but --mode {mode} "
                           "was asked for")
        kw = dict(mode=mode or file_mode or "async", regions=regions or None,
                  witness=witness or state["witness"], admin_url=state["admin"])
        if state["admin"]:
            return AdminEndpointsTarget(state["regions"], fault_api=AdminClient(state["admin"]),
                                        **kw)
        return cls(state["regions"], **kw)

    # --- Target protocol ---------------------------------------------------------------
    def setup(self, test: Any = None) -> None:
        """Nothing to start; check every endpoint answers, so set-up fails early and clearly."""
        for r in self.regions:
            try:
                self.client(r, config=PROBE_CONFIG).list_tables(Limit=1)
            except Exception as e:  # noqa: BLE001 -- reported as a set-up failure
                raise SetupError(f"region {r} at {self.endpoints[r]} does not answer: {e}") from None

    def teardown(self, test: Any = None) -> None:
        self._control.clear()

    def client(self, region: str, *, config: Config | None = None) -> Any:
        if region not in self.endpoints:
            raise BadInput(f"no endpoint for region {region!r}")
        with self._lock:
            return self._session.client("dynamodb", endpoint_url=self.endpoints[region],
                                        region_name=region, config=config)

    def _control_client(self, region: str) -> Any:
        c = self._control.get(region)
        if c is None:
            c = self._control[region] = self.client(region, config=CONTROL_PLANE_CONFIG)
        return c

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
    and the run pipeline look for. A target without an admin API simply lacks them."""

    has_faults = True

    def __init__(self, endpoints: Mapping[str, str], *, fault_api: Any, **kw: Any):
        super().__init__(endpoints, fault_api=fault_api, **kw)

    def fault(self, action: str, value: Mapping[str, Any] | None = None) -> dict:
        return self._fault_api.fault(action, value)

    def versions(self, table: str, keys: Sequence[str] | None = None) -> dict:
        return self._fault_api.versions(table, keys)
