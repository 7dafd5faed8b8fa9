"""The emulator's fault admin API refuses what a web page could send (emulator/admin.py):
no token, a wrong token, an Origin header, a Host that is not the admin API's own address
(DNS rebinding, `127.evil.com`) -- all 403, and no fault is injected; with the token from
the state file (mode 0600) and the right Host, faults work, through every client: the
`gtcheck emulator fault` CLI, the endpoints target's AdminClient."""

import json
import os
import stat
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner

from emulator import Deployment
from emulator.admin import TOKEN_HEADER
from emulator.cli import emulator
from suite.targets import read_state_file
from suite.targets.endpoints import AdminClient
from suite.errors import SetupError

US = ["us-east-1", "us-east-2"]


@pytest.fixture(scope="module")
def dep(tmp_path_factory):
    state = tmp_path_factory.mktemp("admin") / "emulator.json"
    with Deployment(US, latency_scale=0.0, seed=2, state_file=state) as d:
        yield d, state


def post(d, path, body, headers):
    req = urllib.request.Request(d.admin_url + path, data=json.dumps(body).encode(),
                                 method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def cut_in_force(d) -> bool:
    return bool(d.status()["wan"].get("cut"))


@pytest.mark.parametrize("headers", [
    {},                                                   # no token
    {TOKEN_HEADER: "wrong"},
    {"Origin": "https://evil.example"},                   # a web page, token or not
    {"Origin": "null"},
    {"Host": "127.evil.com"},                             # DNS rebinding
    {"Host": "evil.example"},
], ids=["no-token", "wrong-token", "origin-with-token", "origin-null", "host-127-prefix",
        "host-other"])
def test_refused_and_nothing_injected(dep, headers):
    d, _ = dep
    if "Origin" in headers or "Host" in headers:
        headers = {TOKEN_HEADER: d.admin_token, **headers}
    status, answer = post(d, "/fault", {"action": "cut", "args": US}, headers)
    assert status == 403 and answer["ok"] is False
    assert not cut_in_force(d)
    status, _ = post(d, "/versions", {"table": "t", "key": {"pk": {"S": "k"}}}, headers)
    assert status == 403


def test_status_needs_the_token_too(dep):
    d, _ = dep
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(d.admin_url + "/status", timeout=10)
    assert e.value.code == 403
    req = urllib.request.Request(d.admin_url + "/status", headers={TOKEN_HEADER: d.admin_token})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert json.loads(r.read())["ok"] is True


def test_token_from_the_state_file_works_for_every_client(dep):
    d, state = dep
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    s = read_state_file(state)
    assert s["admin_token"] == d.admin_token
    status, answer = post(d, "/fault", {"action": "cut", "args": US},
                          {TOKEN_HEADER: s["admin_token"]})
    assert status == 200 and cut_in_force(d)
    r = CliRunner().invoke(emulator, ["fault", "--state-file", str(state), "heal"])
    assert r.exit_code == 0, r.output
    assert not cut_in_force(d)
    AdminClient(s["admin"], token=s["admin_token"]).fault("cut", *US)
    assert cut_in_force(d)
    with pytest.raises(SetupError, match="403"):
        AdminClient(s["admin"]).fault("heal")  # no token: refused
    assert cut_in_force(d)
    d.heal()


def test_localhost_name_is_accepted(dep):
    d, _ = dep
    port = d.admin_url.rsplit(":", 1)[1]
    req = urllib.request.Request(f"http://localhost:{port}/status",
                                 headers={TOKEN_HEADER: d.admin_token})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200
    except urllib.error.URLError as e:  # localhost may resolve to ::1 only on some hosts
        if not isinstance(getattr(e, "reason", None), ConnectionRefusedError):
            raise
