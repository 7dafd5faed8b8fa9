"""FIS pause-replication on a real (or emulated) global table: the aws target's fault API.

`fis-pause-replication` (`{"region": R}`) pauses replication into and out of the replica
in R the way AWS offers it (SEMANTICS.md, "FIS action"): CreateExperimentTemplate with one
action `aws:dynamodb:global-table-pause-replication` whose target key `Tables` names one
target of type `aws:dynamodb:global-table` (the replica's table ARN) and whose parameter
`duration` bounds the pause (so a run that dies cannot leave it paused past that), then
StartExperiment, then GetExperiment until it is `running`. `fis-resume-replication`
(`{"region": R}`) and `heal` stop the experiments (StopExperiment, then GetExperiment
until `stopped` or `completed`) and delete their templates (DeleteExperimentTemplate).
FIS needs an IAM role to assume (`--fis-role-arn`); docs/aws.md gives its policy.

Outcomes: a refusal (ValidationException and friends, or an experiment that ends
`failed` or `cancelled` before running) raises BadInput, which the nemesis records as
`fail` (the fault is not in force). A pause whose start is unknown -- StartExperiment's
answer lost, or an experiment still `pending` / `initiating` after `start_wait_s` (it is
then stopped with StopExperiment, and the stop recorded) -- raises FaultStartUnknown,
recorded as `info`: the fault is judged possibly in force. `stop_all` (heal, and the
target's teardown on every way out) stops every experiment this object started,
including one whose id a lost answer never told (found by its template in
ListExperiments), and deletes the templates.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable, Mapping, Sequence

from botocore.exceptions import ClientError

from suite.errors import BadInput, GtcheckError

PAUSE_ACTION = "aws:dynamodb:global-table-pause-replication"
TARGET_TYPE = "aws:dynamodb:global-table"
DEFAULT_DURATION = "PT10M"
STATE_WAIT_S = 120.0
ENDED = ("completed", "stopped", "failed", "cancelled")
# On every template and experiment: docs/aws.md's FIS statements are scoped by this tag.
EXPERIMENT_TAGS = {"gtcheck": "pause-replication"}


class FaultStartUnknown(GtcheckError):
    """The pause may or may not have taken hold (recorded as `info`)."""


class FisPauseReplication:
    """Runs FIS experiments for `fis-pause-replication`; one per paused region."""

    def __init__(self, fis_client: Callable[[str], Any], control_client: Callable[[str], Any],
                 role_arn: str, *, say: Callable[[str], None] = lambda line: None,
                 duration: str = DEFAULT_DURATION, poll_s: float = 0.2,
                 start_wait_s: float = STATE_WAIT_S):
        self.fis_client = fis_client
        self.control_client = control_client
        self.role_arn = role_arn
        self.say = say
        self.duration = duration
        self.poll_s = poll_s
        self.start_wait_s = start_wait_s
        self.running: dict[str, tuple[str, str]] = {}  # region -> (experiment, template)
        # Everything this object created, until stopped and deleted: template -> region
        # (the FIS client's), experiment -> (region, template).
        self.templates: dict[str, str] = {}
        self.experiments: dict[str, tuple[str, str]] = {}

    def fault(self, action: str, value: Mapping[str, Any] | None, *,
              tables: Sequence[str]) -> dict:
        value = dict(value or {})
        if action == "heal":
            self.stop_all()
            return {"paused": []}
        region = value.get("region")
        if not isinstance(region, str):
            raise BadInput(f"{action} needs {{\"region\": R}}, got {value!r}")
        if action == "fis-pause-replication":
            if not tables:
                raise BadInput("no table to pause replication of")
            self.pause(region, tables[0])
        elif action == "fis-resume-replication":
            self.resume(region)
        else:
            raise BadInput(f"the aws target's fault API offers fis-pause-replication, "
                           f"fis-resume-replication and heal, not {action!r}")
        return {"paused": sorted(self.running)}

    def template_request(self, table_arn: str) -> dict:
        """CreateExperimentTemplate's arguments for pausing one replica (module docstring)."""
        return {
            "clientToken": str(uuid.uuid4()),
            "description": "gtcheck: pause replication of one replica",
            "stopConditions": [{"source": "none"}],
            "targets": {"Replica": {"resourceType": TARGET_TYPE, "resourceArns": [table_arn],
                                    "selectionMode": "ALL"}},
            "actions": {"PauseReplication": {"actionId": PAUSE_ACTION,
                                             "parameters": {"duration": self.duration},
                                             "targets": {"Tables": "Replica"}}},
            "roleArn": self.role_arn,
            "tags": dict(EXPERIMENT_TAGS),
        }

    def pause(self, region: str, table: str) -> None:
        if region in self.running:
            return
        arn = self.control_client(region).describe_table(TableName=table)["Table"]["TableArn"]
        fis = self.fis_client(region)
        try:
            template = fis.create_experiment_template(**self.template_request(arn))
            tid = template["experimentTemplate"]["id"]
        except ClientError as e:
            raise BadInput(f"FIS refused the experiment template: {_message(e)}") from None
        self.templates[tid] = region
        token = str(uuid.uuid4())
        try:
            exp = fis.start_experiment(clientToken=token, experimentTemplateId=tid,
                                       tags=EXPERIMENT_TAGS)
        except ClientError as e:
            self._delete_template(fis, tid)
            raise BadInput(f"FIS refused to start the experiment: {_message(e)}") from None
        except Exception as first:  # noqa: BLE001 -- the answer was lost: ask again
            try:  # the same client token: FIS answers with the experiment it started
                exp = fis.start_experiment(clientToken=token, experimentTemplateId=tid,
                                           tags=EXPERIMENT_TAGS)
            except Exception:  # noqa: BLE001 -- stop_all finds it by its template
                raise FaultStartUnknown(f"StartExperiment's answer was lost ({first}); "
                                        "the pause may be in force until heal") from None
        eid = exp["experiment"]["id"]
        self.experiments[eid] = (region, tid)
        self.running[region] = (eid, tid)
        status = self._wait(fis, eid, ("running", *ENDED), self.start_wait_s)
        if status == "running":
            self.say(f"FIS experiment {eid} pauses replication of {table} in {region}")
            return
        self.running.pop(region, None)
        if status in ("pending", "initiating"):  # not started in time: stop it, say so
            self._stop(fis, eid)
            self._delete_template(fis, tid)
            self.say(f"FIS experiment {eid} did not start within {self.start_wait_s:g}s "
                     f"({status}); stopped it")
            raise FaultStartUnknown(f"FIS experiment {eid} still {status} after "
                                    f"{self.start_wait_s:g}s; stopped (StopExperiment)")
        self._delete_template(fis, tid)
        self.experiments.pop(eid, None)
        if status in ("failed", "cancelled"):  # it never ran
            raise BadInput(f"FIS experiment {eid} ended {status} instead of running")
        raise FaultStartUnknown(f"FIS experiment {eid} ended {status} before it was seen "
                                "running")

    def resume(self, region: str) -> None:
        entry = self.running.get(region)
        if entry is None:
            return
        eid, tid = entry
        fis = self.fis_client(region)
        self._stop(fis, eid)
        self._delete_template(fis, tid)
        self.running.pop(region, None)
        self.say(f"FIS experiment {eid} ended; replication of {region} resumes")

    def stop_all(self) -> list[str]:
        """Stop every experiment this object started (also one whose id was never
        learned: ListExperiments, by template), wait until each has ended, delete the
        templates. The experiments stopped."""
        stopped = []
        for tid, region in list(self.templates.items()):
            fis = self.fis_client(region)
            known = {e for e, (_, t) in self.experiments.items() if t == tid}
            try:
                listed = {e["id"] for e in fis.list_experiments().get("experiments", [])
                          if e.get("experimentTemplateId") == tid}
            except ClientError:  # no ListExperiments permission: the known ones only
                listed = set()
            for eid in sorted(known | listed):
                if self._stop(fis, eid):
                    stopped.append(eid)
            self._delete_template(fis, tid)
        self.running.clear()
        return stopped

    def _stop(self, fis: Any, eid: str) -> bool:
        """StopExperiment unless it has ended; wait until it has. True if it was stopped."""
        status = fis.get_experiment(id=eid)["experiment"]["state"]["status"]
        self.experiments.pop(eid, None)
        if status in ENDED:
            return False
        if status != "stopping":
            fis.stop_experiment(id=eid)
        status = self._wait(fis, eid, ENDED, STATE_WAIT_S)
        if status not in ENDED:
            raise FaultStartUnknown(f"FIS experiment {eid} still {status} "
                                    f"{STATE_WAIT_S:g}s after StopExperiment")
        return True

    def _delete_template(self, fis: Any, tid: str) -> None:
        try:
            fis.delete_experiment_template(id=tid)
        except ClientError as e:
            if (e.response.get("Error", {}).get("Code")) != "ResourceNotFoundException":
                raise
        self.templates.pop(tid, None)

    def _wait(self, fis: Any, eid: str, statuses: Sequence[str], within_s: float) -> str:
        deadline = time.monotonic() + within_s
        while True:
            status = fis.get_experiment(id=eid)["experiment"]["state"]["status"]
            if status in statuses or time.monotonic() >= deadline:
                return status
            time.sleep(self.poll_s)


def _message(e: ClientError) -> str:
    err = e.response.get("Error", {})
    return f"{err.get('Code')}: {err.get('Message')}"
