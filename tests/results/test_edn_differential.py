"""results.edn against the EDN library it replaced (`edn_format`): the same values, form
for form, on generated Jepsen histories and on every EDN file of the peer corpus
(../shared/peer-histories/elle), and the same operations out of results.formats.

The fast path (issue 23: a block's op lines split around their values, `Shape.columns`)
reads only plain op lines; everything else falls back: lines with strings, sets, tags,
comments or a form over several lines are read alone or by the line paths (our own
parser reads every form the library reads, ratios too). The tests count which path
read what, so they show both that the fast path did the plain blocks and that the odd
lines went elsewhere, and still agree with the library. Blocks are made small
(BLOCK_CHARS) so a few thousand lines are many blocks. One seed per case."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from gtcheck.errors import BadInput
from results import edn, formats
from tests.results.edn_fuzz import reference

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "peer-histories" / "elle"
CORPUS_FILES = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.edn")) \
    if CORPUS.exists() else []

# key orders: the bench's (value last), Jepsen's own (value in the middle), with :error
ORDERS = [("index", "time", "type", "process", "f", "value"),
          ("type", "f", "value", "time", "process", "index"),
          ("type", "f", "value", "time", "process", "error", "index")]


def library_forms(text: str) -> list:
    """Every top-level form by edn_format, as plain values (tests.results.edn_fuzz's
    reference reader: records read as maps, CRLF line ends as newlines)."""
    return reference(text)


def mops(rng: random.Random, done: bool) -> str:
    """A list-append transaction's micro-ops, printed as Jepsen does."""
    out = []
    for _ in range(rng.randint(1, 4)):
        k = rng.randrange(300, 320)  # keys past the small-int cache
        if rng.random() < 0.5:
            out.append(f"[:append {k} {rng.randrange(1, 40)}]")
        elif done:
            out.append(f"[:r {k} [{' '.join(map(str, range(1, rng.randrange(12))))}]]")
        else:
            out.append(f"[:r {k} nil]")
    return "[" + " ".join(out) + "]"


def op_line(rng: random.Random, keys: tuple[str, ...], i: int) -> str:
    typ = rng.choice([":invoke", ":ok", ":fail", ":info"])
    fields = {"index": str(i), "time": str(1000 * i),
              "type": typ, "process": str(rng.randrange(5)), "f": ":txn",
              "value": mops(rng, typ == ":ok"), "error": ":timeout"}
    return "{" + ", ".join(f":{k} {fields[k]}" for k in keys) + "}"


# lines the fast path leaves to the others: each a form of its own, as Jepsen writes
ODD_LINES = [
    '{:type :info, :f :start-partition, :value [:isolated {"n1" #{"n2" "n3"}}], '
    ':process :nemesis, :time 5, :index 7}',
    "; a comment line",
    "",
    '{:type :fail, :f :txn, :value [[:append 301 1]], :time 9, :process 1, '
    ':error "a \\"quoted\\" error", :index 8}',
    "{:type :ok, :f :txn, :value #{1 2 3}, :time 10, :process 2, :index 9}",
    "#jepsen.history.Op{:type :ok, :f :txn, :value [[:r 302 [1 2]]], :time 11, "
    ":process 3, :index 10}",
    # a value holding a separator's text: `, :time 2` then `}`, not `, :process`
    "{:type :ok, :f :txn, :value {:a 1, :time 2}, :time 12, :process 4, :index 11}",
    "{:type :ok, :f :nil-x, :value [[:r 303 null]], :time 13, :process 0, :index 12}",
    "{:type :ok, :f :txn,\n :value [[:append 304 2]], :time 15, :process 2, :index 14}",
]
# a ratio: no JSON path reads it, the general parser does (also in a block holding a
# form over two lines: once read a line at a time by edn_format, which refused that form)
RATIO_LINE = "{:type :ok, :f :txn, :value [1/2 -0.25 1e5], :time 14, :process 1, :index 13}"


