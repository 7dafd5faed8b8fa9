"""scripts/testbed.sh without root: every name and the subnet derive from the test-bed id
(the default id keeps the names the bed always had, and two ids share nothing), and the
sudoers rules it installs are exact command lines that parse, with no faketime in them.

(Whether sudo then allows exactly those lines was checked by hand on a bed with a
non-default id; bringing a bed up needs root and is never done by the test suite.)"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "testbed.sh"


def run(*args: str, bed_id: str | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    if bed_id is not None:
        env["GTCHECK_TESTBED_ID"] = bed_id
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True,
                          text=True, timeout=30)


def names(bed_id: str | None = None) -> dict[str, str]:
    r = run("names", bed_id=bed_id)
    assert r.returncode == 0, r.stderr
    return dict(kv.split("=", 1) for kv in r.stdout.split())


def test_default_id_keeps_todays_names():
    assert names() == names("0") == {
        "id": "0", "bridge": "gtcktb0", "namespaces": "gtcktb-1,gtcktb-2,gtcktb-3",
        "veths": "gtcktb-h1,gtcktb-h2,gtcktb-h3", "subnet": "10.237.16.0/24",
        "control": "10.237.16.1", "user": "gtcheck-tb",
        "sudoers": "/etc/sudoers.d/gtcheck-testbed", "state": "/run/gtcheck-testbed"}


def test_ids_share_no_name_nor_subnet():
    beds = {i: names(i) for i in ("0", "1", "12", "123", "200")}
    for a in beds:
        for b in beds:
            if a == b:
                continue
            for field in ("bridge", "subnet", "user", "sudoers", "state"):
                assert beds[a][field] != beds[b][field], (a, b, field)
            # `down` finds a bed's namespaces and veths by prefix: no prefix of one bed
            # may select another's
            ns_a = beds[a]["namespaces"].split(",")
            ns_b = beds[b]["namespaces"].split(",")
            assert not set(ns_a) & set(ns_b)
            assert not any(n.startswith(ns_a[0][:-1]) for n in ns_b), (a, b)
    for bed in beds.values():
        assert all(len(n) <= 15 for n in [bed["bridge"], *bed["veths"].split(",")])


@pytest.mark.parametrize("bad", ["201", "-1", "x", "07", "1;id", ""])
def test_bad_ids_are_refused(bad):
    r = run("names", bed_id=bad)
    if bad == "":  # empty: the default
        assert r.returncode == 0
        return
    assert r.returncode == 1
    assert "GTCHECK_TESTBED_ID" in r.stderr


def test_sudoers_rules_are_exact_and_parse(tmp_path):
    r = run("sudoers", bed_id="7")
    assert r.returncode == 0, r.stderr
    rules = [line for line in r.stdout.splitlines() if line and not line.startswith("#")]
    assert rules
    for line in rules:
        user, _, command = line.partition(" ALL=(root) NOPASSWD: ")
        assert user == "gtcheck-tb7" and command
        program, _, args = command.partition(" ")
        assert program.startswith("/") and args, line  # never a program with any arguments
        assert not program.endswith("/faketime"), line  # it runs any command
        assert "*" not in args, line                     # no glob: exact, or an anchored regex
        if args.startswith("^"):
            assert args.endswith("$"), line
    workers = [line for line in rules if " worker " in line or "^worker " in line]
    assert len(workers) == 6  # tb1..tb3, plain and with --faketime
    if shutil.which("visudo"):
        f = tmp_path / "sudoers"
        f.write_text(r.stdout)
        check = subprocess.run(["visudo", "-c", "-f", str(f)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_faketime_offset_rule_matches_what_the_worker_accepts():
    from suite.remote.worker import FAKETIME_OFFSET
    rule = next(line for line in run("sudoers").stdout.splitlines() if "--faketime" in line)
    pattern = rule.split("--faketime ", 1)[1].rstrip("$").replace("\\\\", "\\")
    for offset in ("+0.500s", "-12.25s", "+3600.000s", "+1s"):
        assert FAKETIME_OFFSET.fullmatch(offset)
        assert re.fullmatch(pattern, offset), offset
    for offset in ("+1s;id", "1s", "+1.5", "+1s x"):
        assert not FAKETIME_OFFSET.fullmatch(offset)
        assert not re.fullmatch(pattern, offset), offset
