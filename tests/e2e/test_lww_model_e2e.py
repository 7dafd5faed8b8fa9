"""The lww-model checker on real async runs, through the real CLI (`gtcheck run`, boto3
over HTTP against the embedded emulator): valid under faults when the emulator keeps the
async promises (every key explained, none left unknown), and invalid when the emulator
applies replicated writes in arrival order (`lww-arrival-order`, A06) or lets EC reads go
back (`ec-read-goes-back`, A05/G2), the bug switches of emulator/bugs.py."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from suite.cli import main


def run(tmp_path: Path, name: str, *args: str) -> dict:
    res = CliRunner().invoke(main, ["run", "--mode", "async", "--workload", "register",
                                    "--store", str(tmp_path), "--name", name, *args])
    assert res.exit_code in (0, 1), res.output
    (run_dir,) = [d for d in (tmp_path / name).iterdir() if not d.is_symlink()]  # not latest
    return json.loads((run_dir / "results.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("nemesis", ["isolate,link", "clock,pause-replication", "outage"])
def test_lww_model_valid_on_async_runs_under_faults(tmp_path, nemesis):
    r = run(tmp_path, "faults", "--nemesis", nemesis, "--time-limit", "6", "--keys", "3",
            "--seed", "11", "--latency-scale", "1.0", "--nemesis-interval", "1.5")
    m = r["checkers"]["lww-model"]
    assert m["valid"] is True, m
    assert m["keys"] == 3 and m["keys_explained"] == 3 and m["unknown_key_count"] == 0
    assert r["valid"] is True, {k: v.get("valid") for k, v in r["checkers"].items()}


def caught(tmp_path: Path, bug: str, args: list[str], seeds=(7, 8, 9)) -> dict:
    """The lww-model result of the first run (of up to three seeds: whether a bug shows
    depends on timing) where it is invalid, else the last one."""
    for seed in seeds:
        m = run(tmp_path, f"{bug}-{seed}", "--emulator-bug", bug, "--seed", str(seed),
                *args)["checkers"]["lww-model"]
        if m["valid"] is False:
            break
    return m


@pytest.mark.slow
def test_lww_model_catches_lww_arrival_order(tmp_path):
    m = caught(tmp_path, "lww-arrival-order", ["--nemesis", "isolate,link", "--time-limit",
                                               "8", "--keys", "3", "--latency-scale", "1.0"])
    assert m["valid"] is False, m
    a = m["anomalies"][0]
    assert a["kind"] == "no-lww-order" and a["expected"] is False and a["reads"]


@pytest.mark.slow
def test_lww_model_catches_ec_read_goes_back(tmp_path):
    m = caught(tmp_path, "ec-read-goes-back", ["--time-limit", "8", "--keys", "1",
                                               "--rate", "200", "--latency-scale", "10"])
    assert m["valid"] is False, m
    a = m["anomalies"][0]
    assert a["kind"] == "no-lww-order" and a["minimal"] is True
    assert 1 <= len(a["reads"]) <= 4
