"""`gtcheck run --help` lists workloads, nemeses and emulator bug switches from a static
table (suite/help_choices.py) so that help imports none of the modules that register
them. These tests hold the table equal to the live registry and catalogue, so the help
cannot drift from what a run accepts, and show that the help really is read from it."""

from __future__ import annotations

import subprocess
import sys

import click

from suite import help_choices
from suite.cli import main

REGENERATE = "regenerate the table with `python -m suite.help_choices`"
OPTIONS = {"workload": "WORKLOADS", "nemesis": "NEMESES", "emulator_bugs": "EMULATOR_BUGS"}


def test_the_table_is_what_the_registry_and_the_catalogue_hold():
    live = help_choices.live()
    assert set(live) == set(OPTIONS.values())
    for kind, entries in live.items():
        assert entries, kind  # something was registered: the comparison means something
        assert list(getattr(help_choices, kind)) == entries, f"{kind}: {REGENERATE}"


def test_run_help_lists_exactly_the_registered_names():
    live = help_choices.live()
    run = main.commands["run"]
    ctx = click.Context(run, info_name="run")
    for param in run.params:
        if param.name not in OPTIONS:
            continue
        text = param.get_help_record(ctx)[1]
        # the lead, then every registered name with its description, in order, and
        # nothing else: read the help back entry by entry
        rest = text.removeprefix(param._lead)
        assert rest != text, param.name
        for name, description in live[OPTIONS[param.name]]:
            entry = f" {name} ({description})"
            assert rest.startswith(entry), (param.name, name, rest[:200])
            rest = rest[len(entry):].removeprefix(";")
        assert rest.split("  [default:")[0] == ".", (param.name, rest)


def test_render_round_trips_the_table():
    tables = {k: list(getattr(help_choices, k)) for k in OPTIONS.values()}
    namespace: dict = {}
    exec(help_choices.render(tables), namespace)
    for kind, entries in tables.items():
        assert list(namespace[kind]) == entries


def test_run_help_imports_no_registering_module():
    probe = ("import sys\n"
             "from suite.cli import main\n"
             "sys.argv = ['gtcheck', 'run', '--help']\n"
             "try:\n"
             "    main()\n"
             "except SystemExit as e:\n"
             "    assert e.code == 0, e.code\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('workloads', 'nemesis', 'emulator') or m == 'suite.registry'))\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    listing = " ".join(proc.stdout.split())  # the help, unwrapped
    for entry in ("counter (UpdateItem ADD increments and reads)", "relay (async, breaks A10)",
                  "isolate (cut one region"):
        assert entry in listing, entry
    assert proc.stdout.strip().splitlines()[-1] == "[]"
