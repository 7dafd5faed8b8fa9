"""`gtcheck check` pays start-up on every file a user checks, and on a small file
start-up is most of its time (issue 23 item 3): the linearizability path imports none of
Elle's checkers. These tests hold the shortcut that decides it (`judged_by_elle_cli`)
equal to the dispatcher it stands in for, and show what the check path imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from checkers.elle import cli_check
from checkers.linearizability.models import MODELS
from results.formats import FORMATS
from suite import check_cmd

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "peer-histories" / "porcupine"


def test_the_shortcut_answers_as_the_elle_dispatcher_does():
    models = [None, *MODELS, *cli_check.MODELS, *cli_check.ALIASES, "no-such-model"]
    formats = [*FORMATS, *cli_check.FORMATS, "elle-json"]
    assert check_cmd.JEPSEN_FORMATS == cli_check.JEPSEN_FORMATS
    for model in models:
        for fmt in formats:
            assert check_cmd.judged_by_elle_cli(model, fmt) == cli_check.handles(model, fmt), \
                (model, fmt)


def _imports_of_a_check(tmp_path: Path, *args: str) -> tuple[str, list[str]]:
    probe = ("import sys\n"
             "from suite.cli import main\n"
             "sys.argv = ['gtcheck', 'check'] + sys.argv[1:]\n"
             "try:\n"
             "    main()\n"
             "except SystemExit as e:\n"
             "    print('exit', e.code)\n"
             "print(sorted(m for m in sys.modules if m.startswith('checkers.elle') "
             "or m.split('.')[0] in ('boto3', 'networkx', 'emulator', 'jinja2')))\n")
    proc = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    lines = proc.stdout.strip().splitlines()
    return "\n".join(lines[:-1]), eval(lines[-1])  # noqa: S307 -- our own probe's list


def test_a_linearizability_check_imports_no_elle_checker(tmp_path):
    history = tmp_path / "h.log"
    history.write_text("INFO  jepsen.util - 0\t:invoke\t:write\t1\n"
                       "INFO  jepsen.util - 0\t:ok\t:write\t1\n"
                       "INFO  jepsen.util - 1\t:invoke\t:read\tnil\n"
                       "INFO  jepsen.util - 1\t:ok\t:read\t2\n")
    out, heavy = _imports_of_a_check(tmp_path, "--model", "cas-register", "--format",
                                     "porcupine-etcd", str(history))
    assert f"{history}\tfalse\t" in out and out.endswith("exit 1"), out  # judged: invalid
    assert heavy == []


def test_a_transactional_check_still_reaches_elle(tmp_path):
    history = tmp_path / "h.edn"
    history.write_text('{:type :invoke, :f :txn, :value [[:append :x 1]], :process 0, '
                       ':index 0}\n{:type :ok, :f :txn, :value [[:append :x 1]], '
                       ':process 0, :index 1}\n'
                       '{:type :invoke, :f :txn, :value [[:r :x nil]], :process 1, '
                       ':index 2}\n{:type :ok, :f :txn, :value [[:r :x [1]]], '
                       ':process 1, :index 3}\n')
    out, heavy = _imports_of_a_check(tmp_path, "--model", "list-append", "--format", "edn",
                                     str(history))
    assert out.endswith("exit 0"), out
    assert "checkers.elle.cli_check" in heavy


def test_reading_pauses_the_collector_and_a_check_leaves_it_as_it_was(tmp_path, monkeypatch):
    import gc
    good = tmp_path / "good.log"
    good.write_text("INFO  jepsen.util - 0\t:invoke\t:write\t1\n"
                    "INFO  jepsen.util - 0\t:ok\t:write\t1\n")
    bad = tmp_path / "bad.log"
    bad.write_text("INFO  jepsen.util - 0\t:invoke\t:read\t3\n")  # a read invoked with 3
    seen = []
    real_load = check_cmd.formats.load

    def load(*a, **k):
        seen.append(gc.isenabled())
        return real_load(*a, **k)
    monkeypatch.setattr(check_cmd.formats, "load", load)
    frozen = []
    real_freeze = gc.freeze
    monkeypatch.setattr(gc, "freeze", lambda: (frozen.append(1), real_freeze()))
    gc.unfreeze()  # as in a fresh `gtcheck check` process: nothing frozen yet
    verdicts = []
    status = check_cmd.check_files([str(good), str(bad)], fmt="porcupine-etcd",
                                   model="cas-register", emit=verdicts.append)
    assert status == 3 and [v.valid for v in verdicts] == [True, None]
    assert "a read must be invoked with nil" in verdicts[1].error
    assert seen == [False, False]  # paused while each file was read
    assert frozen == [1, 1]  # what each read was frozen during its check
    assert gc.isenabled() and gc.get_freeze_count() == 0  # and all as it was after
    # with something frozen already (by another part): left frozen, nothing frozen more
    real_freeze()
    before = gc.get_freeze_count()
    check_cmd.check_files([str(good)], fmt="porcupine-etcd", model="cas-register")
    # (a frozen object freed meanwhile, by this or another thread, lowers the count)
    assert gc.get_freeze_count() <= before and gc.isenabled() and frozen == [1, 1]
    gc.unfreeze()
