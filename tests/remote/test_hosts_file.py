"""The hosts file: what it accepts, and one clear line for what it refuses."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from suite.cli import main
from suite.errors import BadInput
from suite.remote.hosts import parse_hosts, read_hosts


def test_reads_hosts_per_region_with_defaults(tmp_path):
    p = tmp_path / "hosts.yaml"
    p.write_text("control_address: 10.0.0.1\n"
                 "regions:\n"
                 "  us-east-1:\n"
                 "    - {address: a1, user: root, key: ~/k}\n"
                 "    - {address: a2, user: bob, port: 2222, name: east-b}\n"
                 "  us-west-2: {address: b1, user: bob, sudo: false}\n")
    h = read_hosts(p)
    assert h.control_address == "10.0.0.1"
    assert [x.name for x in h.hosts] == ["us-east-1-1", "east-b", "us-west-2-1"]
    a1, a2, b1 = h.hosts
    assert (a1.port, a1.sudo, a1.gtcheck) == (22, False, "gtcheck")  # root needs no sudo
    assert a1.key.endswith("/k") and not a1.key.startswith("~")
    assert (a2.port, a2.sudo) == (2222, True)
    assert b1.region == "us-west-2" and b1.sudo is False
    h.check_covers(["us-east-1", "us-west-2"])
    with pytest.raises(BadInput, match="no host for region.*us-east-2"):
        h.check_covers(["us-east-1", "us-east-2", "us-west-2"])
    with pytest.raises(BadInput, match="us-west-2 are not among"):
        h.check_covers(["us-east-1"])


def test_json_is_accepted(tmp_path):
    p = tmp_path / "hosts.json"
    p.write_text('{"regions": {"r1": [{"address": "x", "user": "u"}]}}')
    assert read_hosts(p).hosts[0].address == "x"


@pytest.mark.parametrize("doc, message", [
    ([], "expected a mapping"),
    ({"regions": {}}, "expected \"regions\""),
    ({"regions": {"r": []}, "x": 1}, "unknown key.*x"),
    ({"regions": {"r": [{"address": "a"}]}}, "host 1: user is required"),
    ({"regions": {"r": [{"address": "a", "user": "u", "prot": 22}]}}, "unknown key.*prot"),
    ({"regions": {"r": [{"address": "a", "user": "u", "port": "22"}]}}, "port must be"),
    ({"regions": {"r": [{"address": "a", "user": "u", "sudo": "yes"}]}}, "sudo must be"),
    ({"regions": {"r": [{"address": "a", "user": "u", "name": "n"},
                        {"address": "b", "user": "u", "name": "n"}]}}, "used twice: n"),
])
def test_bad_documents_name_the_problem(doc, message):
    with pytest.raises(BadInput, match=message):
        parse_hosts(doc, "h.yaml")


def test_cli_bad_hosts_file_is_one_line_and_exit_3(tmp_path):
    p = tmp_path / "hosts.yaml"
    p.write_text("regions: [unclosed\n")
    r = CliRunner().invoke(main, ["run", "--hosts", str(p), "--store", str(tmp_path / "s")])
    assert r.exit_code == 3
    assert "not valid YAML" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "s").exists()  # refused before anything started
    r = CliRunner().invoke(main, ["run", "--hosts", str(tmp_path / "missing.yaml")])
    assert r.exit_code == 3 and "cannot read the hosts file" in r.output
