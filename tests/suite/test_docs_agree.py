"""Issue 25, finding 15: the docs say what the code does. README's `--model` row and
`gtcheck check --help` say the same about every model, and name every model `--model`
accepts; emulator/README's bug table lists every bug switch."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from emulator.bugs import CATALOGUE
from suite.check_cmd import model_names
from suite.cli import MODEL_HELP, main

ROOT = Path(__file__).resolve().parents[2]


def words(text: str) -> str:
    return " ".join(text.replace("`", "").split())


def test_readme_and_check_help_say_the_same_about_every_model():
    row = next(line for line in (ROOT / "README.md").read_text().splitlines()
               if line.startswith("| `--model M` |"))
    cell = row.split("|")[3]
    assert words(cell) == words(MODEL_HELP)
    help_text = words(CliRunner().invoke(main, ["check", "--help"]).output)
    assert words(MODEL_HELP).replace("- ", "-") in help_text.replace("- ", "-")
    for name in model_names():
        assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", MODEL_HELP), name


def test_the_emulator_readme_lists_every_bug_switch():
    text = (ROOT / "emulator" / "README.md").read_text()
    rows = {m.group(1): m.group(2) for m in
            re.finditer(r"^\| `([a-z-]+)` \| (async|strong) \|", text, re.M)}
    assert rows == {b.name: b.mode for b in CATALOGUE.values()}
