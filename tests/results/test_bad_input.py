"""Garbage is never VALID and never a traceback (issue 19): every format, through the
real CLI (`gtcheck check`, click's CliRunner), answers a malformed file with exit 3 and
one line `gtcheck: error: FILE...: ...` naming the file (and the line where there is
one); a file with nothing the chosen check can judge is unknown (exit 2), not VALID."""

import json

import pytest
from click.testing import CliRunner

from suite.cli import main

BIG = "1" * 5000  # past Python's int-string limit (4,300 digits)
DEEP = 100_000    # nesting that a recursive reader cannot survive


def jsonl(*ops):
    return "\n".join(json.dumps(o) if isinstance(o, dict) else o for o in ops) + "\n"


def op(i, typ, process=0, f="write", value=1, **kw):
    return {"index": i, "time": i, "type": typ, "process": process, "f": f, "key": "k",
            "value": value, **kw}


W_INV, W_OK = op(0, "invoke"), op(1, "ok")
EDN_OK = ('{:index 0 :process 0 :type :invoke :f :write :value 1}\n'
          '{:index 1 :process 0 :type :ok :f :write :value 1}\n')


def la(*ops):
    """elle-json list-append history text."""
    return json.dumps(list(ops))


def txn(i, typ, process=0, value=None):
    return {"index": i, "process": process, "type": typ,
            "value": value if value is not None else [["append", "x", i]]}


KV = '{:process 0, :type :invoke, :f :put, :key "a", :value "1"}\n'

