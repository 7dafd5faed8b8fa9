"""Start-up: every `--help` imports none of the heavy parts (boto3, networkx, matplotlib,
the emulator's servers), and `gtcheck --help` lists lazily registered commands with the
same short help their own docstrings give (suite/cli.py `add_lazy_command`). Asserted on
what is imported, not on seconds (bench/bench_startup.py prints the seconds)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from suite.cli import main

HEAVY = ("boto3", "botocore.config", "networkx", "matplotlib", "emulator.deployment",
         "numpy")
PROBE = ("import sys\n"
         "from suite.cli import main\n"
         "sys.argv = ['gtcheck'] + sys.argv[1:]\n"
         "try:\n"
         "    main()\n"
         "except SystemExit as e:\n"
         "    assert e.code == 0, e.code\n"
         "print(sorted(m for m in {heavy!r} if m in sys.modules))\n")


@pytest.mark.parametrize("args", [[], ["run"], ["check"], ["analyze"], ["emulator"],
                                  ["report"], ["serve"], ["validate"], ["test-all"],
                                  ["conform"], ["aws"], ["worker"]])
def test_help_imports_nothing_heavy(args):
    proc = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args,
                           "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Usage:" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout[-500:]


def test_lazy_commands_short_help_is_their_docstrings():
    lazy = dict(main.lazy_short_help)
    assert {"emulator", "report", "serve", "aws", "conform", "worker", "validate",
            "test-all"} <= set(lazy)
    listing = CliRunner().invoke(main, ["--help"]).output
    for name, short in lazy.items():
        assert main.commands[name].get_short_help_str(10_000) == short, name
        assert f"  {name} " in listing


def test_test_all_mode_choices_name_the_battery_s_modes():
    from suite import battery, test_all_cmd
    assert test_all_cmd.MODE_CHOICES == ("async", "strong", battery.BOTH)
