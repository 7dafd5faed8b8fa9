"""`gtcheck check` as a program ends without freeing the history it read (suite.cli.program,
GtcheckGroup.main's `exit_fast`: issue 23, whole-process time on a million operations).
Ending at once must lose nothing: every verdict line written through a pipe, the exit
status of the files, errors on stderr; and in-process callers (CliRunner) keep an
ordinary exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from suite import check_cmd
from suite.cli import main

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "peer-histories" / "porcupine" / "kv"
PROGRAM = "from suite.cli import program; program()"


def _kv_files() -> list[str]:
    files = sorted(str(p) for p in CORPUS.glob("c*-*.txt"))
    assert files, f"the Porcupine kv corpus is missing under {CORPUS}"
    return files


def test_the_program_writes_every_line_and_its_status_through_a_pipe():
    files = _kv_files()
    proc = subprocess.run([sys.executable, "-c", PROGRAM, "check", "--format", "porcupine-kv",
                           "--model", "kv", *files, "/nonexistent-history"],
                          capture_output=True, text=True, timeout=300)
    lines = proc.stdout.splitlines()
    assert [ln.split("\t")[0] for ln in lines] == files
    want = {f: "false" if f.endswith("-bad.txt") else "true" for f in files}
    assert {ln.split("\t")[0]: ln.split("\t")[1] for ln in lines} == want
    assert proc.returncode == 3  # a file that cannot be read is bad input, and says so
    assert "gtcheck: error: /nonexistent-history: cannot read" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_in_process_callers_get_an_ordinary_exit_and_the_last_history_is_kept():
    files = _kv_files()[:2]
    r = CliRunner().invoke(main, ["check", "--format", "porcupine-kv", "--model", "kv", *files])
    assert r.exit_code in (0, 1), r.output
    assert len(r.output.splitlines()) == 2
    # only the last file's history is kept (the previous one freed before the next read)
    assert len(check_cmd.RETAINED) == 1 and len(check_cmd.RETAINED[0]) > 0