# (id, --format, --model, file text or "/dev/zero", a word the message must hold)
BAD = [
    # gtcheck JSONL
    ("jsonl-5000-digits", "jsonl", "register",
     '{"index": 0, "time": 0, "type": "invoke", "process": 0, "f": "write", "key": "k", '
     f'"value": {BIG}}}\n', ":1:"),
    ("jsonl-deep", "jsonl", "register", "[" * DEEP + "]" * DEEP + "\n", ":1:"),
    ("jsonl-process-list", "jsonl", "register", jsonl(op(0, "invoke", process=[1])), ":1:"),
    ("jsonl-key-object", "jsonl", "register",
     jsonl({**W_INV, "key": {"a": 1}}, {**W_OK, "key": {"a": 1}}), ":1:"),
    ("jsonl-index-string", "jsonl", "register", jsonl({**W_INV, "index": "0"}), ":1:"),
    ("jsonl-time-nan", "jsonl", "register",
     '{"index": 0, "time": NaN, "type": "invoke", "process": 0, "f": "write", '
     '"key": "k", "value": 1}\n', ":1:"),
    ("jsonl-double-invoke", "jsonl", "register", jsonl(W_INV, op(1, "invoke")), ":2:"),
    ("jsonl-no-invoke", "jsonl", "register", jsonl(W_OK), ":1:"),
    ("jsonl-crash-type", "jsonl", "register", jsonl(W_INV, op(1, "crash")), ":2:"),
    ("jsonl-empty", "jsonl", "register", "", "no operations"),
    ("jsonl-dev-zero", "jsonl", "register", "/dev/zero", "NUL"),
    ("jsonl-not-utf8", "jsonl", "register", b"\xff\xfe{}\n", "UTF-8"),
    ("jsonl-list-append-empty", "jsonl", "list-append", "", "no operations"),
    # Jepsen EDN
    ("edn-5000-digits", "edn", "register",
     "{:index 0 :process 0 :type :invoke :f :write :value " + BIG + "}\n", ":1:"),
    ("edn-5000-digit-process", "edn", "register",
     "{:index 0 :process " + BIG + " :type :invoke :f :write :value 1}\n", ":1:"),
    ("edn-deep", "edn", "register", "[" * DEEP + "]" * DEEP + "\n", ":1:"),
    ("edn-deep-value", "edn", "register",
     "{:index 0 :process 0 :type :invoke :f :write :value " + "[" * DEEP + "]" * DEEP
     + "}\n", ":1:"),
    ("edn-process-list", "edn", "register",
     "{:index 0 :process [0] :type :invoke :f :write :value 1}\n", ":1:"),
    ("edn-key-map", "edn", "register",
     "{:index 0 :process 0 :type :invoke :f :write :key {:a 1} :value 1}\n", ":1:"),
    ("edn-index-string", "edn", "register",
     '{:index "0" :process 0 :type :invoke :f :write :value 1}\n', ":1:"),
    ("edn-double-invoke", "edn", "register",
     EDN_OK.splitlines()[0] + "\n{:index 1 :process 0 :type :invoke :f :write :value 2}\n",
     ":2:"),
    ("edn-no-invoke", "edn", "register", EDN_OK.splitlines()[1] + "\n", ":1:"),
    ("edn-crash-type", "edn", "register",
     EDN_OK.splitlines()[0] + "\n{:index 1 :process 0 :type :crash :f :write :value 1}\n",
     ":2:"),
    ("edn-unclosed", "edn", "register", EDN_OK + "{:index 2 :process 0\n", ":3:"),
    ("edn-empty", "edn", "register", "", "no operations"),
    ("edn-dev-zero", "edn", "register", "/dev/zero", "NUL"),
    ("edn-list-append-empty", "edn", "list-append", "", "no operations"),
    ("edn-list-append-deep", "edn", "list-append",
     "{:index 0 :process 0 :type :invoke :value " + "[" * DEEP + "]" * DEEP + "}\n", ":1:"),
    ("edn-list-append-key-map", "edn", "list-append",
     "{:index 0 :process 0 :type :invoke :value [[:append {:a 1} 1]]}\n"
     "{:index 1 :process 0 :type :ok :value [[:append {:a 1} 1]]}\n", ":2:"),
    ("edn-list-append-double-invoke", "edn", "list-append",
     "{:index 0 :process 0 :type :invoke :value [[:append 1 1]]}\n"
     "{:index 1 :process 0 :type :invoke :value [[:append 1 2]]}\n", ":2:"),
    # elle-cli JSON
    ("elle-json-5000-digits", "elle-json", "list-append",
     '[{"index": 0, "process": 0, "type": "invoke", "value": [["append", "x", ' + BIG
     + ']]}]', "digits"),
    ("elle-json-deep", "elle-json", "list-append", "[" * DEEP + "]" * DEEP, "nested"),
    ("elle-json-process-list", "elle-json", "list-append",
     la({**txn(0, "invoke"), "process": [0]}), "process"),
    ("elle-json-key-object", "elle-json", "list-append",
     la(txn(0, "invoke", value=[["append", {"a": 1}, 1]]),
        txn(1, "ok", value=[["append", {"a": 1}, 1]])), "op 2"),
    ("elle-json-index-string", "elle-json", "list-append",
     la({**txn(0, "invoke"), "index": "0"}), "index"),
    ("elle-json-index-nan", "elle-json", "list-append",
     '[{"index": NaN, "process": 0, "type": "invoke", "value": [["append", "x", 1]]}]',
     "NaN"),
    ("elle-json-double-invoke", "elle-json", "list-append",
     la(txn(0, "invoke"), txn(1, "invoke")), "double invoke"),
    ("elle-json-no-invoke", "elle-json", "list-append", la(txn(0, "ok")),
     "without an invocation"),
    ("elle-json-crash-type", "elle-json", "list-append",
     la(txn(0, "invoke"), txn(1, "crash")), "crash"),
    ("elle-json-append-list", "elle-json", "list-append",
     la(txn(0, "invoke", value=[["append", "x", [[1]]]]),
        txn(1, "ok", value=[["append", "x", [[1]]]])), "op 2"),
    ("elle-json-empty", "elle-json", "list-append", "[]", "no operations"),
    ("elle-json-dev-zero", "elle-json", "list-append", "/dev/zero", "NUL"),
    ("elle-json-rw-register-empty", "elle-json", "rw-register", "[]", "no operations"),
    # bank and Jepsen's checkers: a counter history is missing what they need
    ("bank-non-numeric-balance", "edn", "bank",
     "{:index 0 :process 0 :type :invoke :f :read :value nil}\n"
     '{:index 1 :process 0 :type :ok :f :read :value {0 "ten" 1 10}}\n', "not a number"),
    ("bank-on-counter", "edn", "bank",
     "{:index 0 :process 0 :type :invoke :f :add :value 1}\n"
     "{:index 1 :process 0 :type :ok :f :add :value 1}\n", ":read"),
    ("long-fork-on-counter", "edn", "long-fork",
     "{:index 0 :process 0 :type :invoke :f :add :value 1}\n"
     "{:index 1 :process 0 :type :ok :f :add :value 1}\n", "read transactions"),
    ("counter-on-bank", "elle-json", "counter",
     json.dumps([{"index": 0, "process": 0, "type": "invoke", "f": "transfer",
                  "value": {"from": 0, "to": 1, "amount": 1}},
                 {"index": 1, "process": 0, "type": "ok", "f": "transfer",
                  "value": {"from": 0, "to": 1, "amount": 1}}]), ":add"),
    # Porcupine's logs
    ("etcd-5000-digits", "porcupine-etcd", "cas-register",
     f"INFO  jepsen.util - 0 :invoke :write {BIG}\n", "no operations"),
    ("etcd-double-invoke", "porcupine-etcd", "cas-register",
     "INFO  jepsen.util - 0 :invoke :write 1\nINFO  jepsen.util - 0 :invoke :write 2\n",
     ":2:"),
    ("etcd-no-invoke", "porcupine-etcd", "cas-register",
     "INFO  jepsen.util - 0 :ok :write 1\n", ":1:"),
    ("etcd-dev-zero", "porcupine-etcd", "cas-register", "/dev/zero", "NUL"),
    ("kv-5000-digits", "porcupine-kv", "kv",
     '{:process ' + BIG + ', :type :invoke, :f :put, :key "a", :value "1"}\n', ":1:"),
    ("kv-deep", "porcupine-kv", "kv",
     '{:process 0, :type :invoke, :f :put, :key "a", :value ' + "[" * DEEP + "]" * DEEP
     + "}\n", ":1:"),
    ("kv-process-list", "porcupine-kv", "kv",
     '{:process [0], :type :invoke, :f :put, :key "a", :value "1"}\n', ":1:"),
    ("kv-key-map", "porcupine-kv", "kv",
     '{:process 0, :type :invoke, :f :put, :key {:a 1}, :value "1"}\n', ":1:"),
    ("kv-append-integer", "porcupine-kv", "kv",
     KV + '{:process 0, :type :ok, :f :put, :key "a", :value "1"}\n'
     '{:process 0, :type :invoke, :f :append, :key "a", :value 5}\n', ":3:"),
    ("kv-double-invoke", "porcupine-kv", "kv", KV + KV, ":2:"),
    ("kv-no-invoke", "porcupine-kv", "kv",
     '{:process 0, :type :ok, :f :put, :key "a", :value "1"}\n', ":1:"),
    ("kv-dev-zero", "porcupine-kv", "kv", "/dev/zero", "NUL"),
]


