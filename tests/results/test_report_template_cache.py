"""The report's templates are compiled once and kept in Jinja's file cache between
processes (results/report/_render.py `bytecode_cache`): the page must be the same with
the cache as without it, and a second process must find the compiled templates there."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.results.fixtures import make_run

RENDER = ("import sys\n"
          "from results.report import _render\n"
          "from results.report import build_report\n"
          "env = _render.environment()\n"
          "if sys.argv[2] == 'off':\n"
          "    env.bytecode_cache = None\n"
          "assert (env.bytecode_cache is None) == (sys.argv[2] == 'off')\n"
          "sys.stdout.write(build_report(sys.argv[1]))\n")


def _render(run_dir: Path, cache: str, tmp: Path) -> str:
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.run([sys.executable, "-c", RENDER, str(run_dir), cache],
                          capture_output=True, text=True, env=env, timeout=300,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_the_page_is_the_same_from_the_cache_and_the_cache_is_used(tmp_path):
    run_dir = make_run(tmp_path / "store", seed=3, mode="strong")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    without = _render(run_dir, "off", tmp)
    assert not list(tmp.glob("_jinja2-cache-*/*.cache"))  # nothing cached when it is off
    first = _render(run_dir, "on", tmp)
    cached = list(tmp.glob("_jinja2-cache-*/*.cache"))
    assert cached, "the compiled templates were not kept"
    stamps = {p: p.stat().st_mtime_ns for p in cached}
    second = _render(run_dir, "on", tmp)
    assert {p: p.stat().st_mtime_ns for p in cached} == stamps  # read, not written again

    def page(html: str) -> str:  # the time it was written is the only difference allowed
        return re.sub(r"\d\d\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC", "TIME", html)
    assert page(first) == page(without) == page(second)
    assert "<html" in first and len(first) > 10_000
