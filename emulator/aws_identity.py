"""Minimal STS and IAM stand-ins on the all-regions endpoint, for `gtcheck aws preflight`.

`gtcheck aws preflight` asks AWS who the caller is (STS GetCallerIdentity) and whether the
caller may make every call a planned run makes (IAM SimulatePrincipalPolicy). Behind
`AWS_ENDPOINT_URL` boto3 sends those to the emulator too, so it answers them, in AWS's
query protocol (form-encoded request, XML answer): GetCallerIdentity names a fixed test
identity in account 000000000000; SimulatePrincipalPolicy answers "allowed" for every
action except those the deployment was told to deny (`serve --iam-deny ACTION[,ACTION]`,
"implicitDeny"), so a test can show preflight catching a missing permission. Any other
action of these services is an InvalidAction error, as AWS answers an unknown action.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

ACCOUNT = "000000000000"
CALLER_ARN = f"arn:aws:iam::{ACCOUNT}:user/gtcheck-emulator"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"


def _xml(status: int, body: str) -> tuple[int, list[str], bytes]:
    return status, ["Content-Type: text/xml"], body.encode()


def _error(code: str, message: str, status: int = 400) -> tuple[int, list[str], bytes]:
    return _xml(status, f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code>"
                        f"<Message>{escape(message)}</Message></Error>"
                        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")


def _members(form: dict[str, list[str]], name: str) -> list[str]:
    """`Name.member.1`, `Name.member.2`, ... of a query-protocol list, in order."""
    out, i = [], 1
    while f"{name}.member.{i}" in form:
        out.append(form[f"{name}.member.{i}"][0])
        i += 1
    return out


def _form_for(body: bytes, action: str, service: str) -> tuple[dict, Any]:
    """The request's form, and an InvalidAction answer unless it asks for `action`."""
    form = parse_qs(body.decode("utf-8", "replace"))
    asked = form.get("Action", [""])[0]
    if asked != action:
        return form, _error("InvalidAction", f"{asked or 'no action'} is not served by the "
                                             f"gtcheck emulator's {service} stand-in")
    return form, None


def sts_handler() -> Callable:
    def handle(method: str, path: str, headers: dict, body: bytes):
        form, refused = _form_for(body, "GetCallerIdentity", "STS")
        if refused:
            return refused
        return _xml(200, f'<GetCallerIdentityResponse xmlns="{STS_NS}"><GetCallerIdentityResult>'
                         f"<Arn>{CALLER_ARN}</Arn><UserId>AIDAGTCHECKEMULATOR</UserId>"
                         f"<Account>{ACCOUNT}</Account></GetCallerIdentityResult>"
                         f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId>"
                         "</ResponseMetadata></GetCallerIdentityResponse>")
    return handle


def iam_handler(denied: Iterable[str] = ()) -> Callable:
    denied_set = {a.lower() for a in denied}

    def handle(method: str, path: str, headers: dict, body: bytes):
        form, refused = _form_for(body, "SimulatePrincipalPolicy", "IAM")
        if refused:
            return refused
        if not form.get("PolicySourceArn"):
            return _error("ValidationError", "PolicySourceArn is required")
        actions = _members(form, "ActionNames")
        resources = _members(form, "ResourceArns") or ["*"]
        results = []
        for a in actions:
            for r in resources:
                decision = "implicitDeny" if a.lower() in denied_set else "allowed"
                results.append(f"<member><EvalActionName>{escape(a)}</EvalActionName>"
                               f"<EvalResourceName>{escape(r)}</EvalResourceName>"
                               f"<EvalDecision>{decision}</EvalDecision></member>")
        return _xml(200, f'<SimulatePrincipalPolicyResponse xmlns="{IAM_NS}">'
                         "<SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated>"
                         f"<EvaluationResults>{''.join(results)}</EvaluationResults>"
                         "</SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>"
                         f"{uuid.uuid4()}</RequestId></ResponseMetadata>"
                         "</SimulatePrincipalPolicyResponse>")
    return handle