def write(tmp_path, name, text):
    if text == "/dev/zero":
        return "/dev/zero"
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return str(p)


def run(*args):
    return CliRunner().invoke(main, ["check", *args])


@pytest.mark.parametrize("name,fmt,model,text,word", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_naming_the_file_exit_3(tmp_path, name, fmt, model, text, word):
    path = write(tmp_path, f"{name}.txt", text)
    r = run("--format", fmt, "--model", model, path)
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output
    assert r.exit_code == 3, r.output[:500]
    lines = r.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"gtcheck: error: {path}"), lines[0][:300]
    assert word in lines[0], lines[0][:300]
    assert len(lines[0]) < 400  # one readable line, never the garbage itself
    assert "\ttrue\t" not in r.stdout


# A file with nothing the chosen check can judge: unknown (exit 2), never VALID
NEMESIS_ONLY = [op(0, "invoke", process="nemesis", f="isolate", value={"region": "a"}),
                op(1, "info", process="nemesis", f="isolate", value={"region": "a"})]
EC_ONLY = [op(0, "invoke", f="read", value=None, consistent=False),
           op(1, "ok", f="read", value=1, consistent=False)]
NOTHING = [
    ("jsonl-nemesis-only", "jsonl", "register", jsonl(*NEMESIS_ONLY)),
    ("jsonl-nemesis-only-no-model", "jsonl", None, jsonl(*NEMESIS_ONLY)),
    ("jsonl-ec-reads-only", "jsonl", "register", jsonl(*EC_ONLY)),
    ("edn-nemesis-only", "edn", "register",
     "{:index 0 :process :nemesis :type :info :f :start :value nil}\n"
     "{:index 1 :process :nemesis :type :info :f :start :value nil}\n"),
    ("edn-list-append-nemesis-only", "edn", "list-append",
     "{:index 0 :process :nemesis :type :info :f :start :value nil}\n"
     "{:index 1 :process :nemesis :type :info :f :start :value nil}\n"),
    ("elle-json-nemesis-only", "elle-json", "rw-register",
     json.dumps([{"index": 0, "process": "nemesis", "type": "info", "f": "start"},
                 {"index": 1, "process": "nemesis", "type": "info", "f": "start"}])),
]


