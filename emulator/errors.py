"""DynamoDB's error answers, as the real service shapes them.

Every deliberate error of the emulator's data and control plane is a `DynamoError`: a
service error name (the `__type` suffix), an HTTP status, and a message. The HTTP layer
turns it into `{"__type": "com.amazonaws.dynamodb.v20120810#<Name>", "message": ...}`
(note: "Message" for a few, as the service does) so botocore raises the matching
`ClientError` with the right code and decides on retries exactly as against AWS.
"""

from __future__ import annotations

from typing import Any

from gtcheck.errors import GtcheckError

PREFIX = "com.amazonaws.dynamodb.v20120810#"
# Errors that botocore maps by status; the real service answers these codes.
_STATUS = {
    "ValidationException": 400,
    "SerializationException": 400,
    "ResourceNotFoundException": 400,
    "ResourceInUseException": 400,
    "ConditionalCheckFailedException": 400,
    "TransactionCanceledException": 400,
    "TransactionConflictException": 400,
    "IdempotentParameterMismatchException": 400,
    "ItemCollectionSizeLimitExceededException": 400,
    "ProvisionedThroughputExceededException": 400,
    "ThrottlingException": 400,
    "UnknownOperationException": 400,
    "MissingAuthenticationTokenException": 400,
    "LimitExceededException": 400,
    "TableNotFoundException": 400,
    "ReplicatedWriteConflictException": 409,  # botocore's legacy retry rules match 409
    "InternalServerError": 500,
    "ServiceUnavailable": 503,
    "ExpiredIteratorException": 400,
    "TrimmedDataAccessException": 400,
}


class DynamoError(GtcheckError):
    """An error answer of the DynamoDB API."""

    def __init__(self, name: str, message: str, *, status: int | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.status = status if status is not None else _STATUS.get(name, 400)
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"__type": PREFIX + self.name, "message": self.message}
        out.update(self.extra)
        return out


def validation(message: str) -> DynamoError:
    return DynamoError("ValidationException", message)


def not_found(message: str = "Requested resource not found") -> DynamoError:
    return DynamoError("ResourceNotFoundException", message)


def condition_failed(item: dict | None = None) -> DynamoError:
    extra = {"Item": item} if item is not None else None
    return DynamoError("ConditionalCheckFailedException", "The conditional request failed",
                       extra=extra)
