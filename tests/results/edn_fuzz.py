"""Adversarial but legal EDN histories, and the reference reading of them, for the
differential fuzzing of results.edn against the `edn_format` library.

Jepsen, Elle, Knossos and other tools write `history.edn` in more ways than Jepsen's own
one op map a line: maps split over lines, several ops on a line, a whole history in one
vector or list, commas as white space, comments (also inside a map), `#_` discards,
strings holding quotes, brackets, semicolons and newlines, characters, ratios, bigints,
bigdecimals, `##Inf`, namespaced keywords, symbols, tagged literals and records, sets,
CRLF line ends, a byte-order mark, no final newline. `History(seed).text()` writes one
such history from one seed (mostly Jepsen-plain lines, so the fast paths meet the odd
ones in the same blocks) and knows the line each top-level form starts on;
`reference(text)` is what the library reads from it, as plain values (records read as
their maps, the library's lexer given LF line ends and no BOM: it takes neither, Clojure's
reader does); `same(a, b)` compares values with their types (1 is not 1.0 nor True;
NaN is NaN). tests/results/test_edn_fuzz.py and scripts/edn_fuzz.py run it."""

from __future__ import annotations

import dataclasses
import math
import random
from typing import Any

import edn_format

from gtcheck.errors import BadInput
from results import edn, formats

# key orders of op maps: Jepsen's own (value in the middle), the bench's, with :error,
# without :index / :time (Knossos' and older histories)
ORDERS = [("type", "f", "value", "time", "process", "index"),
          ("index", "time", "type", "process", "f", "value"),
          ("type", "f", "value", "time", "process", "error", "index"),
          ("process", "type", "f", "value"),
          ("type", "process", "f", "value", "time")]
KEYWORDS = [":ok", ":r", ":read", ":append", ":jepsen.nemesis/x", ":a-b?", ":nil-x",
            ":true", ":x.y/z", ":-1", ":k*", ":timeout"]
SYMBOLS = ["foo", "a.b/c", "-x", "+", "-", "x1", "nil?", "truex", "/", "null",
           "NaN", "Infinity", "a#b", "b:c"]
NUMBERS = ["0", "-0", "-17", "+5", "123456789012345678901234567890", "1N", "-5N",
           "-0.5", "1e5", "2.5E-3", "1.5M", "7M", "-2.25e2M", "1/2", "-3/4", "4/2",
           "##Inf", "##-Inf", "##NaN", "0x1F", "3.0", "9223372036854775807"]
CHARS = ["\\{", "\\}", "\\[", "\\]", "\\(", "\\)", "\\newline", "\\space", "\\tab",
         "\\return", "\\u0041", "\\a", "\\;", '\\"', "\\\\", "\\,", "\\#", "\\é"]
STRING_PIECES = ["abc", '\\"', "\\\\", "\\n", "\\t", "[", "]", "{", "}", "(", ")", ";",
                 "#_", ":k", "\\u0041", "é", "#{", " ", ",", "nil", "1/2",
                 "{:type :ok, :f :txn, :value [], :time 1, :process 0, :index 0}"]
TAGGED = ['#inst "2020-01-01T00:00:00Z"', '#inst "2026-01-01"',
          '#inst "1985-04-12T23:20:50.52Z"', '#uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"']
RECORD = "#jepsen.history.Op"


