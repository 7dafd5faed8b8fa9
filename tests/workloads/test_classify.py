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


def test_the_emulators_documented_503_is_fail_and_every_other_5xx_stays_info():
    """docs/CONVENTIONS.md: the emulator's 503 means nothing was proposed (Jepsen :fail);
    AWS documents no such thing, so without the flag a 503 stays info."""
    emu = classify(client_error("ServiceUnavailable", 503), definite_unavailable=True)
    assert (emu.type, emu.error) == ("fail", "ServiceUnavailable")
    assert classify(client_error("ServiceUnavailable", 503)).type == "info"
    for code, status in (("InternalServerError", 500), ("SomethingElse", 503)):
        assert classify(client_error(code, status), definite_unavailable=True).type == "info"


def test_clients_on_the_emulator_target_know_its_503_is_definite():
    from suite.targets.emulator import EmulatorTarget
    from suite.targets.endpoints import EndpointsTarget
    from workloads.client import OPS, RegionClient

    class Plain:  # a target that does not document its 5xx (AWS, plain endpoints)
        regions = ("us-east-1",)

        def client(self, region, config=None):
            return object()

    class Emulated(Plain):
        definite_unavailable = EmulatorTarget.definite_unavailable

    proto = RegionClient("t", OPS["register"])
    assert proto.with_target(Emulated()).open(None, "us-east-1").definite_unavailable
    assert not proto.with_target(Plain()).open(None, "us-east-1").definite_unavailable
    assert not getattr(EndpointsTarget, "definite_unavailable", False)
