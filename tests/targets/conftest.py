"""A running DynamoDB-compatible server for target and client tests: moto's, one region.

It is a real HTTP server speaking the DynamoDB JSON protocol, so targets and workload
clients are exercised through boto3 over HTTP exactly as against the emulator.
"""

import pytest


@pytest.fixture(scope="module")
def moto_url():
    from moto.server import ThreadedMotoServer
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server._server.server_address
    yield f"http://{host}:{port}"
    server.stop()
