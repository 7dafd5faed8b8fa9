"""A whole emulated deployment: one DynamoDB endpoint per region, the admin (fault) API.

`Deployment` is the in-process way to run the emulator (the suite's `emulator` target and the
tests start it embedded; `gtcheck emulator serve` wraps it for the shell):

    with Deployment(regions=["us-east-1", "us-east-2", "us-west-2"], latency_scale=0.1) as d:
        ddb = boto3.client("dynamodb", endpoint_url=d.endpoints["us-east-1"], ...)
        d.cut("us-east-1", "us-east-2")
        ...

Fault actions are methods (isolate, cut, cut_oneway, delay, heal, pause_replication,
resume_replication, stop_region, start_region, skew_clock, status, versions) and the same
actions are served as JSON over HTTP on the admin port (`POST /fault {"action": ...}`,
`GET /status`, `POST /versions`), which `gtcheck emulator fault` calls. Every action checks
its arguments and raises `BadInput` (HTTP 400 with a message) on a bad one.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from emulator.bugs import Bugs, parse_bugs
from emulator.cluster import Cluster
from emulator.dataplane import RegionService
from emulator.errors import DynamoError
from emulator.front import front_handler
from emulator.server import HttpServer, dynamodb_handler
from emulator.streams import StreamsService
from gtcheck.errors import BadInput, SetupError

DEFAULT_REGIONS = ("us-east-1", "us-east-2", "us-west-2")
DEFAULT_STATE_FILE = ".gtcheck/emulator.json"
MODES = ("async", "strong")
FAULT_ACTIONS = ("isolate", "cut", "cut-oneway", "delay", "delay-oneway", "slow", "lag-copy",
                 "unlag-copy", "pause", "resume", "heal",
                 "pause-replication", "resume-replication", "stop", "start", "skew-clock",
                 "status")


class Deployment:
    """Regions + admin API of one emulator, started and stopped as a unit."""

    def __init__(self, regions: list[str] | tuple[str, ...] = DEFAULT_REGIONS, *,
                 mode: str = "async", witness: str | None = None,
                 latency_scale: float = 1.0, host: str = "127.0.0.1", port: int = 0,
                 admin_port: int | None = None, endpoint_port: int | None = None,
                 control_delay_ms: float = 0.0, state_file: str | os.PathLike | None = None,
                 seed: int = 0, copies: int = 3, copy_lag_ms: float | None = None,
                 replication_jitter_ms: float | None = None,
                 latency_ms: dict[tuple[str, str], float] | None = None,
                 control_plane_scale: float | None = None,
                 control_plane_limit: int | None = None,
                 iam_denied: Any = (),
                 bugs: Any = (),
                 index_lag_ms: float | None = None,
                 stream_empty_pages: float | None = None) -> None:
        regions = list(dict.fromkeys(regions))
        if not regions or not all(isinstance(r, str) and r for r in regions):
            raise BadInput("regions: give at least one region name")
        if mode not in MODES:
            raise BadInput(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if witness is not None:
            if mode != "strong":
                raise BadInput("a witness region is only used in strong (MRSC) mode")
            if witness in regions:
                raise BadInput(f"witness {witness} cannot also be a replica region")
        if not isinstance(latency_scale, (int, float)) or latency_scale < 0:
            raise BadInput("latency_scale must be a number >= 0")
        if not 0 <= port <= 65535 or (port and port + len(regions) > 65535):
            raise BadInput(f"port {port} out of range")
        if copies < 1 or copies > 9:
            raise BadInput("copies must be between 1 and 9")
        self.regions = regions
        self.mode = mode
        self.witness = witness
        self.latency_scale = float(latency_scale)
        self.host = host
        self.base_port = port
        self.admin_port = admin_port if admin_port is not None else (port + len(regions) if port else 0)
        # The all-regions endpoint (emulator/front.py): after the admin port, or a free one.
        self.endpoint_port = endpoint_port if endpoint_port is not None else (
            self.admin_port + 1 if self.admin_port else 0)
        if not isinstance(control_delay_ms, (int, float)) or not 0 <= control_delay_ms <= 600_000:
            raise BadInput("control_delay_ms must be between 0 and 600000")
        self.state_file = Path(state_file) if state_file else None
        settings: dict[str, Any] = {}
        if replication_jitter_ms is not None:
            settings["replication_jitter_ms"] = float(replication_jitter_ms)
        if index_lag_ms is not None:  # GSI propagation in a region (emulator/indexes.py)
            if not isinstance(index_lag_ms, (int, float)) or not 0 <= index_lag_ms <= 600_000:
                raise BadInput("index_lag_ms must be between 0 and 600000")
            settings["index_lag_ms"] = float(index_lag_ms)
            settings["index_jitter_ms"] = 0.0
        if stream_empty_pages is not None:  # GetRecords' empty pages (emulator/streams.py)
            if not isinstance(stream_empty_pages, (int, float)) or \
                    not 0 <= stream_empty_pages <= 1:
                raise BadInput("stream_empty_pages must be a rate between 0 and 1")
            settings["stream_empty_page_rate"] = float(stream_empty_pages)
        self.bugs = parse_bugs(bugs)  # emulator/bugs.py: switched-on mistakes, none by default
        # emulator/control_plane.py: AWS's slow, eventually consistent control plane, its
        # delays times `control_plane_scale` (None or 0: changes complete at once).
        self.control_plane = _control_plane(control_plane_scale, control_plane_limit, seed)
        self.cluster = Cluster(regions, witness=witness, latency_scale=latency_scale, seed=seed,
                               copies=copies, copy_lag_ms=copy_lag_ms, latency_ms=latency_ms,
                               engine_settings=settings,
                               control_delay_s=control_delay_ms / 1000.0,
                               control_plane=self.control_plane,
                               bugs=Bugs(self.bugs, seed))
        self._servers: dict[str, HttpServer] = {}
        self._handlers = {}
        for i, r in enumerate(regions):
            handler = dynamodb_handler(r, RegionService(self.cluster, r),
                                       StreamsService(self.cluster, r))
            self._handlers[r] = handler
            self._servers[r] = HttpServer(host, port + i if port else 0, handler, name=f"ddb-{r}")
        from emulator.admin import admin_handler  # late: admin imports this module's names
        # The admin API's secret (emulator/admin.py): from the OS, never from the run's
        # seed, which is no secret.
        self.admin_token = secrets.token_urlsafe(24)
        self._admin = HttpServer(host, self.admin_port, admin_handler(self), name="admin")
        # Other AWS services the single endpoint answers, by SigV4 signing name.
        self.services: dict[str, Any] = {}
        from emulator.fis import FisService
        self.fis = FisService(self.pause_replication, self.resume_replication,
                              lambda: list(self.regions), self.cluster.scheduler.call_later,
                              self.control_plane.seconds if self.control_plane else None)
        self.cluster.fis_pausing = self.fis.pausing
        self.services["fis"] = self.fis.handler()
        # `gtcheck aws preflight`'s calls: STS GetCallerIdentity, IAM SimulatePrincipalPolicy.
        from emulator.aws_identity import iam_handler, sts_handler
        self.services["sts"] = sts_handler()
        self.services["iam"] = iam_handler(iam_denied)
        self._front = HttpServer(host, self.endpoint_port,
                                 front_handler(self._handlers.get,
                                               lambda r: self._servers[r].running,
                                               self.services), name="all-regions")
        self._started = False

    # ---- life cycle ----------------------------------------------------------------
    def start(self) -> "Deployment":
        if self._started:
            return self
        try:
            for s in self._servers.values():
                s.start()
            self._admin.start()
            self._front.start()
        except OSError as e:
            self.stop()
            raise SetupError(f"cannot start the emulator on {self.host}: {e}") from e
        self._started = True
        if self.state_file is not None:
            self.write_state(self.state_file)
        return self

    def stop(self) -> None:
        admin = self.admin_url
        for ev in self.cluster.running.values():
            ev.set()  # no request thread stays frozen behind a `pause`
        for s in self._servers.values():
            s.stop()
        self._admin.stop()
        self._front.stop()
        self.cluster.close()
        self._started = False
        if self.state_file is not None and self.state_file.exists():
            try:  # remove our state file, never one another emulator wrote since
                if json.loads(self.state_file.read_text()).get("admin") == admin:
                    self.state_file.unlink()
            except (ValueError, OSError):
                pass  # unreadable or already gone: nothing of ours to remove

    def __enter__(self) -> "Deployment":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def endpoints(self) -> dict[str, str]:
        return {r: s.url for r, s in self._servers.items()}

    @property
    def admin_url(self) -> str:
        return self._admin.url

    @property
    def endpoint(self) -> str:
        """The one URL that serves every region (the region from each request's SigV4
        credential scope): what `AWS_ENDPOINT_URL` should be set to."""
        return self._front.url

    def state(self) -> dict:
        return {"mode": self.mode, "regions": self.endpoints, "endpoint": self.endpoint,
                "witness": self.witness, "admin": self.admin_url,
                "admin_token": self.admin_token, "latency_scale": self.latency_scale,
                "bugs": list(self.bugs),
                "control_plane_scale": self.control_plane.scale if self.control_plane else 0,
                "pid": os.getpid(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}

    def write_state(self, path: str | os.PathLike) -> None:
        """The state file: endpoints and the admin API's URL and token, readable by the
        user only (the token is what lets a client inject faults, emulator/admin.py)."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(p.suffix + ".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(self.state(), indent=2) + "\n")
        tmp.replace(p)

    # ---- faults --------------------------------------------------------------------
    def _region(self, region: Any, *, witness_ok: bool = True) -> str:
        known = self.regions + ([self.witness] if (self.witness and witness_ok) else [])
        if region not in known:
            raise BadInput(f"unknown region {region!r}; regions: {', '.join(known)}")
        return region

    def _pair(self, a: Any, b: Any) -> tuple[str, str]:
        a, b = self._region(a), self._region(b)
        if a == b:
            raise BadInput("a link joins two different regions")
        return a, b

    def isolate(self, region: str) -> dict:
        self.cluster.wan.isolate(self._region(region))
        return self.status()

    def cut(self, a: str, b: str) -> dict:
        self.cluster.wan.cut(*self._pair(a, b), both=True)
        return self.status()

    def cut_oneway(self, a: str, b: str) -> dict:
        self.cluster.wan.cut(*self._pair(a, b), both=False)
        return self.status()

    def delay(self, a: str, b: str, ms: float) -> dict:
        a, b = self._pair(a, b)
        ms = _number(ms, "ms")
        if not 0 <= ms <= 600_000:
            raise BadInput("delay ms must be between 0 and 600000")
        self.cluster.wan.delay(a, b, ms, both=True)
        return self.status()

    def delay_oneway(self, a: str, b: str, ms: float) -> dict:
        """Add `ms` of delay to the direction a -> b only (b -> a keeps its latency): the
        asymmetric paths some mistakes need (issue 21); `heal` lifts it."""
        a, b = self._pair(a, b)
        ms = _number(ms, "ms")
        if not 0 <= ms <= 600_000:
            raise BadInput("delay ms must be between 0 and 600000")
        self.cluster.wan.delay(a, b, ms, both=False)
        return self.status()

    def slow(self, region: str, ms: float) -> dict:
        """Add `ms` of one-way delay to every link into and out of `region` (a slow
        region, or a slow MRSC journal leader); `heal` lifts it."""
        region = self._region(region)
        ms = _number(ms, "ms")
        if not 0 <= ms <= 600_000:
            raise BadInput("slow ms must be between 0 and 600000")
        for other in self.cluster.wan.regions:
            if other != region:
                self.cluster.wan.delay(region, other, ms, both=True)
        return self.status()

    def lag_copy(self, *args: Any) -> dict:
        """`lag-copy [R] MS`: make the lagging in-region copy of every table in `R` (in
        every replica region without one) trail its leader by `MS` more (a slow storage
        node or AZ, G2): EC reads there stay stale longer, SC reads (the leader) are
        unchanged; `unlag-copy` or `heal` lifts it."""
        *where, ms = args
        regions = [self._region(where[0], witness_ok=False)] if where else list(self.regions)
        ms = _number(ms, "ms")
        if not 0 <= ms <= 600_000:
            raise BadInput("lag-copy ms must be between 0 and 600000")
        for region in regions:
            self.cluster.copy_lag_extra_s[region] = ms / 1000.0
        return self.status()

    def unlag_copy(self, region: str | None = None) -> dict:
        """End the `lag-copy` fault of `region` (of every region without one); what
        was written meanwhile still reaches the lagging copy at its old lag."""
        if region is None:
            self.cluster.copy_lag_extra_s.clear()
        else:
            self.cluster.copy_lag_extra_s.pop(self._region(region), None)
        return self.status()

    def pause_region(self, region: str) -> dict:
        """Freeze `region` as SIGSTOP would: its endpoint accepts requests but answers
        none, its replicators and (MRSC) journal participant stand still, messages to it
        wait; `resume R` or `heal` lets everything continue where it stopped."""
        region = self._region(region)
        self.cluster.pause.frozen.add(region)
        if region in self.cluster.running:
            self.cluster.running[region].clear()
        self.cluster.faults_changed()
        return self.status()

    def resume_region(self, region: str | None = None) -> dict:
        """End the `pause` of `region` (every paused region without one)."""
        regions = [self._region(region)] if region is not None else list(self.cluster.pause.frozen)
        for r in regions:
            self.cluster.pause.frozen.discard(r)
            if r in self.cluster.running:
                self.cluster.running[r].set()
        self.cluster.faults_changed()
        return self.status()

    def pause_replication(self, region: str | None = None) -> dict:
        if region is None:
            self.cluster.pause.all = True
        else:
            self.cluster.pause.regions.add(self._region(region))
        self.cluster.faults_changed()
        return self.status()

    def resume_replication(self, region: str | None = None) -> dict:
        if region is None:
            self.cluster.pause.all = False
            self.cluster.pause.regions.clear()
        else:
            self.cluster.pause.regions.discard(self._region(region))
        self.cluster.faults_changed()
        return self.status()

    def stop_region(self, region: str) -> dict:
        region = self._region(region)
        if region in self._servers:
            self._servers[region].stop()
        self.cluster.wan.stop_region(region)
        return self.status()

    def start_region(self, region: str) -> dict:
        region = self._region(region)
        if region in self._servers and self._started:
            try:
                self._servers[region].start()
            except OSError as e:
                raise SetupError(f"cannot restart {region} on its port: {e}") from e
        self.cluster.wan.start_region(region)
        return self.status()

    def skew_clock(self, region: str, ms: float) -> dict:
        region = self._region(region)
        ms = _number(ms, "ms")
        if abs(ms) > 86_400_000:
            raise BadInput("clock skew must be within one day (86400000 ms)")
        self.cluster.clocks[region].skew(ms)
        self.cluster.faults_changed()
        return self.status()

    def heal(self) -> dict:
        """End every fault: links, isolation, pauses, stopped regions, clock skew, copy lag."""
        for r in self.regions + ([self.witness] if self.witness else []):
            self.cluster.clocks[r].skew(0)
            if not self.cluster.wan.region_up(r):
                self.start_region(r)
        self.cluster.pause.all = False
        self.cluster.pause.regions.clear()
        self.cluster.pause.frozen.clear()
        self.cluster.copy_lag_extra_s.clear()
        for ev in self.cluster.running.values():
            ev.set()
        self.cluster.wan.heal()  # notifies engines
        return self.status()

    def status(self) -> dict:
        wan = self.cluster.wan.status()
        pause = self.cluster.pause
        return {
            "mode": self.mode, "regions": self.endpoints, "witness": self.witness,
            "admin": self.admin_url if self._started else None,
            "wan": wan,
            "replication_paused": "all" if pause.all else sorted(pause.regions),
            "paused": sorted(pause.frozen),
            "clock_skew_ms": {r: c.skew_us / 1000 for r, c in self.cluster.clocks.items() if c.skew_us},
            "copy_lag_ms": {r: s * 1000 for r, s in self.cluster.copy_lag_extra_s.items() if s},
            "tables": {t.name: {"mode": t.mode, "replicas": sorted(t.replicas),
                                "witness": t.witness, "engine": t.engine.status()}
                       for t in self.cluster.tables_everywhere()},
        }

    def fault(self, action: str, *args: Any) -> dict:
        """Run one fault action by its CLI name (`cut-oneway`, `skew-clock`, ...)."""
        table = {
            "isolate": (self.isolate, 1, 1), "cut": (self.cut, 2, 2),
            "cut-oneway": (self.cut_oneway, 2, 2), "delay": (self.delay, 3, 3),
            "delay-oneway": (self.delay_oneway, 3, 3),
            "slow": (self.slow, 2, 2), "lag-copy": (self.lag_copy, 1, 2),
            "unlag-copy": (self.unlag_copy, 0, 1),
            "pause": (self.pause_region, 1, 1),
            "resume": (self.resume_region, 0, 1),
            "heal": (self.heal, 0, 0), "pause-replication": (self.pause_replication, 0, 1),
            "resume-replication": (self.resume_replication, 0, 1),
            "stop": (self.stop_region, 1, 1), "start": (self.start_region, 1, 1),
            "skew-clock": (self.skew_clock, 2, 2), "status": (self.status, 0, 0),
        }
        if action not in table:
            raise BadInput(f"unknown fault action {action!r}; actions: {', '.join(FAULT_ACTIONS)}")
        fn, lo, hi = table[action]
        if not lo <= len(args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise BadInput(f"{action} takes {want} argument(s), got {len(args)}")
        return fn(*args)

    # ---- metadata ------------------------------------------------------------------
    def versions(self, table: str, key: dict) -> dict:
        """Per region: the item's value, LWW timestamp and origin (checkers' metadata)."""
        try:
            return self.cluster.item_versions(table, key)
        except DynamoError as e:
            raise BadInput(e.message) from None

    def version_map(self, table: str, keys: list[str] | None = None, *, key_attr: str = "pk",
                    value_attr: str = "v") -> dict[str, dict[str, dict]]:
        """`opts["versions"]` for checkers (docs/CONVENTIONS.md): {region: {key: {"value",
        "timestamp", "origin"}}} for string hash keys `keys` (default: every key of the table in
        any region); "value" is the plain value of `value_attr` (None when deleted/absent)."""
        t = next((x for x in self.cluster.tables_everywhere() if x.name == table), None)
        if t is None:
            raise BadInput(f"no table {table!r} in this emulator")
        if keys is None:
            found = set()
            for rep in t.replicas.values():
                with rep.lock:
                    for v in rep.leader.values():
                        if v.item is not None and "S" in v.item.get(key_attr, {}):
                            found.add(v.item[key_attr]["S"])
            keys = sorted(found)
        out: dict[str, dict[str, dict]] = {r: {} for r in sorted(t.replicas)}
        for k in keys:
            for r, v in self.versions(table, {key_attr: {"S": k}}).items():
                if v is None:
                    continue
                item = v["item"]
                out[r][k] = {"value": None if item is None else _plain(item.get(value_attr)),
                             "timestamp": v["timestamp"], "origin": v["origin"]}
        return out

    def quiesce(self, timeout_s: float = 30.0) -> bool:
        """Wait until no replication is pending (every live path drained). True if drained."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            busy = False
            for t in self.cluster.tables_everywhere():
                for rep in t.engine.status().get("replicators", []):
                    if rep["backlog"] and rep["live"]:
                        busy = True
            if not busy:
                return True
            time.sleep(0.005)
        return False


def _control_plane(scale: Any, limit: Any, seed: int) -> Any:
    """The AWS-like control plane for `scale` (> 0), or None for instant changes."""
    from emulator.control_plane import DEFAULT_CONCURRENT_OPS, ControlPlane
    if scale is None or scale == 0:
        if limit is not None:
            raise BadInput("control_plane_limit needs the AWS-like control plane "
                           "(control_plane_scale > 0)")
        return None
    scale = _number(scale, "control_plane_scale")
    if not 0 < scale <= 100:
        raise BadInput("control_plane_scale must be between 0 and 100")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise BadInput("control_plane_limit must be an integer >= 1")
    return ControlPlane(scale=scale, seed=seed,
                        max_concurrent_ops=limit or DEFAULT_CONCURRENT_OPS)


def _plain(av: dict | None) -> Any:
    """A DynamoDB JSON value as plain JSON (numbers as int when integral, else str)."""
    if av is None:
        return None
    (t, v), = av.items()
    if t == "N":
        return int(v) if v.lstrip("-").isdigit() else v
    if t in ("S", "B", "BOOL"):
        return v
    if t == "NULL":
        return None
    if t == "L":
        return [_plain(x) for x in v]
    if t == "M":
        return {k: _plain(x) for k, x in v.items()}
    if t == "NS":
        return sorted(int(x) if x.lstrip("-").isdigit() else x for x in v)
    return sorted(v)


def _number(x: Any, name: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise BadInput(f"{name} must be a number, not {x!r}") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise BadInput(f"{name} must be a finite number")
    return v
