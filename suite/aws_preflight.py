"""`gtcheck aws preflight`: everything a planned aws run needs, checked before spending money.

It creates nothing. In order: the credentials and account (STS GetCallerIdentity); each
region answers DynamoDB (ListTables, one page: a region not enabled for the account, or
unreachable, fails here); the topology, including the MRSC region-set rule
(suite/targets/base.py check_topology, the same check the provisioner makes); every IAM
action the planned run calls (`required_actions`, the same list docs/aws.md's policy
grants) checked with iam:SimulatePrincipalPolicy against the resources it will touch --
or, where the caller may not simulate, listed for the user to check; the quotas that
matter (tables per region against the default 2,500; simultaneous table operations
against 500); and the plan with its estimated cost (suite/targets/aws.py make_plan).

Each check is one `Check` (ok / fail / not available, with a line of evidence); the
command prints them and exits 1 when any failed, 0 otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

OK, FAIL, UNAVAILABLE = "ok", "FAIL", "not available"
TABLES_QUOTA = 2500          # default per account and region (DynamoDB service quotas)
TABLE_OPERATIONS_QUOTA = 500  # simultaneous CreateTable/UpdateTable/DeleteTable
TABLE_PAGES_MAX = 30          # ListTables pages counted (100 names each)


@dataclass(frozen=True)
class Check:
    status: str
    what: str
    evidence: str

    def line(self) -> str:
        return f"{self.status:<13} {self.what}: {self.evidence}"


def required_actions(mode: str, witness: str | None, fis: bool) -> list[tuple[str, str]]:
    """(IAM action, resource kind) for every call a planned run makes; kinds: "table",
    "any", "fis-template", "fis-experiment", "fis-action", "role". Transactions need no
    actions of their own: TransactWriteItems / TransactGetItems are authorised by the
    item actions (PutItem, UpdateItem, DeleteItem, ConditionCheckItem, GetItem)."""
    table = ["CreateTable", "DescribeTable", "UpdateTable", "DeleteTable", "TagResource",
             "ListTagsOfResource", "GetItem", "PutItem", "UpdateItem", "DeleteItem",
             "ConditionCheckItem", "Query", "Scan", "BatchWriteItem",
             "CreateTableReplica", "DeleteTableReplica"]
    if mode == "strong" and witness:
        table += ["CreateGlobalTableWitness", "DeleteGlobalTableWitness"]
    out = [(f"dynamodb:{a}", "table") for a in table]
    out.append(("dynamodb:ListTables", "any"))
    if fis:
        out += [("fis:CreateExperimentTemplate", "fis-template"),
                ("fis:CreateExperimentTemplate", "fis-action"),
                ("fis:StartExperiment", "fis-template"),
                ("fis:StartExperiment", "fis-experiment"),
                ("fis:GetExperiment", "fis-experiment"),
                ("fis:StopExperiment", "fis-experiment"),
                ("fis:DeleteExperimentTemplate", "fis-template"),
                ("fis:ListExperiments", "any"),
                ("fis:TagResource", "fis-experiment"),
                ("iam:PassRole", "role")]
    return out


def resource_arn(kind: str, *, region: str, account: str, table: str,
                 role_arn: str | None) -> str:
    return {"table": f"arn:aws:dynamodb:{region}:{account}:table/{table}",
            "any": "*",
            "fis-template": f"arn:aws:fis:{region}:{account}:experiment-template/*",
            "fis-experiment": f"arn:aws:fis:{region}:{account}:experiment/*",
            "fis-action": f"arn:aws:fis:{region}:{account}:action/"
                          "aws:dynamodb:global-table-pause-replication",
            "role": role_arn or f"arn:aws:iam::{account}:role/gtcheck-fis"}[kind]


def principal_arn(caller_arn: str) -> str:
    """The IAM principal SimulatePrincipalPolicy takes for a caller: an assumed role's
    session ARN (sts) becomes the role's ARN (iam)."""
    parts = caller_arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        role = parts[5].split("/")[1]
        return f"arn:aws:iam::{parts[4]}:role/{role}"
    return caller_arn


def error_text(e: BaseException) -> str:
    response = getattr(e, "response", None)
    if isinstance(response, dict) and "Error" in response:
        err = response["Error"]
        return f"{err.get('Code')}: {err.get('Message')}"
    return f"{type(e).__name__}: {e}"


