"""The gsi-reads checker (checkers/gsi_reads.py) on hand-built histories: GSI reads are
judged as EC reads, on their own, with stale and going-back reads reported as expected
anomalies; the table's checkers never see them."""

from __future__ import annotations

from checkers import mrsc
from checkers.gsi_reads import gsi_reads_check, is_gsi_read, without_gsi_reads
from tests.checkers.build import History, first, kinds


def _gsi(h: History, processes: set[int]) -> list:
    """`h`'s ops, those of `processes` marked as reads through the GSI."""
    return [op.replace(extra={**op.extra, "path": "GSI"}) if op.process in processes else op
            for op in h.ops()]


def test_a_stale_gsi_read_is_reported_never_failed():
    h = (History().write("k", 0, 10, 1, process=0).write("k", 20, 30, 2, process=1)
         .read("k", 40, 50, 1, consistent=False, process=2))
    r = gsi_reads_check({}, _gsi(h, {2}), {})
    assert r["valid"] is True and r["reads"] == 1
    a = first(r, "gsi-stale-read")
    assert a["expected"] is True and "GSI" in a["explanation"]


def test_a_gsi_read_going_back_in_its_region_is_reported_never_failed():
    h = (History().write("k", 0, 10, 1, process=0).write("k", 20, 30, 2, process=1)
         .read("k", 40, 50, 2, consistent=False, process=2)
         .read("k", 60, 70, 1, consistent=False, process=3))
    r = gsi_reads_check({}, _gsi(h, {2, 3}), {})
    assert r["valid"] is True
    assert first(r, "gsi-read-went-back")["expected"] is True
    assert kinds(r)["gsi-stale-read"] == 1


def test_a_gsi_read_of_a_value_never_written_is_a_violation():
    h = History().write("k", 0, 10, 1, process=0).read("k", 20, 30, 7, consistent=False,
                                                       process=1)
    r = gsi_reads_check({}, _gsi(h, {1}), {})
    assert r["valid"] is False
    assert first(r, "unwritten-value")["expected"] is False


def test_no_gsi_read_answered_is_unknown():
    h = History().write("k", 0, 10, 1, process=0).read("k", 20, 30, 1, process=1)
    r = gsi_reads_check({}, h.ops(), {})
    assert r["valid"] == "unknown" and "no read through the GSI" in r["reason"]


def test_table_checkers_judge_the_history_without_gsi_reads():
    """Under MRSC an EC table read going back in its region is a violation (ec-reads);
    an older value through the GSI after it is not: it is no table read."""
    h = (History().write("k", 0, 10, 1, process=0).write("k", 20, 30, 2, process=1)
         .read("k", 40, 50, 2, consistent=False, process=2)
         .read("k", 60, 70, 1, consistent=False, process=3))
    ops = _gsi(h, {3})
    assert mrsc.ec_reads_check({}, h.ops(), {})["valid"] is False  # both table reads
    table = without_gsi_reads(ops)
    assert not any(is_gsi_read(op) for op in table)
    assert len(table) == len(ops) - 2
    assert mrsc.ec_reads_check({}, table, {})["valid"] is True
    assert gsi_reads_check({}, ops, {})["valid"] is True


def test_gsi_reads_on_another_workload_is_refused_on_one_line(tmp_path):
    from click.testing import CliRunner

    from suite.cli import main
    r = CliRunner().invoke(main, ["run", "--workload", "counter", "--gsi-reads", "--store",
                                  str(tmp_path / "store"), "--time-limit", "1"])
    assert r.exit_code == 3, r.output
    assert r.output.strip().splitlines()[-1] == ("gtcheck: error: --gsi-reads applies only to "
                                                 "--workload register, not 'counter'")
    assert "Traceback" not in r.output and not (tmp_path / "store").exists()


def test_the_online_checker_never_sees_gsi_reads():
    """While the run goes (checkers/online.py) the table's checkers are fed without GSI
    reads, as offline: an older value through the GSI after a newer EC table read in the
    region is no violation of ec-reads."""
    from checkers.gsi_reads import table_ops_only
    from checkers.online import OnlineChecker, online_checkers
    h = (History().write("k", 0, 10, 1, process=0).write("k", 20, 30, 2, process=1)
         .read("k", 40, 50, 2, consistent=False, process=2)
         .read("k", 60, 70, 1, consistent=False, process=3))
    cheap, cold = online_checkers("strong", "register")

    def violations(ops, wrap) -> list:
        online = OnlineChecker({"mode": "strong", "workload": "register"}, cheap, cold)
        feed = wrap(online)
        for op in ops:
            feed(op)
        online.close()
        return online.judge_all()
    assert violations(h.ops(), lambda o: o)  # as table reads: going back is a violation
    assert violations(_gsi(h, {3}), table_ops_only) == []