def history(rng: random.Random, n: int, keys: tuple[str, ...], odd: float = 0.0,
            crlf: bool = False, odd_lines: list[str] = ODD_LINES) -> str:
    lines = [rng.choice(odd_lines) if rng.random() < odd else op_line(rng, keys, i)
             for i in range(n)]
    return ("\r\n" if crlf else "\n").join(lines) + "\n"


@pytest.fixture
def paths(monkeypatch):
    """Small blocks, and a count of which path read what: `split` blocks the fast path
    read, `line_blocks` blocks declined to the line paths, `alone` lines read alone by
    the general parser (`learn`: a line a shape is learned from), `general` the general
    parser over a block's text."""
    monkeypatch.setattr(edn, "BLOCK_CHARS", 2048)
    seen: Counter = Counter()
    columns, line_blocks = edn.Shape.columns, edn._line_blocks
    general = edn._general

    def spy_columns(self, joined, n):
        got = columns(self, joined, n)
        seen["split"] += got is not None
        return got

    def spy_line_blocks(*args, **kwargs):
        seen["line_blocks"] += 1
        return (yield from line_blocks(*args, **kwargs))

    def spy_general(text, offset, line, source, deadline):
        seen["learn" if source == "<shape>" else "alone" if offset == 0 and
             "\n" not in text else "general"] += 1
        return general(text, offset, line, source, deadline)

    monkeypatch.setattr(edn.Shape, "columns", spy_columns)
    monkeypatch.setattr(edn, "_line_blocks", spy_line_blocks)
    monkeypatch.setattr(edn, "_general", spy_general)
    return seen


def blocks_of(text: str) -> int:
    """How many blocks iter_pieces cuts text into (each to the end of the line
    BLOCK_CHARS on)."""
    pos, count = 0, 0
    while pos < len(text):
        end = text.find("\n", pos + edn.BLOCK_CHARS)
        pos, count = (len(text) if end == -1 else end + 1), count + 1
    return count


@pytest.mark.parametrize("order", range(len(ORDERS)))
def test_plain_histories_are_read_by_the_fast_path_alone_as_the_library_reads_them(
        order, paths):
    rng = random.Random(order)
    text = history(rng, 1500, ORDERS[order])
    got = edn.read_forms(text, "<t>")
    assert [f for f, _ in got] == library_forms(text)
    assert [line for _, line in got] == list(range(1, 1501))
    # every block by the split, none declined, no line read alone, no general parse
    assert paths["split"] == blocks_of(text) > 10
    assert paths["line_blocks"] == paths["alone"] == paths["general"] == 0


@pytest.mark.parametrize("seed", range(6))
def test_odd_lines_fall_back_and_agree_with_the_library(seed, paths):
    rng = random.Random(100 + seed)
    crlf = seed == 5
    text = history(rng, 1200, ORDERS[seed % len(ORDERS)], odd=0.03, crlf=crlf)
    got = [f for f, _ in edn.read_forms(text, "<t>")]
    assert got == library_forms(text)
    if not crlf:  # the split path reads no carriage returns: the line match does
        assert paths["split"] > 0  # the plain blocks by the fast path ...
    # ... and the odd lines elsewhere: alone, or by the line paths
    assert paths["alone"] + paths["line_blocks"] > 0


def test_a_ratio_no_json_path_reads_is_read_by_the_general_parser(paths):
    rng = random.Random(9)
    odd = ODD_LINES + [RATIO_LINE] * 3  # with a map over two lines in some blocks
    text = history(rng, 1200, ORDERS[1], odd=0.03, odd_lines=odd)
    assert [f for f, _ in edn.read_forms(text, "<t>")] == library_forms(text)
    assert paths["split"] > 0 and paths["general"] > 0


def test_a_block_with_many_odd_lines_goes_to_the_line_paths(paths):
    rng = random.Random(7)
    text = history(rng, 600, ORDERS[1], odd=0.4)
    assert [f for f, _ in edn.read_forms(text, "<t>")] == library_forms(text)
    assert paths["line_blocks"] > 0


