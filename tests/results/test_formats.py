"""The history readers: Jepsen EDN and Porcupine's etcd and kv logs, into Op records."""

import pytest

from results.formats import FORMATS, load
from suite.errors import BadInput

ETCD = """\
2017-01-01 INFO  jepsen.core - Run starting
INFO  jepsen.util - 0\t:invoke\t:read\tnil
INFO  jepsen.util - 2\t:invoke\t:write\t4
INFO  jepsen.util - 1\t:invoke\t:cas\t[0 3]
INFO  jepsen.util - 0\t:ok\t:read\tnil
INFO  jepsen.util - 1\t:fail\t:cas\t[0 3]
INFO  jepsen.util - 2\t:info\t:write\t:timed-out
INFO  jepsen.util - 3 :invoke :read nil
INFO  jepsen.util - 3 :fail :read :timed-out
INFO  jepsen.util - 4\t:invoke\t:cas\t[4 1]
INFO  jepsen.util - 4\t:ok\t:cas\t[4 1]
INFO  jepsen.util - 0\t:invoke\t:read\tnil
INFO  jepsen.util - 0\t:ok\t:read\t1
INFO  jepsen.checker - something else entirely
"""


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_porcupine_etcd_reads_as_porcupine_does(tmp_path):
    ops = load(write(tmp_path, "e.log", ETCD), "porcupine-etcd")
    got = [(o.process, o.type, o.f, o.value, o.error) for o in ops]
    assert got == [
        (0, "invoke", "read", None, None),
        (2, "invoke", "write", 4, None),
        (1, "invoke", "cas", [0, 3], None),
        (0, "ok", "read", None, None),
        (1, "fail", "cas", [0, 3], None),          # compare did not match
        (2, "info", "write", 4, "timed-out"),      # crashed: keeps the written value
        (3, "invoke", "read", None, None),
        (3, "fail", "read", None, "timed-out"),    # unknown result: constrains nothing
        (4, "invoke", "cas", [4, 1], None),
        (4, "ok", "cas", [4, 1], None),
        (0, "invoke", "read", None, None),
        (0, "ok", "read", 1, None),
    ]
    assert [o.index for o in ops] == list(range(12))
    assert [o.time for o in ops] == list(range(12))  # line order is time


def test_porcupine_etcd_bad_pairing_names_the_line(tmp_path):
    p = write(tmp_path, "e.log", "INFO  jepsen.util - 0\t:ok\t:read\t3\n")
    with pytest.raises(BadInput, match=r"e.log:1: .*without an invocation"):
        load(p, "porcupine-etcd")


def test_porcupine_kv_regex_and_edn_fallback(tmp_path):
    text = ('{:process 9, :type :invoke, :f :append, :key "0", :value "x 9 0 y"}\n'
            '{:process 1, :type :invoke, :f :get, :key "9", :value nil}\n'
            '{:process 9, :type :ok, :f :append, :key "0", :value "x 9 0 y"}\n'
            '{:process 1 :type :ok :f :get :key "9" :value "q\\"uote"}\n')
    ops = load(write(tmp_path, "c.txt", text), "porcupine-kv")
    got = [(o.process, o.type, o.f, o.key, o.value) for o in ops]
    assert got == [(9, "invoke", "append", "0", "x 9 0 y"), (1, "invoke", "get", "9", None),
                   (9, "ok", "append", "0", "x 9 0 y"), (1, "ok", "get", "9", 'q"uote')]


def test_porcupine_kv_errors_name_the_line(tmp_path):
    p = write(tmp_path, "c.txt", '{:process 1, :type :invoke, :f :get, :key "9", :value nil}\n'
                                 '{:process 1, :type :ok, :f :get, :key "9", :value "\n')
    with pytest.raises(BadInput, match=r"c.txt:2: not valid EDN"):
        load(p, "porcupine-kv")
    p = write(tmp_path, "d.txt", '{:process 1, :type :invoke, :f :inc, :key "9"}\n')
    with pytest.raises(BadInput, match=r"d.txt:1: kv :f must be"):
        load(p, "porcupine-kv")


