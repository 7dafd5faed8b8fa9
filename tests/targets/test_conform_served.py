"""`gtcheck conform` against `gtcheck emulator serve` (its default, AWS-like control plane,
at a small scale): it passes on the correct emulator, and with a planted mistake it exits
1 naming the claim broken -- `--bug relay` (A10: a write relayed through a third region
while a link is cut) and `--bug sc-read-no-fence` (M06: an SC read misses a write
acknowledged in another region)."""

import json
import subprocess
import sys

import pytest

from tests.targets.aws_env import aws_env
from tests.targets.served_emulator import ROOT, served_emulator


def conform(state_file, out, endpoint):
    return subprocess.run([sys.executable, "-m", "suite.cli", "conform", "--target",
                           f"endpoints:{state_file}", "--out", str(out)],
                          env=aws_env(endpoint), cwd=ROOT, capture_output=True, text=True,
                          timeout=400)


def verdicts(out):
    return {c["id"]: (c["verdict"], c["evidence"]) for c in
            json.loads((out / "conform.json").read_text())["claims"]}


@pytest.mark.slow
@pytest.mark.parametrize("bug, claim", [("relay", "A10"), ("sc-read-no-fence", "M06"),
                                        (None, None)], ids=["relay", "sc-read-no-fence",
                                                            "correct"])
def test_conform_names_the_planted_mistake_and_passes_without_one(tmp_path, bug, claim):
    args = ("--bug", bug) if bug else ()
    with served_emulator(tmp_path, *args, scale="0.03", seed=51) as emu:
        state = tmp_path / "emulator-51.json"
        p = conform(state, tmp_path / "out", emu["endpoint"])
        v = verdicts(tmp_path / "out")
        if bug is None:
            assert p.returncode == 0, p.stdout + p.stderr
            assert v["A10"][0] == "pass" and v["M06"][0] == "pass", v
            assert "slowed" in v["M06"][1]  # the strong probe ran
            assert not [c for c, (verdict, _) in v.items() if verdict == "fail"], v
        else:
            assert p.returncode == 1, p.stdout + p.stderr
            assert v[claim][0] == "fail", v[claim]
            fails = [c for c, (verdict, _) in v.items() if verdict == "fail"]
            # sc-read-no-fence also makes an isolated region answer SC reads (M10)
            assert claim in fails and set(fails) <= {claim, "M10"}, fails
            assert f"{claim} " in p.stderr and "fail" in p.stderr
