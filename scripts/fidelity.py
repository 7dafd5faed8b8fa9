"""Generate docs/fidelity.md: for every behaviour SEMANTICS.md promises, the emulator's
scenario test(s) and their status.

Each claim of the talk that the emulator must reproduce has an ID (G1-G3, A01-A15,
M01-M16; `../shared/SEMANTICS.md`), and `tests/scenarios/test_<ID>_*.py` shows it through
boto3 (docs/CONVENTIONS.md). This script reads the scenario files -- it imports nothing
and runs nothing, it parses them with `ast` -- and writes the table a reader checks the
emulator's fidelity against: ID, the claim in short, the tests, and a status from the
tests' presence and markers (tested; tested by slow tests only; expected to fail (xfail)
or skipped, with the marker's reason; no scenario test).

Which IDs a test covers: the IDs in its file's name and in the head of the file's
docstring (the part before the first colon, e.g. "M06 / M07:" or "A15 / M06-M07:"); a
test function whose own name carries IDs (`test_A14_...`) covers only those.

    python -m scripts.fidelity            # write docs/fidelity.md
    python -m scripts.fidelity --check    # exit 1 if docs/fidelity.md is out of date
    python -m scripts.fidelity --semantics ../shared/SEMANTICS.md
                                          # also check CLAIMS has exactly its IDs

tests/scripts/test_fidelity.py fails when the committed file is out of date. Below the
claims, the API-breadth measurement of scripts/moto_suite.py (docs/moto_suite.json, when
recorded) is rendered as its own section.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "tests" / "scenarios"
OUT = ROOT / "docs" / "fidelity.md"
# The API-breadth measurement `python -m scripts.moto_suite --write` stores (rendered below
# the claims when present).
MOTO_SUITE = ROOT / "docs" / "moto_suite.json"
# Hand-kept: moto tests that expect what AWS does not do (left failing), with what AWS
# documents instead; rendered after the measurement (prose grouped by cause, and one
# entry per test).
MOTO_NOT_AWS = ROOT / "docs" / "moto_not_aws.md"
MOTO_DEPARTURES = ROOT / "docs" / "moto_departures.json"

# The claims in short (SEMANTICS.md has them in full). The IDs are SEMANTICS.md's; the
# testing-practice items T1-T3 are not emulator behaviour and have no scenario test.
CLAIMS: dict[str, str] = {
    "G1": "Active-active: every replica region accepts reads and writes.",
    "G2": "Three copies per region; SC reads go to the leader, EC reads may be stale in-region.",
    "G3": "Regions are far apart and unequal (a latency matrix with a global scale).",
    "A01": "A write is durable and acknowledged in its own region first; an SC read there sees it.",
    "A02": "One replicator per ordered region pair, each its own failure domain.",
    "A03": "An SC read in another region may miss a write acknowledged elsewhere.",
    "A04": "Per item, replicated writes apply in source order; across items, no order.",
    "A05": "Reads of one item never go back in time.",
    "A06": "Last writer wins on (timestamp, origin); all regions converge on the newest.",
    "A07": "Streams show only applied writes; a dropped stale write leaves no record.",
    "A08": "A region outage does not affect the others; on return it catches up.",
    "A09": "A partitioned region stays available on local data; all converge after the heal.",
    "A10": "One broken link A-B: no relay through the third region.",
    "A11": "Transactions are ACID in-region; a remote region can see a torn transaction.",
    "A12": "TTL deletes are supported.",
    "A13": "Replication can be paused (FIS) and catches up on resume.",
    "A14": "Expected anomaly: a multi-writer counter loses increments (ends far below 15).",
    "A15": "Expected anomaly: remote SC reads of a single writer skip values.",
    "M01": "Exactly three participants: three replicas, or two plus a witness.",
    "M02": "The journal is an append-only log; an append succeeds once durable in 2 of 3.",
    "M03": "The journal delivers entries in journal order, not client append order.",
    "M04": "Write path: a conditional, idempotent entry; the origin answers after applying.",
    "M05": "Writes to different items from different regions are applied in one order everywhere.",
    "M06": "An SC read fences and reflects every write acknowledged before it.",
    "M07": "An EC read serves the local copy and may be stale.",
    "M08": "Conflicting writes: first in the journal wins, the other gets "
           "ReplicatedWriteConflictException.",
    "M09": "Applying is idempotent: a replayed entry is never applied twice.",
    "M10": "A fully isolated region serves no writes and no SC reads; the others keep working.",
    "M11": "Losing the nearest region raises write latency in the others.",
    "M12": "One broken link: journal traffic takes the longer route; all stay available.",
    "M13": "All writes to a key are seen in the same order in every region, streams too.",
    "M14": "Not supported: transactions and TTL (ValidationException).",
    "M15": "RPO zero: an acknowledged write survives the loss of any one region.",
    "M16": "Multi-writer counter: 3 x 5 increments end on 15; conflicts are retried.",
}

_ID = re.compile(r"\b([GAM])(\d{1,2})(?:\s*-\s*(?:[GAM])?(\d{1,2}))?\b")
_FN_ID = re.compile(r"_([GAM]\d{1,2})(?=_|$)")


def norm(letter: str, number: int) -> str:
    return f"{letter}{number}" if letter == "G" else f"{letter}{number:02d}"


def ids_in(text: str) -> list[str]:
    """IDs named in `text`, ranges ("M06-M07") expanded, in order, once each."""
    out: list[str] = []
    for letter, a, b in _ID.findall(text):
        lo, hi = int(a), int(b) if b else int(a)
        for n in range(lo, hi + 1):
            i = norm(letter, n)
            if i not in out:
                out.append(i)
    return out


@dataclass
class ScenarioTest:
    file: str
    name: str
    ids: list[str]
    markers: dict[str, str] = field(default_factory=dict)  # marker -> reason ("" if none)


def _markers(decorators: list[ast.expr]) -> dict[str, str]:
    out: dict[str, str] = {}
    for d in decorators:
        call = d if isinstance(d, ast.Call) else None
        target = call.func if call else d
        name = ast.unparse(target)
        if not name.startswith("pytest.mark."):
            continue
        mark = name[len("pytest.mark."):]
        reason = ""
        if call is not None:
            for kw in call.keywords:
                if kw.arg == "reason" and isinstance(kw.value, ast.Constant):
                    reason = str(kw.value.value)
            if mark in ("skip", "xfail") and call.args and isinstance(call.args[0], ast.Constant) \
                    and isinstance(call.args[0].value, str):
                reason = call.args[0].value
        out[mark] = reason
    return out


def _module_markers(tree: ast.Module) -> dict[str, str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            value = node.value
            items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
            return _markers(list(items))
    return {}


def scan(folder: Path = SCENARIOS) -> list[ScenarioTest]:
    """Every test function of `folder`'s test_*.py files with the IDs it covers."""
    found: list[ScenarioTest] = []
    for path in sorted(folder.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        doc = ast.get_docstring(tree) or ""
        head = doc.split(":", 1)[0] if ":" in doc.splitlines()[0] else "" if doc else ""
        file_ids = ids_in(path.stem.replace("_", " ")) + ids_in(head)
        file_ids = list(dict.fromkeys(file_ids))
        module_marks = _module_markers(tree)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                own = list(dict.fromkeys(_FN_ID.findall(node.name)))
                ids = [ids_in(i)[0] for i in own] if own else file_ids
                marks = {**module_marks, **_markers(node.decorator_list)}
                if ids:
                    found.append(ScenarioTest(path.name, node.name, ids, marks))
    return found


def status(tests: list[ScenarioTest]) -> str:
    if not tests:
        return "**no scenario test**"
    plain = [t for t in tests if "xfail" not in t.markers and "skip" not in t.markers]
    if not plain:
        t = tests[0]
        kind = "xfail" if "xfail" in t.markers else "skip"
        word = "expected to fail (xfail)" if kind == "xfail" else "skipped"
        reason = t.markers[kind]
        return f"**{word}**" + (f": {reason}" if reason else "")
    if all("slow" in t.markers for t in plain):
        return "tested (slow tests)"
    return "tested"


def render(tests: list[ScenarioTest]) -> str:
    by_id: dict[str, list[ScenarioTest]] = {i: [] for i in CLAIMS}
    unknown: dict[str, list[ScenarioTest]] = {}
    for t in tests:
        for i in t.ids:
            (by_id if i in by_id else unknown).setdefault(i, []).append(t)
    covered = sum(1 for ts in by_id.values() if ts and status(ts).startswith("tested"))
    lines = [
        "# Emulator fidelity: each promised behaviour and the test that shows it",
        "",
        "Generated by `python -m scripts.fidelity` from `tests/scenarios/` (do not edit by "
        "hand; `tests/scripts/test_fidelity.py` fails when this file is out of date). Each "
        "ID is a claim of `../shared/SEMANTICS.md` (the talk's promises), shortened here; "
        "each test drives the emulator through boto3. Status comes from the tests' "
        "presence and pytest markers: *tested*, *tested (slow tests)* (still run in CI), "
        "*expected to fail (xfail)* or *skipped* (a known gap, with its reason), or *no "
        "scenario test*.",
        "",
        f"{covered} of {len(CLAIMS)} behaviours have a scenario test that runs (neither "
        "skipped nor xfail).",
        "",
        "| ID | Claim | Scenario test(s) | Status |",
        "|---|---|---|---|",
    ]
    for i, claim in CLAIMS.items():
        ts = by_id[i]
        names = "<br>".join(f"`{t.file}::{t.name}`" for t in ts) or "-"
        lines.append(f"| {i} | {claim} | {names} | {status(ts)} |")
    if unknown:
        lines += ["", "Tests naming IDs that SEMANTICS.md does not have:", ""]
        for i, ts in sorted(unknown.items()):
            lines.append(f"- {i}: " + ", ".join(f"`{t.file}::{t.name}`" for t in ts))
    lines += ["", "T1-T3 (SEMANTICS.md's testing practice: every failure state, checking "
              "invariants continuously, traffic to every region) are served by the nemeses, "
              "checkers and workloads, not by emulator scenario tests."]
    lines += moto_suite_section()
    return "\n".join(lines) + "\n"


def moto_suite_section(path: Path = MOTO_SUITE) -> list[str]:
    """The API-breadth measurement (scripts/moto_suite.py) as a section, when recorded."""
    if not path.exists():
        return []
    d = json.loads(path.read_text(encoding="utf-8"))
    share = 100.0 * d["passed"] / d["applicable"] if d["applicable"] else 0.0
    lines = [
        "", "## API breadth: moto's DynamoDB test suite against the emulator", "",
        f"Measured {d['measured']} with `{d['command']}`: moto {d['moto_version']}'s "
        f"`tests/test_dynamodb` ({d['tests']} tests) run in moto's server mode, first "
        f"against moto's own server ({d['passed_on_moto_server']} pass), then against the "
        "emulator's all-regions endpoint. A test applies when it passes against moto's "
        "server, calls the server at least once and calls no AWS service but DynamoDB.",
        "",
        f"**{d['passed']} of {d['applicable']} applicable tests pass ({share:.1f}%).**",
        "", "| Cause of the failures (from the failure text) | Tests |", "|---|---|",
    ]
    for cause, n in sorted(d["failure_causes"].items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"| {cause} | {n} |")
    if MOTO_NOT_AWS.exists():
        lines += ["", MOTO_NOT_AWS.read_text(encoding="utf-8").rstrip("\n")]
    return lines + moto_departures_section()


def moto_departures_section(path: Path = MOTO_DEPARTURES) -> list[str]:
    """moto tests that expect what DynamoDB does not do (docs/moto_departures.json: test id
    -> why, citing the AWS documentation); they stay failing on purpose."""
    if not path.exists():
        return []
    d = json.loads(path.read_text(encoding="utf-8"))
    lines = ["", "moto tests that expect what DynamoDB does not do, left failing on purpose "
             "(the emulator follows the AWS documentation cited):", ""]
    return lines + [f"- `{t}`: {why}" for t, why in sorted(d.items())]


def semantics_ids(path: Path) -> list[str]:
    """The G/A/M IDs SEMANTICS.md defines (its "- ID " bullets)."""
    text = path.read_text(encoding="utf-8")
    return [norm(m.group(1), int(m.group(2)))
            for m in re.finditer(r"^- ([GAM])(\d{1,2}) ", text, flags=re.M)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.fidelity",
                                description="Write docs/fidelity.md from tests/scenarios/.")
    p.add_argument("--check", action="store_true",
                   help="do not write; exit 1 if the file is out of date")
    p.add_argument("--out", type=Path, default=OUT, help="the file to write or check")
    p.add_argument("--semantics", type=Path, default=None,
                   help="SEMANTICS.md to check the claims' IDs against")
    args = p.parse_args(argv)
    if args.semantics is not None:
        if not args.semantics.is_file():
            print(f"fidelity: no such file: {args.semantics}", file=sys.stderr)
            return 3
        theirs, ours = semantics_ids(args.semantics), list(CLAIMS)
        if theirs != ours:
            print(f"fidelity: IDs differ from {args.semantics}: missing here "
                  f"{sorted(set(theirs) - set(ours))}, not there {sorted(set(ours) - set(theirs))}",
                  file=sys.stderr)
            return 1
    text = render(scan())
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"fidelity: {args.out} is out of date: run python -m scripts.fidelity",
                  file=sys.stderr)
            return 1
        print(f"fidelity: {args.out} is up to date")
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"fidelity: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
