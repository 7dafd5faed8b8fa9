"""results.edn against `edn_format`, the reference reader, on adversarial but legal EDN
(tests/results/edn_fuzz.py writes it: maps over several lines, several ops a line, one
vector of ops, comments, discards, strings, chars, ratios, bigints, bigdecimals,
`##Inf`, tags and records, sets, CRLF, a BOM, no final newline), read with small
blocks so block boundaries fall inside strings and maps: the same forms of the same
types on the same lines and the same operations, or both refuse. Then the verdict end
to end: `gtcheck check --format edn` on peer-corpus histories rewritten that way gives
the verdict of the file as written, one op a line. And what the library reads otherwise
than Clojure's reader (`#{1 1}`, `07`, `a/b/c`) is refused with one line, never read
differently. scripts/edn_fuzz.py runs the same comparison over more seeds."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from gtcheck.errors import BadInput
from results import edn
from tests.results.edn_fuzz import History, disagreement, reference, same, scramble

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "peer-histories" / "elle" / "histories"
SEEDS_PER_CASE = 12


def small_blocks(monkeypatch, seed: int) -> None:
    rng = random.Random(-1 - seed)
    monkeypatch.setattr(edn, "BLOCK_CHARS", rng.choice([64, 200, 512, 2048, 1 << 16]))
    monkeypatch.setattr(edn, "BLOCK_LINES", rng.choice([1, 3, 7, 50, 20_000]))


@pytest.mark.parametrize("case", range(10))
def test_generated_histories_read_as_the_library_reads_them(case, monkeypatch):
    read = 0
    for seed in range(case * SEEDS_PER_CASE, (case + 1) * SEEDS_PER_CASE):
        small_blocks(monkeypatch, seed)
        h = History(seed)
        text = h.text()
        assert disagreement(h, text) is None, f"seed {seed}"
        try:
            reference(text)
            read += 1
        except Exception:  # noqa: BLE001 -- counted: most must be read
            pass
    assert read >= SEEDS_PER_CASE - 2  # legal EDN: compared by value, not both refused


@pytest.mark.slow
@pytest.mark.parametrize("case", range(10, 50))
def test_more_generated_histories_read_as_the_library_reads_them(case, monkeypatch):
    for seed in range(case * SEEDS_PER_CASE, (case + 1) * SEEDS_PER_CASE):
        small_blocks(monkeypatch, seed)
        h = History(seed)
        assert disagreement(h, h.text()) is None, f"seed {seed}"


def test_every_path_reads_some_of_the_generated_histories(monkeypatch):
    """The comparison reaches each of results.edn's paths, not just the general one:
    the shape path's split, the Jepsen-line path, the regex-to-JSON block path, lines
    read alone beside fast ones, and the general parser over blocks."""
    seen = {"split": 0, "jepsen": 0, "fast": 0, "alone": 0, "general": 0}

    def spy(name, fn, key, method=False):
        def wrapped(*args, **kwargs):
            got = fn(*args, **kwargs)
            seen[key] += got is not None
            return got
        monkeypatch.setattr(edn.Shape if method else edn, name, wrapped)
    spy("columns", edn.Shape.columns, "split", method=True)
    spy("_jepsen_block", edn._jepsen_block, "jepsen")
    spy("_fast_block", edn._fast_block, "fast")
    spy("_form_alone", edn._form_alone, "alone")
    spy("_general_block", edn._general_block, "general")
    for seed in range(3 * SEEDS_PER_CASE):
        small_blocks(monkeypatch, seed)
        h = History(seed)
        assert disagreement(h, h.text()) is None, f"seed {seed}"
    assert all(seen.values()), seen


def test_the_generator_writes_what_it_promises():
    """The comparison above is only as good as what it is fed: the seeds it runs hold
    every adversarial form, and most of their histories make operations."""
    texts = []
    layouts = set()
    for seed in range(10 * SEEDS_PER_CASE):
        h = History(seed)
        texts.append(h.text())
        layouts.add(h.layout)
    everything = "".join(texts)
    for piece in ["\r\n", "\ufeff", "#_", "; ", '\\"', "1/2", "1N", "1.5M", "##Inf",
                  "##NaN", "#inst", "#uuid", "#jepsen.history.Op{", "#{", "\\newline",
                  "\\u0041", "\\{", ":jepsen.nemesis/x", "a.b/c", ",,", "(", "nil",
                  "true", "-17", ":nemesis"]:
        assert piece in everything, piece
    assert layouts == {"lines", "mixed", "wrapped"}
    assert any(not t.endswith("\n") for t in texts)
    assert any(t.lstrip("\ufeff").startswith(("[", "(", ";")) for t in texts)
    assert any("{" in t and any(line.count("{") > line.count("}") for line in
                                t.split("\n")) for t in texts)  # maps over lines
    assert any(max(line.count(":type") for line in t.split("\n")) > 1 for t in texts)
    from results import formats
    made = 0
    for text in texts:
        try:
            made += len(formats.parse_edn(text, source="<t>")[0]) > 0
        except BadInput:
            pass
    assert made >= 0.8 * len(texts)


def test_a_ratio_beside_a_map_over_two_lines_reads(monkeypatch):
    """The defect this began with: a block holding a ratio and a map split over two
    lines was read a line at a time ("'{' is never closed")."""
    lines = [f"{{:type :ok, :f :txn, :value [[:r 1 [1 2]]], :time {i}, :process 0, "
             f":index {i}}}" for i in range(200)]
    lines[50] = "{:type :ok, :f :txn, :value [1/2 3/4], :time 50, :process 0, :index 50}"
    lines[120] = "{:type :ok, :f :txn,\n :value [[:r 1 nil]], :time 120, :process 0, " \
                 ":index 120}"
    text = "\n".join(lines) + "\n"
    for chars in (1 << 16, 300):
        monkeypatch.setattr(edn, "BLOCK_CHARS", chars)
        got = edn.read_forms(text, "<t>")
        assert same([f for f, _ in got], reference(text))
        assert [line for _, line in got] == list(range(1, 122)) + list(range(123, 202))


def test_the_last_lines_forms_all_read_without_a_final_newline(monkeypatch):
    """Found by the fuzzer: when a form ending the block was followed on the file's
    last line (no newline after it) by more forms, they were dropped."""
    monkeypatch.setattr(edn, "BLOCK_CHARS", 64)
    text = "{:a 1\n :b 2}\n{:a [3\n]},, {:a 4} {:a 5}"
    assert edn.read_forms(text, "<t>") == [({"a": 1, "b": 2}, 1), ({"a": [3]}, 3),
                                           ({"a": 4}, 4), ({"a": 5}, 4)]
    assert same([f for f, _ in edn.read_forms(text, "<t>")], reference(text))


@pytest.mark.parametrize("text,values", [
    ('[1N 1.5M -2.25e2M 0x1F ##-Inf "a\\"b\\\\c;" \\newline \\u0041 \\{]',
     None),
    ('#inst "2026-01-01"\n#inst "1985-04-12T23:20:50.52Z"\n'
     '#uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"', None),
    ("{:f :jepsen.nemesis/x, :value a.b/c, :s [- + / nil? truex]}", None),
    ("#{3 1 2}", [[1, 2, 3]]),
])
def test_values_and_their_types_are_the_librarys(text, values):
    got = [f for f, _ in edn.read_forms(text, "<t>")]
    assert same(got, reference(text))
    if values is not None:
        assert got == values


@pytest.mark.parametrize("text,why", [
    ("#{1 1}", "a set with equal elements"),  # Clojure refuses; the library keeps one
    ('#{:a "a"}', "a set with equal elements"),  # equal as plain values
    ("{:index 07, :type :ok}", "not valid EDN"),  # the library: 0 then 7
    ("[:a/b/c]", "not valid EDN"),  # the library: :a/b, then / and c
    ("{:index 0, :time 1, :type :ok, :process 0, :f :a/b/c, :value 1}", "not valid EDN"),
    ("{:index 0, :time 1, :type :ok, :process 0, :f :a/, :value 1}", "not valid EDN"),
    ("[1N2]", "not valid EDN"),
    ("['a]", "not valid EDN"),  # quoting: Clojure's, not EDN
    ("^:m [1]", "not valid EDN"),  # metadata
    ("#:ns{:a 1}", "not valid EDN"),  # a namespaced map
    ("[1 #_]", "not valid EDN"),
    ("[1] #_", "not valid EDN"),
    ("#inst 5", "not valid EDN"),
    # a map tagged #inst or #uuid: the library refuses it (no path reads it as a record)
    ("#inst{:index 0, :time 1, :type :ok, :process 0, :f :r, :value 1}", "#inst of dict"),
    ("{:index 0, :time 1, :type :ok, :process 0, :f :r, :value #uuid{:a 1}}",
     "#uuid of dict"),
    ('#inst "yesterday"', "not valid EDN"),
    ("[1/0]", "divides by zero"),
    ("[%s]" % ("9" * 401), "an integer of 401 digits"),  # past MAX_DIGITS, every path
    ("{:a 1\x0c:b 2}", "not valid EDN"),  # a form feed: no white space to the library
    ('"\\x4g"', "a bad escape"),  # the library fails to decode it
])
def test_what_clojure_and_the_library_read_apart_is_refused_with_one_line(text, why):
    with pytest.raises(BadInput) as e:
        edn.read_forms("{:a 1}\n" + text + "\n", "<t>")
    assert str(e.value).startswith("<t>:2: ") and why in str(e.value)
    assert "\n" not in str(e.value)


def test_a_leading_byte_order_mark_is_the_encodings_not_a_form():
    text = "\ufeff{:a 1}\n{:b 2}\n"
    assert edn.read_forms(text, "<t>") == [({"a": 1}, 1), ({"b": 2}, 2)]
    with pytest.raises(BadInput):
        edn.read_forms("{:a 1}\n\ufeff{:b 2}\n", "<t>")  # elsewhere: not white space


def test_scrambled_jepsen_text_reads_as_the_plain_text():
    """scramble() rewrites a Jepsen-plain history: the library reads the plain text,
    results.edn the scrambled one, and each top-level op is the same (one vector of them
    when the scramble wrapped the history)."""
    plain = "".join(f"{{:type :ok, :f :txn, :value [[:append {i} {i}] [:r {i} [1 {i}]]], "
                    f":time {i}, :process {i % 3}, :index {i}}}\n" for i in range(300))
    want = reference(plain)
    for seed in range(20):
        got = [f for f, _ in edn.read_forms(scramble(plain, seed), "<t>")]
        if len(got) == 1 and type(got[0]) is list:
            got = got[0]
        assert same(got, want), seed


def corpus_file(name: str) -> Path:
    path = CORPUS / name
    if not path.exists():
        pytest.fail(f"peer history {path} not found")
    return path


def verdict(path: Path, model: str) -> tuple[int, dict]:
    """`gtcheck check --format edn --model MODEL --json PATH`: its exit status and
    result, without what differs between two writings of one history (file, times,
    line numbers)."""
    proc = subprocess.run([sys.executable, "-m", "suite.cli", "check", "--format", "edn",
                           "--model", model, "--json", str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1, 2), proc.stderr

    def strip(v):
        if type(v) is dict:
            return {k: strip(x) for k, x in v.items()
                    if k not in ("file", "seconds", "line", "lines")}
        if type(v) is list:
            return [strip(x) for x in v]
        return v
    return proc.returncode, strip(json.loads(proc.stdout))


@pytest.mark.parametrize("name,model", [
    ("elle/list-append-gh-30.edn", "list-append"),
    ("elle/paper-example.edn", "list-append"),
    ("elle/rw-register.edn", "rw-register"),
    ("jepsen/bank.edn", "bank"),
    ("jepsen/set_full.edn", "set-full"),
    ("jepsen/counter.edn", "counter"),
])
def test_the_verdict_on_a_scrambled_history_is_the_plain_ones(name, model, tmp_path):
    path = corpus_file(name)
    status, plain = verdict(path, model)
    assert status in (0, 1)  # a verdict, not a refusal: the comparison means something
    for seed in (1, 2):  # one vector around the ops, then ops one after another
        text = path.read_text()
        odd = scramble(text, seed, wrapped=seed == 1)
        assert odd != text
        assert odd.lstrip("\ufeff").startswith(("[", "(")) == (seed == 1)
        scrambled = tmp_path / f"{seed}.edn"
        scrambled.write_bytes(odd.encode())
        assert verdict(scrambled, model) == (status, plain), seed


def test_a_refused_file_is_one_error_line_and_exit_3(tmp_path):
    path = tmp_path / "h.edn"
    path.write_text("{:type :invoke, :f :add, :value 1, :process 0, :index 0}\n"
                    "{:type :ok, :f :add, :value #{1 1}, :process 0, :index 1}\n")
    proc = subprocess.run([sys.executable, "-m", "suite.cli", "check", "--format", "edn",
                           "--model", "set", str(path)], cwd=REPO, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 3
    lines = proc.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("gtcheck: error: ") \
        and f"{path}:2: a set with equal elements" in lines[0], proc.stderr
