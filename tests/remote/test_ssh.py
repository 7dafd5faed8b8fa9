"""SSH to the test bed's hosts: host keys verified, every failure one line naming the host."""

from __future__ import annotations

import dataclasses
import os
import subprocess

import pytest
import yaml
from click.testing import CliRunner

from suite.cli import main
from suite.remote import ssh
from suite.remote.fleet import Fleet
from suite.remote.hosts import read_hosts
from suite.remote.ssh import HostError

pytestmark = pytest.mark.slow


@pytest.fixture()
def bed(testbed):
    return read_hosts(testbed)


def _one_line(e: BaseException, host) -> str:
    text = str(e)
    assert "\n" not in text and host.name in text, text
    return text


def test_known_key_connects_and_runs_a_command(bed):
    h = bed.hosts[0]
    c = ssh.connect(h, known_hosts=bed.known_hosts)
    try:
        status, out, _ = ssh.run(c, ["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
        assert status == 0 and h.address in out  # really inside that host's namespace
        assert ssh.run(c, ["sh", "-c", "exit 7"])[0] == 7
    finally:
        c.close()


def test_unknown_key_is_refused_unless_accept_new(bed, tmp_path):
    h = bed.hosts[1]
    kh = tmp_path / "known_hosts"
    with pytest.raises(HostError) as e:
        ssh.connect(h, known_hosts=str(kh))
    assert "not in" in _one_line(e.value, h) and "--ssh-accept-new" in str(e.value)
    assert not kh.exists()
    ssh.connect(h, known_hosts=str(kh), accept_new=True).close()
    line = kh.read_text().strip()
    assert line.startswith(h.address + " ssh-ed25519 ")
    ssh.connect(h, known_hosts=str(kh)).close()  # now known: no opt-in needed


def test_changed_key_is_refused_even_with_accept_new(bed, tmp_path):
    a, b = bed.hosts[0], bed.hosts[1]
    real = open(bed.known_hosts).read().splitlines()
    b_key = next(line.split(" ", 1)[1] for line in real if line.startswith(b.address + " "))
    kh = tmp_path / "known_hosts"
    kh.write_text(f"{a.address} {b_key}\n")  # a's entry holds another host's key
    for accept_new in (False, True):
        with pytest.raises(HostError) as e:
            ssh.connect(a, known_hosts=str(kh), accept_new=accept_new)
        assert "CHANGED" in _one_line(e.value, a)
    assert kh.read_text() == f"{a.address} {b_key}\n"


def test_wrong_key_and_closed_port_are_one_line_failures(bed, tmp_path):
    h = bed.hosts[2]
    key = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                   check=True)
    with pytest.raises(HostError) as e:
        ssh.connect(dataclasses.replace(h, key=str(key)), known_hosts=bed.known_hosts)
    assert "authentication failed" in _one_line(e.value, h)
    with pytest.raises(HostError) as e:
        ssh.connect(dataclasses.replace(h, port=2), known_hosts=bed.known_hosts)
    assert "cannot connect" in _one_line(e.value, h)


def _worker_script(text: str) -> str:
    """An executable the test user can run (the bed's home directory is theirs)."""
    path = "/run/gtcheck-testbed/home/fake-gtcheck"
    with open(path, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o755)
    return path


def test_worker_version_mismatch_and_missing_install_are_refused(bed):
    h = dataclasses.replace(bed.hosts[0], sudo=False,
                            gtcheck=_worker_script(
                                "#!/bin/sh\necho '{\"t\": \"hello\", \"pid\": 1, "
                                "\"versions\": {\"gtcheck\": \"0.0.1\", \"protocol\": 1}}'\n"
                                "cat >/dev/null\n"))
    fleet = Fleet(dataclasses.replace(bed, hosts=(h,)))
    with pytest.raises(HostError) as e:
        fleet.start({}, {})
    assert "gtcheck 0.0.1 (protocol 1) there" in _one_line(e.value, h)
    h = dataclasses.replace(h, gtcheck="/nonexistent/gtcheck")
    with pytest.raises(HostError) as e:
        Fleet(dataclasses.replace(bed, hosts=(h,))).start({}, {})
    text = _one_line(e.value, h)
    assert "status 127" in text and "/nonexistent/gtcheck" in text


def test_cli_refuses_an_unknown_host_key_in_one_line(bed, testbed, tmp_path):
    doc = yaml.safe_load(testbed.read_text())
    doc["known_hosts"] = str(tmp_path / "empty_known_hosts")
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text(yaml.safe_dump(doc))
    r = CliRunner().invoke(main, ["run", "--hosts", str(hosts), "--time-limit", "1",
                                  "--store", str(tmp_path / "store")])
    assert r.exit_code == 3, r.output
    errors = [line for line in r.output.splitlines() if line.startswith("gtcheck: error:")]
    assert len(errors) == 1 and "refusing to connect" in errors[0], r.output
    assert "Traceback" not in r.output
