"""One endpoint for every region: the region chosen by the request's SigV4 credential scope.

boto3 honours `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_DYNAMODB`, `..._FIS`): every client,
whatever its region, then talks to one URL. moto and LocalStack serve that way, and so does
this front: a signed request carries `Authorization: AWS4-HMAC-SHA256
Credential=AKID/20260101/us-east-2/dynamodb/aws4_request, ...`, and the region and service
of that credential scope pick the handler. So `AWS_ENDPOINT_URL=http://127.0.0.1:PORT
gtcheck run --target aws` runs the real AWS code path, unchanged, against the emulator.

- service `dynamodb` (DynamoDB and DynamoDB Streams both sign with it): the region's own
  DynamoDB handler, exactly what its per-region port serves;
- a region with no endpoint in this deployment (or the MRSC witness, which holds no table):
  what AWS answers in a region where the table does not exist -- ListTables is empty,
  anything naming a table is ResourceNotFoundException;
- a stopped region (fault `stop`): the connection is dropped without an answer, as close to
  "connection refused" as one shared port can come (the client sees a dropped connection);
- service `fis`: the Fault Injection Service handler, when the deployment has one.

Signatures are not verified (any credentials work, as on the per-region ports); a request
without a credential scope is refused with MissingAuthenticationTokenException.
"""

from __future__ import annotations

import json
import re
import zlib
from typing import Any, Callable, Mapping

from emulator.errors import PREFIX, DynamoError
from emulator.request_body import decode as decode_body
from emulator.server import DROP_CONNECTION, Handler

_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


def sigv4_scope(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """(region, service) of a SigV4-signed request's credential scope, or None."""
    m = _SCOPE.search(headers.get("authorization", ""))
    return (m.group(1), m.group(2)) if m else None


def _dynamodb_error(name: str, message: str, status: int = 400) -> tuple[int, list[str], bytes]:
    payload = json.dumps({"__type": PREFIX + name, "message": message}).encode()
    return status, ["Content-Type: application/x-amz-json-1.0",
                    f"x-amz-crc32: {zlib.crc32(payload)}"], payload


def absent_region_handler(region: str) -> Handler:
    """DynamoDB in a region where nothing of this deployment lives: no tables at all."""

    def handle(method: str, path: str, headers: dict, body: bytes) -> tuple[int, list[str], bytes]:
        op = headers.get("x-amz-target", "").rpartition(".")[2]
        if op == "ListTables":
            payload = b'{"TableNames":[]}'
            return 200, ["Content-Type: application/x-amz-json-1.0",
                         f"x-amz-crc32: {zlib.crc32(payload)}"], payload
        if op == "CreateTable":
            return _dynamodb_error("ValidationException",
                                   f"The region {region} is not part of this emulated deployment")
        try:
            req = decode_body(body)
        except DynamoError as e:
            return _dynamodb_error(e.name, e.message, e.status)
        name = req.get("TableName") if isinstance(req, dict) else None
        if not isinstance(name, str):
            return _dynamodb_error("ValidationException",
                                   "1 validation error detected: Value null at 'tableName' "
                                   "failed to satisfy constraint: Member must not be null")
        return _dynamodb_error("ResourceNotFoundException",
                               f"Requested resource not found: Table: {name} not found")

    return handle


def front_handler(regional: Callable[[str], Handler | None],
                  region_serving: Callable[[str], bool],
                  services: Mapping[str, Handler] | None = None) -> Handler:
    """The single endpoint's handler.

    `regional(region)` is that region's DynamoDB handler (None: no endpoint there);
    `region_serving(region)` is False while the region is stopped; `services` maps other
    signing names (e.g. "fis") to their handlers.
    """
    services = services if services is not None else {}
    absent: dict[str, Handler] = {}

    def handle(method: str, path: str, headers: dict, body: bytes) -> Any:
        if method == "GET" and path in ("/", "/health"):
            return 200, [], b"healthy: gtcheck emulator (all regions)"
        scope = sigv4_scope(headers)
        if scope is None:
            return _dynamodb_error("MissingAuthenticationTokenException",
                                   "Request is missing Authentication Token (the single "
                                   "endpoint picks the region from the SigV4 credential scope)")
        region, service = scope
        if service != "dynamodb":
            other = services.get(service)
            if other is None:
                return _dynamodb_error("UnknownOperationException",
                                       f"service {service!r} is not served by this emulator",
                                       404)
            return other(method, path, {**headers, "x-gtcheck-region": region}, body)
        h = regional(region)
        if h is None:
            h = absent.get(region)
            if h is None:
                h = absent[region] = absent_region_handler(region)
            return h(method, path, headers, body)
        if not region_serving(region):
            return DROP_CONNECTION
        return h(method, path, headers, body)

    return handle