class History:
    """One generated history: `text()` and, after it, `lines` (the line each top-level
    form starts on), `wrapped` (the history is one vector or list)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        self.crlf = rng.random() < 0.15
        self.nl = "\r\n" if self.crlf else "\n"
        self.bom = rng.random() < 0.1
        self.final_newline = rng.random() < 0.8
        self.layout = rng.choice(["lines", "lines", "lines", "mixed", "wrapped"])
        self.odd = rng.choice([0.0, 0.02, 0.1, 0.3, 0.7])  # share of adversarial ops
        self.order = rng.choice(ORDERS)
        self.n = rng.randrange(1, 400)
        self.lines: list[int] = []
        self.wrapped = False

    # --- pieces ---------------------------------------------------------------------

    def sep(self, odd: bool) -> str:
        """White space between two forms (odd: any EDN allows, not just a space)."""
        rng = self.rng
        if not odd:
            return " "
        nl = self.nl
        return rng.choice([" ", ", ", ",", ",,", "\t", nl, nl + "  ", " " + nl,
                           " ; a ] } \" ;; comment" + nl, ";" + nl, " #_ " + self.atom() + " ",
                           " #_#_ 1 [2] ", nl + "; {:type :ok}" + nl, "," + nl,
                           " #_ {:a" + nl + " [1 2]} "])

    def atom(self) -> str:
        rng = self.rng
        kind = rng.randrange(7)
        if kind == 0:
            return rng.choice(NUMBERS)
        if kind == 1:
            return rng.choice(KEYWORDS)
        if kind == 2:
            return rng.choice(SYMBOLS)
        if kind == 3:
            return rng.choice(CHARS)
        if kind == 4:
            return self.string()
        if kind == 5:
            return rng.choice(["nil", "true", "false"])
        return rng.choice(TAGGED)

    def string(self) -> str:
        rng = self.rng
        pieces = [rng.choice(STRING_PIECES) for _ in range(rng.randrange(6))]
        if not self.crlf and rng.random() < 0.3:  # a raw newline (not under CRLF:
            pieces.insert(rng.randrange(len(pieces) + 1), "\n")  # see `reference`)
        return '"' + "".join(pieces) + '"'

    def value(self, depth: int, odd: bool) -> str:
        rng = self.rng
        if depth > 3 or rng.random() < 0.4:
            return self.atom() if odd else rng.choice(["1", "-2", ":ok", "nil", "3"])
        kind = rng.randrange(5 if odd else 2)
        items = [self.value(depth + 1, odd) for _ in range(rng.randrange(5))]
        if kind == 0:
            return self.coll("[", items, "]", odd)
        if kind == 1:  # micro-ops, as Jepsen's list-append
            return self.coll("[", [self.mop(odd) for _ in range(rng.randrange(1, 4))],
                             "]", odd)
        if kind == 2:
            return self.coll("(", items, ")", odd)
        if kind == 3:  # a set of distinct elements
            elements = rng.sample(["1", "2", "-3", ":a", ":b", '"n1"', '"n2"', "x", "[1 2]",
                                   "\\c", "2.5", "{:a 1}", "1/3"], rng.randrange(5))
            return self.coll("#{", elements, "}", odd)
        keys = rng.sample([":a", ":b", ":time", ":value", "0", "1", '"s"', ":x.y/z",
                           "nil", "2.5"], rng.randrange(4))
        return self.coll("{", [x for k in keys for x in (k, self.value(depth + 1, odd))],
                         "}", odd)

    def mop(self, odd: bool) -> str:
        rng = self.rng
        k = rng.choice(["1", "2", "300", '"k"', ":k"] if odd else ["1", "2", "300"])
        if rng.random() < 0.5:
            return self.coll("[", [":append", k, str(rng.randrange(1, 99))], "]", odd)
        read = rng.choice(["nil", "[]", "[1 2 3]"])
        return self.coll("[", [":r", k, read], "]", odd)

    def coll(self, open_: str, items: list[str], close: str, odd: bool) -> str:
        if not odd:
            return open_ + " ".join(items) + close
        rng = self.rng
        lead = rng.choice(["", "", " ", self.nl, " ; c" + self.nl])
        trail = rng.choice(["", "", " ", self.nl, " ; c" + self.nl, " #_ 1 "])
        body = ""
        for i, item in enumerate(items):
            body += (self.sep(True) if i else "") + item
        return open_ + lead + body + trail + close

    def op(self, i: int, typ: str, process: int, odd: bool) -> str:
        rng = self.rng
        fields = {"index": str(i), "time": str(1000 * i + rng.randrange(1000)),
                  "type": ":" + typ, "process": str(process) if process >= 0
                  else ":nemesis", "f": ":txn",
                  "value": self.value(1, odd) if odd or rng.random() < 0.3 else
                  self.coll("[", [self.mop(False)], "]", False),
                  "error": rng.choice([":timeout", '"a \\"quoted\\" [error]"',
                                       "{:cause \"x;y\"}"]) if odd else ":timeout"}
        keys = self.order if not odd or rng.random() < 0.7 else rng.sample(
            self.order, len(self.order))
        if not odd:  # Clojure's printing: `{:k v, :k v}`
            return "{" + ", ".join(f":{k} {fields[k]}" for k in keys) + "}"
        body = [x for k in keys for x in (":" + k, fields[k])]
        if rng.random() < 0.1:  # a key twice: the later value stands
            body += [":time", str(rng.randrange(10))]
        tag = rng.choice(["", "", "", RECORD, RECORD, RECORD + " ", RECORD + self.nl,
                          RECORD + " ; c" + self.nl])
        return tag + self.coll("{", body, "}", True)

    # --- the history ----------------------------------------------------------------

    def text(self) -> str:
        rng = self.rng
        parts: list[str] = ["\ufeff"] if self.bom else []
        at = [0]  # newlines so far

        def put(s: str) -> None:
            parts.append(s)
            at[0] += s.count("\n")
        self.wrapped = self.layout == "wrapped"
        opener = rng.choice(["[", "(", "[" + self.nl])
        if self.wrapped:
            if rng.random() < 0.5:
                put("; a history" + self.nl)
            self.lines.append(at[0] + 1)
            put(opener)
        busy: dict[int, int] = {}  # process -> its open invoke's index
        for i in range(self.n):
            odd = rng.random() < self.odd
            free = [p for p in range(-1, 5) if p not in busy]
            process = rng.choice(list(busy)) if not free or (busy and rng.random() < 0.5) \
                else rng.choice(free)
            if process in busy:
                del busy[process]
                typ = rng.choice(["ok", "fail", "info"] if process >= 0 else ["info"])
            else:
                busy[process] = i
                typ = "invoke" if process >= 0 else "info"
            if i:
                if self.layout == "lines":
                    put(self.nl if not odd or rng.random() < 0.7 else self.sep(True) +
                        self.nl)
                else:
                    put(self.sep(True) if rng.random() < 0.7 else self.nl)
            if not self.wrapped:
                self.lines.append(at[0] + 1)
            put(self.op(i, typ, process, odd))
        if self.wrapped:
            put(rng.choice(["", self.nl, " ; end" + self.nl]) + ("]" if opener[0] == "["
                                                               else ")"))
        if self.final_newline:
            put(self.nl)
        return "".join(parts)


def reference(text: str) -> list:
    """Every top-level form as the library reads it, as plain values: a record
    (`#jepsen.history.Op{...}`) as its map; the text without a leading BOM and with LF
    line ends (the library's lexer takes neither; Clojure's reader and ours take both)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    edn_format.add_tag("jepsen.history.Op", lambda m: m)
    try:
        return [edn._from_edn_format(f, "<lib>")
                for f in edn_format.loads_all(text.replace("\r\n", "\n"))]
    finally:
        edn_format.remove_tag("jepsen.history.Op")


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types, all the way down (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return a == b or (math.isnan(a) and math.isnan(b))
    if type(a) is list:
        return len(a) == len(b) and all(map(same, a, b))
    if type(a) is dict:
        return len(a) == len(b) and all(
            any(same(k, kb) and same(v, b[kb]) for kb in b) for k, v in a.items())
    return a == b


def op_fields(op: Any) -> list:
    return [getattr(op, f.name) for f in dataclasses.fields(op)]


def disagreement(h: History, text: str) -> str | None:
    """How results.edn's reading of a generated text differs from the library's (its
    forms, their lines, the operations results.formats makes of them), or None when
    they agree: the same values of the same types, or both refuse the text."""
    try:
        ref, why = reference(text), None
    except Exception as e:  # noqa: BLE001 -- the library raises several types
        ref, why = None, f"{type(e).__name__}: {str(e)[:80]}"
    try:
        got, err = edn.read_forms(text, "<t>"), None
    except BadInput as e:
        got, err = None, str(e)
    if ref is None or got is None:
        return None if ref is None and got is None else \
            f"the library: {why or 'read'}; results.edn: {err or 'read'}"
    values = [f for f, _ in got]
    for k, (ours, theirs) in enumerate(zip(values, ref)):
        if not same(ours, theirs):
            return f"form {k + 1}: results.edn {ours!r:.200} != the library {theirs!r:.200}"
    if len(values) != len(ref):
        return f"{len(values)} forms read, the library {len(ref)}"
    if [line for _, line in got] != h.lines:
        return f"lines {[line for _, line in got][:8]}... != {h.lines[:8]}..."

    def ops(read: Any) -> Any:
        try:
            return [op_fields(op) for op in read()[0]]
        except BadInput:
            return "refused"
    ours = ops(lambda: formats.parse_edn(text, source="<t>"))
    theirs = ops(lambda: formats._edn_ops(iter(zip(ref, h.lines)), "<t>"))
    if not same(ours, theirs):
        return f"operations: results.formats {str(ours)[:200]} != {str(theirs)[:200]}"
    return None


def scramble(plain: str, seed: int, wrapped: bool | None = None) -> str:
    """A Jepsen-plain history (one op map a line, no strings: every space a token
    boundary) written another legal way that means the same forms: each space or `, `
    between tokens any EDN white space (commas, newlines, comments, `#_` discards),
    some maps as records, several ops a line or one vector around them all, CRLF, a
    BOM, no final newline. `wrapped`: one vector or list around them (None: by the
    seed)."""
    rng = random.Random(seed)
    h = History(seed)
    h.rng = rng
    crlf = rng.random() < 0.3
    h.crlf, h.nl = crlf, "\r\n" if crlf else "\n"
    odd = rng.choice([0.05, 0.3, 1.0])  # share of the lines scrambled

    def line(s: str) -> str:
        if rng.random() >= odd or ";" in s or '"' in s:  # comments, strings: as they are
            return s
        out = RECORD if s.startswith("{") and rng.random() < 0.3 else ""
        for token in s.replace(", ", " ").split(" "):
            out += (h.sep(True) if out and out != RECORD else "") + token
        return out
    lines = [line(s) for s in plain.split("\n") if s.strip()]
    if wrapped is None:
        wrapped = rng.random() < 0.3
    text = ""
    for i, s in enumerate(lines):
        # after a comment, a newline (any other white space would join the comment)
        text += (h.nl if rng.random() < 0.7 or ";" in lines[i - 1] else h.sep(True)) \
            if i else ""
        text += s
    if wrapped:
        text = rng.choice(["[", "(", "[" + h.nl]) + text
        text += h.nl + ("]" if text[0] == "[" else ")")
    if rng.random() < 0.8:
        text += h.nl
    return ("\ufeff" if rng.random() < 0.2 else "") + text