@pytest.mark.parametrize("seed", range(4))
def test_operations_are_those_of_the_library_forms(seed):
    rng = random.Random(200 + seed)
    keys = ORDERS[seed % 2]  # no :error key: every line one operation
    text = history(rng, 800, keys, odd=0.02 * seed)
    lib = library_forms(text)
    lines = [line for _, line in edn.read_forms(text, "<t>")]

    def outcome(fn):
        try:
            return fn()
        except BadInput as e:
            return ("BadInput", str(e))
    ours = outcome(lambda: formats.parse_edn(text, source="<t>")[0])
    theirs = outcome(lambda: formats._edn_ops(iter(zip(lib, lines)), "<t>")[0])
    assert ours == theirs
    if seed == 0:
        assert len(ours) == 800


@pytest.mark.parametrize("path", CORPUS_FILES)
def test_the_peer_corpus_reads_as_the_library_reads_it(path, paths):
    text = (CORPUS / path).read_text()
    assert [f for f, _ in edn.read_forms(text, path)] == library_forms(text)


def test_the_corpus_is_there():
    """The corpus test above runs on every EDN file of the peer corpus: it must find
    them (an empty parametrization would pass with nothing checked)."""
    assert len(CORPUS_FILES) >= 19, f"peer histories not found at {CORPUS}"


@pytest.mark.parametrize("bad,line", [
    ("{:index 700, :time 1, :type :done, :process 0, :f :txn, :value [[:r 1 nil]]}", 701),
    ("{:index 700, :time 1, :type :ok, :process 0, :f :txn, :value [[:r 1 nil]]", 701),
    ("{:index 700, :time 1, :type :ok, :process 0, :f :txn, :value [[:r 1 nil]]}}", 701),
])
def test_a_bad_line_deep_in_a_fast_block_is_named(bad, line, monkeypatch):
    monkeypatch.setattr(edn, "BLOCK_CHARS", 4096)
    rng = random.Random(3)
    lines = [op_line(rng, ORDERS[0], i) for i in range(1500)]
    lines[line - 1] = bad
    text = "\n".join(lines) + "\n"
    with pytest.raises(BadInput, match=rf"^<t>:{line}: "):
        formats.parse_edn(text, source="<t>")



def test_a_set_historys_reads_share_their_elements_as_the_jsonl_reader_does():
    """A set run's reads repeat every element added before them: read from EDN, equal
    reads are one list and equal elements one object (results.history's sharing), and
    the operations are still those of the library's forms."""
    lines, added = [], []

    def op(i: int, typ: str, process: int, f: str, value: str) -> str:
        return (f"{{:index {i}, :time {i}, :type :{typ}, :process {process}, :f :{f}, "
                f":value {value}}}")
    for k in range(100):  # an add, then a read of everything added
        added.append(str(1000 + 4 * k))
        read = "[" + " ".join(added) + "]"
        lines += [op(4 * k, "invoke", 0, "add", added[-1]),
                  op(4 * k + 1, "ok", 0, "add", added[-1]),
                  op(4 * k + 2, "invoke", 1, "read", "nil"),
                  op(4 * k + 3, "ok", 1, "read", read)]
    lines += [op(400, "invoke", 1, "read", "nil"), op(401, "ok", 1, "read", read)]
    text = "\n".join(lines) + "\n"
    ops, _ = formats.parse_edn(text, source="<t>")
    lib = library_forms(text)
    assert ops == formats._edn_ops(iter(zip(lib, range(1, len(lib) + 1))), "<t>")[0]
    reads = [o.value for o in ops if o.f == "read" and o.type == "ok"]
    assert len(reads) == 101 and len(reads[-1]) == 100
    assert reads[-1] is reads[-2]  # an equal read is the one list
    assert all(r[0] is reads[-1][0] for r in reads[10:])  # 1000: one int object
    assert reads[-3][-1] is reads[-1][-2]  # 1392, in two reads: one object