@pytest.mark.parametrize("name,fmt,model,text", NOTHING, ids=[n[0] for n in NOTHING])
def test_nothing_to_check_is_unknown_not_valid(tmp_path, name, fmt, model, text):
    path = write(tmp_path, f"{name}.txt", text)
    r = run("--format", fmt, *(["--model", model] if model else []), path)
    assert "Traceback" not in r.output
    assert r.exit_code == 2, r.output
    assert "\tunknown\t" in r.stdout
    assert "nothing to check" in r.stderr


# --- mutated real histories: whatever the damage, an answer and never a traceback ------

PEERS = __import__("pathlib").Path(__file__).resolve().parents[2].parent / "shared" / \
    "peer-histories"


def _head(path, n):
    return "".join((PEERS / path).read_text().splitlines(True)[:n])


def _seeds():
    reg = jsonl(*[op(2 * i + j, ("invoke", "ok")[j], process=i % 2,
                     f="write" if i % 2 == 0 else "read",
                     value=(i if i % 2 == 0 else (None if j == 0 else i - 1)),
                     consistent=True) for i in range(6) for j in (0, 1)])
    return [
        ("jsonl", ["--model", "register"], reg), ("jsonl", ["--mode", "strong"], reg),
        ("edn", ["--model", "list-append"], _head("elle/histories/elle/paper-example.edn", 12)),
        ("elle-json", ["--model", "rw-register"], (PEERS / "elle/test/test-data/"
                                                   "rw-register-anomaly-g-single-item.json"
                                                   ).read_text()),
        ("porcupine-etcd", ["--model", "cas-register"], _head("porcupine/jepsen/etcd_000.log",
                                                              40)),
        ("porcupine-kv", ["--model", "kv"],
         _head(f"porcupine/kv/{sorted(p.name for p in (PEERS / 'porcupine/kv').iterdir())[0]}",
               20)),
        ("edn", ["--model", "bank"], _head("elle/histories/jepsen/bank.edn", 20)),
        ("edn", ["--model", "counter"], _head("elle/histories/jepsen/counter.edn", 20)),
    ]


GARBAGE = [BIG, "[" * 3000 + "]" * 3000, "{}", '"x"', "NaN", "nil", "null", "-1", "1.5",
           "[1]", ":kw", "true", "{:a 1}", '{"a": 1}', "1e400", "9" * 25, "#{1 2}", "[]",
           '"', "}", "(", ":nemesis"]
