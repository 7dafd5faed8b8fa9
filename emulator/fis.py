"""AWS Fault Injection Service, the part gtcheck uses, on the emulator's all-regions endpoint.

The one action DynamoDB global tables have in FIS is `aws:dynamodb:global-table-pause-
replication` (SEMANTICS.md, "FIS action"): target type `aws:dynamodb:global-table` under
the action's target key `Tables`, one parameter `duration` (ISO-8601, e.g. PT5M). This
module serves the calls that run it -- CreateExperimentTemplate, StartExperiment,
GetExperiment, StopExperiment, DeleteExperimentTemplate, plus ListExperiments -- in FIS's
REST-JSON protocol (`POST /experimentTemplates`, `POST /experiments`, `GET|DELETE
/experiments/{id}`, `DELETE /experimentTemplates/{id}`), so gtcheck's FIS nemesis runs its
real boto3 calls against the emulator.

Semantics: starting the experiment pauses replication into and out of each target table's
region (the ARN's region; the emulator's pause is per region, A13), which on an async table
holds replicated writes back until the pause ends and on an MRSC table makes writes and SC
reads fail in that region while EC reads stay allowed. The pause ends when `duration` runs
out (status `completed`) or at StopExperiment (status `stopped`); replication then catches
up. AWS allows replication to continue for up to 5 minutes after the action starts; the
emulator pauses at once, the strictest case that promise allows. Requests are validated as
FIS validates them (unknown action, wrong target type or key, missing role, bad duration:
ValidationException; unknown id: ResourceNotFoundException, 404).

With the AWS-like control plane (emulator/control_plane.py) an experiment moves through
FIS's states with seeded delays, as the FIS API reference lists them (ExperimentState):
`pending`, then `initiating`, then `running` (only now does the pause take hold), then
`completed`; StopExperiment makes it `stopping`, then `stopped` (the pause, if it had
started, ends then). Without it every step is immediate.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from typing import Any, Callable

PAUSE_ACTION = "aws:dynamodb:global-table-pause-replication"
TARGET_TYPE = "aws:dynamodb:global-table"
TARGET_KEY = "Tables"
ACCOUNT = "000000000000"
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")
DURATION_S_MAX = 12 * 3600  # FIS caps an action at 12 hours


class FisError(Exception):
    def __init__(self, name: str, message: str, status: int = 400):
        super().__init__(message)
        self.name, self.message, self.status = name, message, status


def parse_duration(text: Any) -> float:
    """ISO-8601 duration PT#H#M#S -> seconds; FisError otherwise."""
    m = _DURATION.match(text) if isinstance(text, str) else None
    if not m or not any(m.groups()):
        raise FisError("ValidationException", f"Invalid duration {text!r}: expected ISO-8601 "
                       "such as PT5M")
    h, mi, s = m.groups()
    seconds = int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)
    if not 0 < seconds <= DURATION_S_MAX:
        raise FisError("ValidationException", f"duration {text} out of range (up to PT12H)")
    return seconds


