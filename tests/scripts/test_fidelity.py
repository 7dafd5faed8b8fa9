"""docs/fidelity.md (scripts/fidelity.py): the committed table is what the scenario tests
say today, and the generator reads IDs, tests and markers the way its docstring says."""

from __future__ import annotations

import textwrap

from scripts import fidelity


def test_the_committed_fidelity_table_is_up_to_date():
    want = fidelity.render(fidelity.scan())
    have = fidelity.OUT.read_text(encoding="utf-8")
    assert have == want, "docs/fidelity.md is out of date: run python -m scripts.fidelity"


def test_every_claim_of_the_talk_has_a_running_scenario_test_today():
    table = fidelity.render(fidelity.scan())
    assert f"{len(fidelity.CLAIMS)} of {len(fidelity.CLAIMS)} behaviours" in table
    for i in ("M02", "M03", "M05"):
        row = next(line for line in table.splitlines() if line.startswith(f"| {i} |"))
        assert f"test_{i}_" in row and row.endswith("| tested |")


def write(folder, name, body):
    (folder / name).write_text(textwrap.dedent(body), encoding="utf-8")


def test_ids_tests_and_markers_are_read_from_the_files(tmp_path):
    write(tmp_path, "test_A01_first.py", '''
        """A01: a write is durable in its region first."""
        def test_one():
            pass
        def helper():
            pass
    ''')
    write(tmp_path, "test_M06_reads.py", '''
        """M06 / M07: SC reads fence; EC reads may be stale (not M08: after the colon)."""
        import pytest
        @pytest.mark.xfail(reason="fence skipped under load")
        def test_fence():
            pass
    ''')
    write(tmp_path, "test_demo.py", '''
        """A15 / M10-M12: a demo."""
        import pytest
        pytestmark = pytest.mark.slow
        def test_A15_only():
            pass
        @pytest.mark.skip("not yet")
        def test_all():
            pass
    ''')
    tests = {t.name: t for t in fidelity.scan(tmp_path)}
    assert set(tests) == {"test_one", "test_fence", "test_A15_only", "test_all"}
    assert tests["test_one"].ids == ["A01"]
    assert tests["test_fence"].ids == ["M06", "M07"]
    assert tests["test_fence"].markers == {"xfail": "fence skipped under load"}
    assert tests["test_A15_only"].ids == ["A15"]
    assert tests["test_all"].ids == ["A15", "M10", "M11", "M12"]
    assert tests["test_all"].markers == {"slow": "", "skip": "not yet"}
    table = fidelity.render(list(tests.values()))
    rows = {line.split(" | ")[0][2:]: line for line in table.splitlines()
            if line.startswith("| ") and not line.startswith("| ID")}
    assert rows["A01"].endswith("| tested |")
    assert rows["M06"].endswith("| **expected to fail (xfail)**: fence skipped under load |")
    assert rows["A15"].endswith("| tested (slow tests) |")
    assert rows["M10"].endswith("| **skipped**: not yet |")
    assert rows["M02"].endswith("| **no scenario test** |")
    assert "1 of 34 behaviours" not in table and "2 of 34 behaviours" in table


def test_check_mode_fails_on_a_stale_file(tmp_path, capsys):
    out = tmp_path / "fidelity.md"
    out.write_text("stale\n", encoding="utf-8")
    assert fidelity.main(["--check", "--out", str(out)]) == 1
    assert fidelity.main(["--out", str(out)]) == 0
    assert fidelity.main(["--check", "--out", str(out)]) == 0
    assert "up to date" in capsys.readouterr().out


def test_semantics_ids_must_match_the_claims(tmp_path):
    good = tmp_path / "SEMANTICS.md"
    good.write_text("".join(f"- {i} claim\n" for i in fidelity.CLAIMS), encoding="utf-8")
    assert fidelity.semantics_ids(good) == list(fidelity.CLAIMS)
    assert fidelity.main(["--check", "--semantics", str(good)]) == 0
    bad = tmp_path / "BAD.md"
    bad.write_text("- A01 only\n- M17 new\n", encoding="utf-8")
    assert fidelity.main(["--check", "--semantics", str(bad)]) == 1
    assert fidelity.main(["--semantics", str(tmp_path / "missing.md")]) == 3