TOKEN = __import__("re").compile(r'-?\d+|:[a-z-]+|"[^"\n]*"|nil|null|true|false')


def _mutate(rng, text):
    lines = text.splitlines(True)
    k = rng.randrange(5)
    if k == 0 and lines:
        del lines[rng.randrange(len(lines))]
        return "".join(lines)
    if k == 1 and lines:
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
        return "".join(lines)
    if k == 2:
        return text[:rng.randrange(len(text) + 1)]
    toks = list(TOKEN.finditer(text))
    m = rng.choice(toks)
    return text[:m.start()] + rng.choice(GARBAGE) + text[m.end():]


@pytest.mark.slow
def test_mutated_histories_never_traceback(tmp_path):
    import random
    rng = random.Random(19)
    seeds = _seeds()
    for i in range(400):
        fmt, args, text = seeds[i % len(seeds)]
        damaged = _mutate(rng, _mutate(rng, text))
        path = tmp_path / f"m{i}.txt"
        path.write_text(damaged)
        r = run("--format", fmt, *args, str(path))
        assert r.exception is None or isinstance(r.exception, SystemExit), \
            (i, fmt, repr(r.exception), damaged[:300])
        assert r.exit_code in (0, 1, 2, 3)
        if r.exit_code == 3:
            (line,) = r.stderr.splitlines()
            assert line.startswith(f"gtcheck: error: {path}") and len(line) < 400, line


# --- --timeout bounds reading and parsing too --------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("model", ["register", "list-append"])
def test_timeout_bounds_reading_a_big_edn_file(tmp_path, model):
    line = ("{:index %d, :time %d, :type :invoke, :process 0, :f :write, :value 1}\n"
            "{:index %d, :time %d, :type :ok, :process 0, :f :write, :value 1}\n")
    if model == "list-append":
        line = ("{:index %d, :time %d, :type :invoke, :process 0, :f :txn, "
                ":value [[:append 1 1] [:r 2 nil]]}\n"
                "{:index %d, :time %d, :type :ok, :process 0, :f :txn, "
                ":value [[:append 1 1] [:r 2 [1 2 3]]]}\n")
    path = tmp_path / "big.edn"
    with open(path, "w") as fh:  # 400,000 operations: far more than 0.05 s of reading
        for i in range(200_000):
            fh.write(line % (2 * i, 2 * i, 2 * i + 1, 2 * i + 1))
    r = run("--format", "edn", "--model", model, "--timeout", "0.05", "--json", str(path))
    assert r.exit_code == 2, r.output[:500]
    result = json.loads(r.stdout)
    assert result["valid"] == "unknown" and result["result"]["reason"] == "timeout"


# --- gtcheck analyze: the same rules on a stored run's history -------------------------

def _run_dir(tmp_path, history):
    from suite.config import Test
    d = tmp_path / "run"
    d.mkdir()
    (d / "test.json").write_text(json.dumps(Test(mode="strong", workload="register")
                                            .to_json()))
    h = d / "history.jsonl"
    if history == "/dev/zero":
        h.symlink_to("/dev/zero")
    else:
        h.write_text(history)
    return d


@pytest.mark.parametrize("name,history", [
    ("dev-zero", "/dev/zero"),
    ("5000-digits", BAD[0][3]),
    ("key-object", jsonl({**W_INV, "key": {"a": 1}})),
    ("no-invoke", jsonl(W_OK)),
])
def test_analyze_bad_history_is_one_line_exit_3(tmp_path, name, history):
    d = _run_dir(tmp_path, history)
    r = CliRunner().invoke(main, ["analyze", str(d)])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code == 3, r.output[:300]
    (line,) = r.stderr.splitlines()
    assert line.startswith("gtcheck: error: ") and "history.jsonl" in line


def test_analyze_nemesis_only_history_is_not_valid(tmp_path):
    d = _run_dir(tmp_path, jsonl(*NEMESIS_ONLY))
    r = CliRunner().invoke(main, ["analyze", str(d)])
    assert r.exit_code == 2, r.output[-500:]
