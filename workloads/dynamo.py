"""boto3 plumbing every workload client shares: one-attempt clients and outcome classes.

A history is only as honest as its client. boto3 retries on its own (up to 4 attempts in
standard mode, and it retries read timeouts and ReplicatedWriteConflictException), so a
timed-out `ADD` could be applied twice while the history shows one operation
(SEMANTICS.md, "Pitfalls"). Every client gtcheck makes therefore has boto3's retries
turned off (`total_max_attempts = 1`) and explicit connect/read timeouts; a workload that
wants to retry does it itself, and each attempt is its own recorded operation.

`classify` turns whatever one attempt raised into the history's vocabulary: a definite
failure (the service answered that it did not apply the request) is `fail`; anything that
leaves the outcome open -- a timeout, a dropped connection, a 5xx, an error we do not know
-- is `info`. When in doubt, `info`. The one connection error that is definite is a
refused connection (`EndpointConnectionError`: the request was never sent).

`definite_unavailable=True` is for the gtcheck emulator only, whose 503
ServiceUnavailable documents that nothing was proposed (docs/CONVENTIONS.md, "Emulator
MRSC error classes"): Jepsen's `:fail` means "certainly did not take place", and that
answer says exactly so, so it is `fail`, which lets the counter checker's upper bound
leave those increments out. Against AWS, which documents no such thing, every 5xx stays
`info`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a Config is made: help texts never need it
    from botocore.config import Config
from botocore.exceptions import (BotoCoreError, ClientError, ConnectTimeoutError,
                                 ConnectionClosedError, EndpointConnectionError,
                                 ReadTimeoutError)

FAIL, INFO = "fail", "info"

# Error codes that mean "the service did not apply this request". The value is the short
# machine-readable reason recorded in the history's `error` field.
DEFINITE_ERRORS: Mapping[str, str] = {
    "ConditionalCheckFailedException": "ConditionalCheckFailed",
    "ReplicatedWriteConflictException": "ReplicatedWriteConflict",
    "ValidationException": "Validation",
    "ResourceNotFoundException": "ResourceNotFound",
    "SerializationException": "Serialization",
    "TransactionCanceledException": "TransactionCanceled",
    "ItemCollectionSizeLimitExceededException": "ItemCollectionSizeLimitExceeded",
    # Throttling is decided before the request is executed: definitely not applied.
    "ProvisionedThroughputExceededException": "Throttled",
    "ThrottlingException": "Throttled",
    "RequestLimitExceeded": "Throttled",
    "AccessDeniedException": "AccessDenied",
    "UnrecognizedClientException": "UnrecognizedClient",
}


class Unprocessed(Exception):
    """A batch (BatchGetItem, BatchWriteItem) answered with the request unprocessed: the
    service said it did not make it, a definite failure."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one failed attempt completes: `type` fail or info, `error` a short reason."""

    type: str
    error: str
    message: str = ""


def classify(exc: BaseException, *, definite_unavailable: bool = False) -> Outcome:
    """Classify an exception raised by one boto3 call (see the module docstring)."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {}) or {}
        code = str(err.get("Code", "") or "")
        message = str(err.get("Message", "") or "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in DEFINITE_ERRORS:
            return Outcome(FAIL, DEFINITE_ERRORS[code], message)
        if definite_unavailable and code == "ServiceUnavailable" and status == 503:
            return Outcome(FAIL, "ServiceUnavailable", message)
        if isinstance(status, int) and status >= 500:
            return Outcome(INFO, f"http-{status}:{code}" if code else f"http-{status}", message)
        return Outcome(INFO, f"unknown:{code or status}", message)
    if isinstance(exc, Unprocessed):
        return Outcome(FAIL, "Unprocessed", str(exc))
    if isinstance(exc, EndpointConnectionError):
        return Outcome(FAIL, "connection-refused", str(exc))
    if isinstance(exc, (ReadTimeoutError, ConnectTimeoutError)):
        return Outcome(INFO, "timeout", str(exc))
    if isinstance(exc, ConnectionClosedError):
        return Outcome(INFO, "connection-closed", str(exc))
    if isinstance(exc, BotoCoreError):
        return Outcome(INFO, f"botocore:{type(exc).__name__}", str(exc))
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return Outcome(INFO, "connection-error", str(exc))
    return Outcome(INFO, f"unknown:{type(exc).__name__}", str(exc))


def one_attempt_config(*, connect_timeout_s: float = 1.0, read_timeout_s: float = 5.0,
                       max_pool_connections: int = 4) -> Config:
    """A botocore Config with retries off and explicit timeouts (module docstring)."""
    from botocore.config import Config
    return Config(retries={"total_max_attempts": 1, "mode": "standard"},
                  connect_timeout=connect_timeout_s, read_timeout=read_timeout_s,
                  max_pool_connections=max_pool_connections)


# --- DynamoDB attribute values ------------------------------------------------------

def num(v: int) -> dict:
    return {"N": str(int(v))}


def parse_num(attr: Mapping[str, Any] | None) -> int | None:
    if attr is None:
        return None
    if "N" not in attr:
        raise ValueError(f"expected a number attribute, got {attr!r}")
    text = attr["N"]
    return int(text) if "." not in text else int(float(text))


def parse_num_set(attr: Mapping[str, Any] | None) -> list[int]:
    if attr is None:
        return []
    if "NS" not in attr:
        raise ValueError(f"expected a number-set attribute, got {attr!r}")
    return sorted(int(x) for x in attr["NS"])