def run_checks(client: Callable[..., Any], *, mode: str, regions: Sequence[str],
               witness: str | None, fis_role_arn: str | None, table: str,
               plan_lines: Sequence[str]) -> list[Check]:
    """Every check, in order; `client(service, region)` makes a boto3 client."""
    from suite.errors import BadInput
    from suite.targets.base import check_topology

    checks: list[Check] = []
    account = None
    try:
        ident = client("sts", regions[0]).get_caller_identity()
        account = ident["Account"]
        checks.append(Check(OK, "credentials", f"account {account}, {ident['Arn']}"))
    except Exception as e:  # noqa: BLE001 -- reported as the check's evidence
        checks.append(Check(FAIL, "credentials", f"STS GetCallerIdentity: {error_text(e)}"))
    try:
        check_topology(mode, regions, witness)
        where = ", ".join(regions) + (f"; witness {witness}" if witness else "")
        checks.append(Check(OK, "topology", f"{mode}: {where}"
                            + (" (one MRSC region set)" if mode == "strong" else "")))
    except BadInput as e:
        checks.append(Check(FAIL, "topology", str(e)))
    for r in [*regions, *([witness] if witness else [])]:
        try:
            c = client("dynamodb", r)
            count, pages = 0, 0
            for page in c.get_paginator("list_tables").paginate():
                count += len(page.get("TableNames", []))
                pages += 1
                if pages >= TABLE_PAGES_MAX:
                    break
            more = "+" if pages >= TABLE_PAGES_MAX else ""
            checks.append(Check(OK, f"region {r}", "DynamoDB answers"))
            status = OK if count + 1 <= TABLES_QUOTA else FAIL
            checks.append(Check(status, f"quota in {r}",
                                f"{count}{more} tables of the default {TABLES_QUOTA} per "
                                f"region; the run adds 1 (and uses 1 of "
                                f"{TABLE_OPERATIONS_QUOTA} simultaneous table operations)"))
        except Exception as e:  # noqa: BLE001 -- a region not enabled, or unreachable
            checks.append(Check(FAIL, f"region {r}", f"ListTables: {error_text(e)} (is the "
                                "region enabled for this account?)"))
    actions = required_actions(mode, witness, fis_role_arn is not None)
    if account is None:
        checks.append(Check(UNAVAILABLE, "IAM actions", "no caller identity; check these "
                            "yourself: " + ", ".join(sorted({a for a, _ in actions}))))
    else:
        checks += _simulate(client, principal_arn(ident["Arn"]), actions, regions=regions,
                            account=account, table=table, role_arn=fis_role_arn)
    checks.append(Check(OK, "plan", "; ".join(line.strip() for line in plan_lines)))
    return checks


def _simulate(client: Callable[..., Any], principal: str, actions: list[tuple[str, str]],
              *, regions: Sequence[str], account: str, table: str,
              role_arn: str | None) -> list[Check]:
    """One SimulatePrincipalPolicy per (action, resource); denied ones fail."""
    iam = client("iam", "us-east-1")
    denied: list[str] = []
    checked = 0
    for r in regions:
        for action, kind in actions:
            arn = resource_arn(kind, region=r, account=account, table=table,
                               role_arn=role_arn)
            try:
                res = iam.simulate_principal_policy(PolicySourceArn=principal,
                                                    ActionNames=[action],
                                                    ResourceArns=[arn])
            except Exception as e:  # noqa: BLE001 -- no iam:SimulatePrincipalPolicy
                return [Check(UNAVAILABLE, "IAM actions",
                              f"SimulatePrincipalPolicy: {error_text(e)}; check that "
                              f"{principal} may: "
                              + ", ".join(sorted({a for a, _ in actions})))]
            for ev in res.get("EvaluationResults", []):
                checked += 1
                if ev.get("EvalDecision") != "allowed":
                    denied.append(f"{ev.get('EvalActionName')} on "
                                  f"{ev.get('EvalResourceName')} ({ev.get('EvalDecision')})")
    if denied:
        return [Check(FAIL, "IAM actions", f"{len(denied)} denied: " + "; ".join(denied[:8])
                      + (" ..." if len(denied) > 8 else ""))]
    return [Check(OK, "IAM actions", f"{checked} action/resource pairs allowed for "
                  f"{principal} (iam:SimulatePrincipalPolicy)")]