class FisService:
    """Templates and experiments; `pause(region)` / `resume(region)` act on the emulator."""

    def __init__(self, pause: Callable[[str], Any], resume: Callable[[str], Any],
                 regions: Callable[[], list[str]], call_later: Callable[[float, Callable], Any],
                 delay_s: Callable[[str], float] | None = None):
        self._pause, self._resume, self._regions = pause, resume, regions
        self._call_later = call_later
        # kind ("fis_pending", "fis_initiating", "fis_stopping") -> seconds; None: at once
        self._delay_s = delay_s
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self.templates: dict[str, dict] = {}
        self.experiments: dict[str, dict] = {}
        self._paused_by: dict[str, set[str]] = {}  # region -> running experiment ids

    # ---- templates -------------------------------------------------------------------
    def create_template(self, region: str, req: dict) -> dict:
        if not isinstance(req.get("roleArn"), str) or not req["roleArn"].startswith("arn:"):
            raise FisError("ValidationException", "roleArn is required (the IAM role FIS assumes)")
        stops = req.get("stopConditions")
        if not isinstance(stops, list) or not stops:
            raise FisError("ValidationException", "stopConditions is required")
        targets, actions = req.get("targets") or {}, req.get("actions") or {}
        if not isinstance(targets, dict) or not isinstance(actions, dict) or not actions:
            raise FisError("ValidationException", "an experiment template needs actions")
        for tname, t in targets.items():
            if not isinstance(t, dict) or t.get("resourceType") != TARGET_TYPE:
                raise FisError("ValidationException", f"target {tname}: resourceType "
                               f"{t.get('resourceType') if isinstance(t, dict) else t!r} is not "
                               f"supported here (expected {TARGET_TYPE})")
            arns = t.get("resourceArns")
            if not isinstance(arns, list) or not arns or not all(
                    isinstance(a, str) and a.startswith("arn:aws:dynamodb:") for a in arns):
                raise FisError("ValidationException", f"target {tname}: resourceArns must name "
                               "DynamoDB global tables")
            if not isinstance(t.get("selectionMode"), str):
                raise FisError("ValidationException", f"target {tname}: selectionMode is required")
        for aname, a in actions.items():
            if not isinstance(a, dict) or a.get("actionId") != PAUSE_ACTION:
                raise FisError("ValidationException", f"action {aname}: only {PAUSE_ACTION} is "
                               "served by the gtcheck emulator")
            refs = a.get("targets") or {}
            if set(refs) != {TARGET_KEY} or refs[TARGET_KEY] not in targets:
                raise FisError("ValidationException", f"action {aname}: {PAUSE_ACTION} takes "
                               f"exactly one target, under the key {TARGET_KEY}")
            parse_duration((a.get("parameters") or {}).get("duration"))
        with self._lock:
            tid = f"EXT{next(self._ids):014d}"
            template = {"id": tid, "arn": f"arn:aws:fis:{region}:{ACCOUNT}:experiment-template/{tid}",
                        "description": req.get("description", ""), "targets": targets,
                        "actions": actions, "stopConditions": stops, "roleArn": req["roleArn"],
                        "tags": req.get("tags") or {}, "creationTime": time.time(),
                        "lastUpdateTime": time.time()}
            self.templates[tid] = template
        return {"experimentTemplate": template}

    def delete_template(self, tid: str) -> dict:
        with self._lock:
            t = self.templates.pop(tid, None)
        if t is None:
            raise FisError("ResourceNotFoundException", f"Experiment template {tid} not found",
                           404)
        return {"experimentTemplate": t}

    # ---- experiments -----------------------------------------------------------------
    def start(self, region: str, req: dict) -> dict:
        tid = req.get("experimentTemplateId")
        with self._lock:
            t = self.templates.get(tid)
            if t is None:
                raise FisError("ResourceNotFoundException",
                               f"Experiment template {tid} not found", 404)
            eid = f"EXP{next(self._ids):014d}"
            durations, regions = [], set()
            for a in t["actions"].values():
                durations.append(parse_duration(a["parameters"]["duration"]))
                for arn in t["targets"][a["targets"][TARGET_KEY]]["resourceArns"]:
                    regions.add(arn.split(":")[3])
            unknown = sorted(r for r in regions if r not in self._regions())
            if unknown:
                raise FisError("ValidationException",
                               f"target tables in {', '.join(unknown)}: no such replica here")
            now = time.time()
            exp = {"id": eid, "arn": f"arn:aws:fis:{region}:{ACCOUNT}:experiment/{eid}",
                   "experimentTemplateId": tid, "roleArn": t["roleArn"],
                   "state": {"status": "pending", "reason": "Experiment is pending."},
                   "targets": t["targets"],
                   "actions": {n: {**a, "state": {"status": "pending", "reason": ""}}
                               for n, a in t["actions"].items()},
                   "stopConditions": t["stopConditions"], "creationTime": now,
                   "startTime": now, "tags": req.get("tags") or {}}
            self.experiments[eid] = exp
            exp["_regions"] = sorted(regions)
            exp["_duration_s"] = max(durations)
            out = _public(exp)
        if self._delay_s is None:
            self._run(eid)
            return self.get(eid)
        pending = self._delay_s("fis_pending")
        initiating = self._delay_s("fis_initiating")
        self._call_later(pending, lambda: self._step(eid, "pending", "initiating",
                                                     "Experiment is initiating."))
        self._call_later(pending + initiating, lambda: self._run(eid))
        return {"experiment": out}

    def _step(self, eid: str, was: str, status: str, reason: str) -> None:
        with self._lock:
            exp = self.experiments.get(eid)
            if exp is not None and exp["state"]["status"] == was:
                exp["state"] = {"status": status, "reason": reason}
                for a in exp["actions"].values():
                    a["state"] = {"status": status, "reason": ""}

    def _run(self, eid: str) -> None:
        """The experiment reaches `running`: the pause takes hold until `duration` ends."""
        with self._lock:
            exp = self.experiments.get(eid)
            if exp is None or exp["state"]["status"] not in ("pending", "initiating"):
                return  # stopped before it started: nothing was ever paused
            now = time.time()
            exp["state"] = {"status": "running", "reason": "Experiment is running."}
            for a in exp["actions"].values():
                a["state"] = {"status": "running", "reason": ""}
                a["startTime"] = now
            exp["_paused"] = True
            for r in exp["_regions"]:
                self._paused_by.setdefault(r, set()).add(eid)
                self._pause(r)
        self._call_later(exp["_duration_s"], lambda: self._finish(
            eid, "completed", "Experiment completed."))

    def pausing(self, region: str) -> bool:
        """True while a running experiment pauses replication in `region`."""
        with self._lock:
            return bool(self._paused_by.get(region))

    def get(self, eid: str) -> dict:
        with self._lock:
            exp = self.experiments.get(eid)
            if exp is None:
                raise FisError("ResourceNotFoundException", f"Experiment {eid} not found", 404)
            return {"experiment": _public(exp)}

    def list(self) -> dict:
        with self._lock:
            return {"experiments": [{k: _public(e)[k] for k in
                                     ("id", "arn", "experimentTemplateId", "state",
                                      "creationTime", "tags")}
                                    for e in self.experiments.values()]}

    def stop(self, eid: str) -> dict:
        with self._lock:
            exp = self.experiments.get(eid)
            if exp is None:
                raise FisError("ResourceNotFoundException", f"Experiment {eid} not found", 404)
            if exp["state"]["status"] not in ("pending", "initiating", "running"):
                return self.get(eid)
            if self._delay_s is not None:
                exp["state"] = {"status": "stopping", "reason": "Experiment is stopping."}
        if self._delay_s is None:
            self._finish(eid, "stopped", "Experiment stopped by the user.")
        else:
            self._call_later(self._delay_s("fis_stopping"), lambda: self._finish(
                eid, "stopped", "Experiment stopped by the user."))
        return self.get(eid)

    def _finish(self, eid: str, status: str, reason: str) -> None:
        with self._lock:
            exp = self.experiments.get(eid)
            if exp is None or exp["state"]["status"] in ("completed", "stopped", "failed",
                                                         "cancelled"):
                return
            if status == "completed" and exp["state"]["status"] == "stopping":
                status, reason = "stopped", "Experiment stopped by the user."
            exp["state"] = {"status": status, "reason": reason}
            exp["endTime"] = time.time()
            for a in exp["actions"].values():
                a["state"] = {"status": status, "reason": ""}
                a["endTime"] = exp["endTime"]
            for r in exp["_regions"] if exp.get("_paused") else ():
                holders = self._paused_by.get(r, set())
                holders.discard(eid)
                if not holders:  # the last experiment pausing r ends: replication resumes
                    self._resume(r)

    # ---- REST-JSON -------------------------------------------------------------------
    def handler(self):
        def handle(method: str, path: str, headers: dict, body: bytes):
            region = headers.get("x-gtcheck-region", "us-east-1")
            route = path.split("?", 1)[0].rstrip("/")
            try:
                try:
                    req = json.loads(body) if body else {}
                except ValueError:
                    raise FisError("ValidationException", "the body is not valid JSON") from None
                if method == "POST" and route == "/experimentTemplates":
                    out = self.create_template(region, req)
                elif method == "DELETE" and route.startswith("/experimentTemplates/"):
                    out = self.delete_template(route.rsplit("/", 1)[1])
                elif method == "POST" and route == "/experiments":
                    out = self.start(region, req)
                elif method == "GET" and route == "/experiments":
                    out = self.list()
                elif method == "GET" and route.startswith("/experiments/"):
                    out = self.get(route.rsplit("/", 1)[1])
                elif method == "DELETE" and route.startswith("/experiments/"):
                    out = self.stop(route.rsplit("/", 1)[1])
                else:
                    raise FisError("ValidationException",
                                   f"{method} {route} is not served by the gtcheck emulator")
                return 200, ["Content-Type: application/json"], json.dumps(out).encode()
            except FisError as e:
                return e.status, ["Content-Type: application/json",
                                  f"x-amzn-ErrorType: {e.name}"], json.dumps(
                    {"message": e.message}).encode()

        return handle


def _public(exp: dict) -> dict:
    return {k: v for k, v in exp.items() if not k.startswith("_")}
