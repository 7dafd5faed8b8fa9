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
`failed`) raises BadInput, which the nemesis records as `fail` (the fault is not in force);
anything else propagates and is recorded as `info`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable, Mapping, Sequence

from botocore.exceptions import ClientError

from suite.errors import BadInput

PAUSE_ACTION = "aws:dynamodb:global-table-pause-replication"
TARGET_TYPE = "aws:dynamodb:global-table"
DEFAULT_DURATION = "PT10M"
STATE_WAIT_S = 120.0


class FisPauseReplication:
    """Runs FIS experiments for `fis-pause-replication`; one per paused region."""

    def __init__(self, fis_client: Callable[[str], Any], control_client: Callable[[str], Any],
                 role_arn: str, *, say: Callable[[str], None] = lambda line: None,
                 duration: str = DEFAULT_DURATION, poll_s: float = 0.2):
        self.fis_client = fis_client
        self.control_client = control_client
        self.role_arn = role_arn
        self.say = say
        self.duration = duration
        self.poll_s = poll_s
        self.running: dict[str, tuple[str, str]] = {}  # region -> (experiment, template)

    def fault(self, action: str, value: Mapping[str, Any] | None, *,
              tables: Sequence[str]) -> dict:
        value = dict(value or {})
        if action == "heal":
            for region in list(self.running):
                self.resume(region)
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
            "tags": {"gtcheck": "pause-replication"},
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
        try:
            exp = fis.start_experiment(clientToken=str(uuid.uuid4()), experimentTemplateId=tid)
        except ClientError as e:
            fis.delete_experiment_template(id=tid)
            raise BadInput(f"FIS refused to start the experiment: {_message(e)}") from None
        eid = exp["experiment"]["id"]
        self.running[region] = (eid, tid)
        status = self._wait(fis, eid, ("running", "completed", "stopped", "failed", "cancelled"))
        if status != "running":
            self.running.pop(region, None)
            fis.delete_experiment_template(id=tid)
            raise BadInput(f"FIS experiment {eid} ended {status} instead of running")
        self.say(f"FIS experiment {eid} pauses replication of {table} in {region}")

    def resume(self, region: str) -> None:
        entry = self.running.get(region)
        if entry is None:
            return
        eid, tid = entry
        fis = self.fis_client(region)
        status = fis.get_experiment(id=eid)["experiment"]["state"]["status"]
        if status in ("pending", "initiating", "running"):
            fis.stop_experiment(id=eid)
            self._wait(fis, eid, ("stopped", "completed", "failed", "cancelled"))
        fis.delete_experiment_template(id=tid)
        self.running.pop(region, None)
        self.say(f"FIS experiment {eid} ended; replication of {region} resumes")

    def _wait(self, fis: Any, eid: str, statuses: Sequence[str]) -> str:
        deadline = time.monotonic() + STATE_WAIT_S
        while True:
            status = fis.get_experiment(id=eid)["experiment"]["state"]["status"]
            if status in statuses or time.monotonic() >= deadline:
                return status
            time.sleep(self.poll_s)


def _message(e: ClientError) -> str:
    err = e.response.get("Error", {})
    return f"{err.get('Code')}: {err.get('Message')}"