def test_edn_vector_of_maps(tmp_path):
    text = """[{:process 0, :type :invoke, :f :read, :value nil, :time 10}
     {:process 0, :type :ok, :f :read, :value #{2 1}, :time 20}
     {:process :nemesis, :type :info, :f :start, :value [:n1 :n2]}
     {:process :nemesis, :type :info, :f :start, :value "partitioned"}
     {:process 1, :type :invoke, :f :cas, :value [1 2], :index 7}
     {:process 1, :type :fail, :f :cas, :value [1 2], :error :mismatch, :extra-bit 3}]"""
    ops = load(write(tmp_path, "h.edn", text), "edn")
    assert [(o.process, o.type, o.f, o.value) for o in ops] == [
        (0, "invoke", "read", None), (0, "ok", "read", [1, 2]),
        ("nemesis", "invoke", "start", ["n1", "n2"]), ("nemesis", "info", "start", "partitioned"),
        (1, "invoke", "cas", [1, 2]), (1, "fail", "cas", [1, 2])]
    assert ops[0].time == 10 and ops[4].index == 7
    assert ops[5].error == "mismatch" and ops[5].extra == {"extra-bit": 3}


def test_edn_one_map_a_line_with_errors_naming_the_line(tmp_path):
    text = ('{:process 0, :type :invoke, :f :write, :value 3}\n'
            '{:process 0, :type :ok, :f :write, :value 3}\n')
    ops = load(write(tmp_path, "h.edn", text), "edn")
    assert [(o.type, o.value) for o in ops] == [("invoke", 3), ("ok", 3)]
    bad = text + '{:process 0, :type :done, :f :write, :value 3}\n'
    with pytest.raises(BadInput, match=r"h.edn:3: unknown :type 'done'"):
        load(write(tmp_path, "h.edn", bad), "edn")
    broken = text + '{:process 0, :type :ok, :f :write, :value [3}\n'
    with pytest.raises(BadInput, match=r"b.edn:3: not valid EDN"):
        load(write(tmp_path, "b.edn", broken), "edn")
    twice = text + '{:process 0, :type :ok, :f :write, :value 3}\n'
    with pytest.raises(BadInput, match=r"h.edn:3: .*without an invocation"):
        load(write(tmp_path, "h.edn", twice), "edn")


def test_edn_missing_fields_and_not_a_vector(tmp_path):
    with pytest.raises(BadInput, match="missing :type"):
        load(write(tmp_path, "m.edn", "[{:process 0, :f :read}]"), "edn")
    with pytest.raises(BadInput, match="expected a vector or list"):
        load(write(tmp_path, "n.edn", "42"), "edn")


def test_unknown_format_and_missing_file(tmp_path):
    assert FORMATS == ("jsonl", "edn", "porcupine-etcd", "porcupine-kv")
    with pytest.raises(BadInput, match="unknown history format"):
        load(tmp_path / "x", "csv")
    with pytest.raises(BadInput, match="cannot read"):
        load(tmp_path / "nope.log", "porcupine-etcd")


def test_porcupine_etcd_rejects_records_porcupine_could_not_read(tmp_path):
    cases = {"INFO  jepsen.util - 0\t:invoke\t:read\t3\n": "a read must be invoked with nil",
             "INFO  jepsen.util - 0\t:invoke\t:cas\t4\n": r"a cas needs \[old new\]",
             "INFO  jepsen.util - 0\t:invoke\t:write\t1\n"
             "INFO  jepsen.util - 0\t:ok\t:write\t:timed-out\n": "only a fail or info"}
    for i, (text, message) in enumerate(cases.items()):
        with pytest.raises(BadInput, match=rf"e{i}.log:\d: {message}"):
            load(write(tmp_path, f"e{i}.log", text), "porcupine-etcd")


