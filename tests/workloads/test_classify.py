"""Outcome classification: definite errors fail, anything that leaves the outcome open is info."""

import pytest
from botocore.exceptions import (ClientError, ConnectTimeoutError, ConnectionClosedError,
                                 EndpointConnectionError, ReadTimeoutError)

from workloads.dynamo import classify, one_attempt_config


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} happened"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "PutItem")


@pytest.mark.parametrize("code,status,error", [
    ("ConditionalCheckFailedException", 400, "ConditionalCheckFailed"),
    ("ReplicatedWriteConflictException", 409, "ReplicatedWriteConflict"),
    ("ValidationException", 400, "Validation"),
    ("ResourceNotFoundException", 400, "ResourceNotFound"),
    ("ProvisionedThroughputExceededException", 400, "Throttled"),
])
def test_definite_errors_fail(code, status, error):
    outcome = classify(client_error(code, status))
    assert (outcome.type, outcome.error) == ("fail", error)
    assert code in outcome.message


@pytest.mark.parametrize("code,status,error", [
    ("InternalServerError", 500, "http-500:InternalServerError"),
    ("ServiceUnavailable", 503, "http-503:ServiceUnavailable"),
    ("SomethingNew", 400, "unknown:SomethingNew"),
])
def test_server_errors_and_unknown_codes_are_info(code, status, error):
    outcome = classify(client_error(code, status))
    assert (outcome.type, outcome.error) == ("info", error)


def test_timeouts_and_dropped_connections_are_info():
    assert classify(ReadTimeoutError(endpoint_url="http://x")).type == "info"
    assert classify(ReadTimeoutError(endpoint_url="http://x")).error == "timeout"
    assert classify(ConnectTimeoutError(endpoint_url="http://x")).error == "timeout"
    assert classify(ConnectionClosedError(endpoint_url="http://x")).type == "info"
    assert classify(RuntimeError("boom")).type == "info"
    assert classify(RuntimeError("boom")).error == "unknown:RuntimeError"


def test_refused_connection_is_definite():
    outcome = classify(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
    assert (outcome.type, outcome.error) == ("fail", "connection-refused")


def test_clients_make_exactly_one_attempt():
    config = one_attempt_config(connect_timeout_s=0.5, read_timeout_s=2.0)
    assert config.retries["total_max_attempts"] == 1
    assert (config.connect_timeout, config.read_timeout) == (0.5, 2.0)