def test_porcupine_kv_fast_path_reads_as_the_edn_reader_does():
    # every line of a real kv log through the regex fast path and through EDN: same ops
    from pathlib import Path

    from results.formats import _edn_op, _edn, parse_porcupine_kv
    corpus = Path(__file__).resolve().parents[3] / "shared" / "peer-histories" / "porcupine"
    lines = (corpus / "kv" / "c10-bad.txt").read_text().splitlines()
    fast, _ = parse_porcupine_kv(lines)
    slow = [_edn_op(_edn().loads(s), None, "t").replace(index=i, time=i)
            for i, s in enumerate(lines)]
    assert len(fast) == len(lines) == 810
    assert fast == slow


def test_whole_text_readers_equal_the_line_readers_on_the_whole_corpus():
    """The one-scan readers `load` uses must give exactly the line readers' ops and line
    numbers on every Porcupine file; odd lines make them defer to the line readers."""
    from pathlib import Path

    from results.formats import (etcd_from_text, kv_from_text, parse_porcupine_etcd,
                                 parse_porcupine_kv)
    corpus = Path(__file__).resolve().parents[3] / "shared" / "peer-histories" / "porcupine"
    files = 0
    for sub, fast, slow in (("jepsen", etcd_from_text, parse_porcupine_etcd),
                            ("kv", kv_from_text, parse_porcupine_kv)):
        for path in sorted((corpus / sub).iterdir()):
            if path.suffix not in (".log", ".txt"):
                continue
            text = path.read_text()
            a, la = fast(text)
            b, lb = slow(text.splitlines())
            assert a == b and list(la) == list(lb), path.name
            files += 1
    assert files == 109
    odd = ('{:process 0, :type :invoke, :f :put, :key "k", :value "x"}\n'
           '{:process 0 :type :ok :f :put :key "k" :value "x"}\n')  # no commas: EDN reader
    a, la = kv_from_text(odd)
    assert [(o.type, o.value) for o in a] == [("invoke", "x"), ("ok", "x")] and list(la) == [1, 2]
    etcd = "INFO  jepsen.util - 1\t:invoke\t:write\t3\r\nINFO  jepsen.util - 1\t:ok\t:write\t3\r\n"
    a, la = etcd_from_text(etcd)
    assert [o.type for o in a] == ["invoke", "ok"] and list(la) == [1, 2]


def test_kv_reader_line_numbers_with_and_without_blank_lines(tmp_path):
    """Every line of the common shape: op i is line i + 1 (no offsets kept); a blank
    line or a last line without its newline changes nothing about the ops, and an error
    still names the right line either way (issue 23's one-pass kv reading)."""
    from results.formats import kv_from_text, parse_porcupine_kv
    lines = ['{:process 0, :type :invoke, :f :put, :key "k", :value "x"}',
             '{:process 0, :type :ok, :f :put, :key "k", :value "x"}',
             '{:process 1, :type :invoke, :f :get, :key "k", :value nil}',
             '{:process 1, :type :ok, :f :get, :key "k", :value "x"}']
    plain = "\n".join(lines) + "\n"
    for text in (plain, plain[:-1], "\n".join(lines[:2] + [""] + lines[2:]) + "\n"):
        ops, at = kv_from_text(text)
        ref, ref_at = parse_porcupine_kv(text.splitlines())
        assert ops == ref and list(at) == list(ref_at)
        assert [o.value for o in ops] == ["x", "x", None, "x"]
    assert list(kv_from_text(plain)[1]) == [1, 2, 3, 4]
    # a completion with no invocation, on line 2 (all lines of the shape) or line 3
    # (after a blank line): the error names that line
    bad = [lines[0].replace(":process 0", ":process 5")] + lines[1:]
    for text, line in (("\n".join(bad) + "\n", 2),
                       ("\n".join(bad[:1] + [""] + bad[1:]) + "\n", 3)):
        path = tmp_path / "bad.txt"
        path.write_text(text)
        with pytest.raises(BadInput, match=rf"bad\.txt:{line}:"):
            load(path, "porcupine-kv")
