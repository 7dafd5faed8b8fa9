"""Jepsen's EDN, read in linear time: the top-level forms of a history file as plain
Python values, each with the line it starts on.

Jepsen writes `history.edn` one operation map a line, commonly 100k-1M lines; the
`edn_format` library's right-recursive grammar copies the growing list at every element,
so reading such a file with it is quadratic (issue 23: 100,000 operations took 94 s).
This reader is linear and bounded, by the first of these paths that reads a block of
lines (each says so or declines; all give the same values and lines):

- the shape path: op maps one a line, in one of a few key orders (a shape: one compiled
  regular expression over the whole line, a group per field) with every field but
  `:value` an integer, keyword, nil or boolean; it reads blocks of the file's text as
  they are (about BLOCK_CHARS each, cut at a line end: no list of the file's lines),
  the fields by one `split` around the values where the block allows (`Shape.columns`)
  and else by a `findall` of whole lines; the fields become columns by C-level calls
  and the values are read together by the Jepsen-line path (see its section);
  `iter_pieces` hands the columns on (`Rows`), so results.formats builds operations
  from them without a map per line; a block it declines is read by the paths below;
- the Jepsen-line path: Clojure-printed op maps one a line (`{:k v, :k v}`, or tagged as
  records, `#jepsen.history.Op{...}`) straight into JSON objects by C-level
  `str.replace` passes, decoded by one `json` call with no hook (see the section below
  for why this is sound); in a block where a few lines hold strings or comments, those
  lines are read alone by the general path and the rest by this one;
- the block path: a block of lines with no string, comment, tag or character literal
  (maps, vectors, lists, sets, keywords, numbers, nil) is rewritten by a few C-level
  regular-expression passes into JSON (maps and sets become marked arrays, turned back
  into dicts / sorted lists by json's object hook) and decoded by one `json.loads`;
- the general path, for every other block: our own iterative tokenizer and parser
  (strings, comments, `#_` discard, tags such as `#inst` or `#jepsen.history.Op{...}`,
  ratios, `##NaN`), with no recursion, so nesting cannot overflow the stack. It reads
  every token as `edn_format` (the reference reader it replaced) does, and refuses
  what that library and Clojure's reader read apart (see `_TOKEN`).

Plain values: keywords and symbols become their names (`:ok` -> "ok"), vectors and lists
lists, sets sorted lists, maps dicts, nil None; numbers, strings, chars, `#inst` and
`#uuid` the library's values (`1.5M` a Decimal, `1/2` a Fraction). Limits are said as
`BadInput` naming the file and line: nesting deeper than `MAX_DEPTH`, integers longer
than `MAX_DIGITS` digits (Python's int-string limit), map keys that are not plain
values, a set with two equal plain elements. `deadline` (a
`time.monotonic()` value) raises `results.history.ReadTimedOut` once passed.
"""

from __future__ import annotations

import gc
import json
import math
import re
import sys
from bisect import bisect_right
from itertools import chain, repeat
from operator import itemgetter
from time import monotonic
from typing import Any, Callable, Iterator

from gtcheck.errors import BadInput

MAX_DEPTH = 64  # Jepsen operations nest 4 deep; deeper is garbage, and would overflow
MAX_DIGITS = 400  # longer integers are no history's (Jepsen's longs have 19 digits)
BLOCK_LINES = 20_000  # lines per fast-path block (the deadline is checked per block)
# characters per block of the shape path (then to the end of the line): small enough that
# a block's intermediate strings stay in the CPU's caches
BLOCK_CHARS = 1 << 16


# --- the fast path: EDN -> JSON by regular expressions --------------------------------

# what the fast path leaves to the general one: strings, chars, comments, metadata,
# quoting, deref (and, checked apart: tags other than sets, ratios, stray colons)
_SPECIAL_CHARS = '"\\;^`~@\''
_RATIO = re.compile(r"\d/\d")
# a keyword's name as the fast paths take it: what the library's lexer reads as one
# keyword (at most one `/`; a name it would cut, `:a/b/c`, leaves text no JSON holds)
_NAME = r"[A-Za-z*+!\-_?<>=.][\w*+!\-?<>=.]*(?:/[\w*+!\-?<>=.]+)?"
_KEYWORD = re.compile(rf":({_NAME})")
_WS = re.compile(r"[ \t\n\r,]+")  # EDN's white space (the carriage return: see _TOKEN)
MAX_KEYWORDS = 256  # distinct keywords in a block the fast path replaces one by one
_MAP, _SET, _LINE = "\x01m", "\x01s", "\x01l"
# each line of a block is wrapped in a marked array: the decoded wrappers say which forms
# each line holds (a wrapper opens only where a line starts: its key is a string, which
# the text cannot hold; so when there are as many wrappers as lines, each at the top,
# each holds its own line's forms exactly)
_LINE_JOIN = ']},{"\\u0001l":['
_SEPARATOR = ',"",'  # between lines' texts in a block: see _jepsen_block


def _hook(pairs: list) -> Any:
    """json's object-pairs hook: our marked arrays back into maps and sets."""
    if len(pairs) == 1:
        mark, items = pairs[0]
        if mark == _MAP:
            if len(items) % 2:
                raise ValueError("a map needs an even number of forms")
            it = iter(items)
            return dict(zip(it, it))
        if mark == _SET:
            elements = _set_of(items)
            if elements is None:
                raise ValueError("a set with equal elements")
            return elements
        if mark == _LINE:
            return tuple(items)  # a line's forms: JSON itself never makes a tuple
    raise ValueError("not an EDN map")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not EDN")  # JSON's NaN / Infinity are EDN symbols


_DECODER = json.JSONDecoder(object_pairs_hook=_hook, parse_constant=_no_constant)


def _fast_block(lines: list[str]) -> list[tuple] | None:
    """The top-level forms of each of a block of lines, or None if the fast path cannot
    read them (then the general path does, and says what is wrong). Every step is a
    C-level string operation: the distinct keywords are replaced longest first (so `:r`
    never touches `:read`), and once one space is left between tokens, the spaces next
    to brackets go and the rest become commas."""
    block = "\x04".join(lines)  # each \x04 becomes a line wrapper's boundary
    if block.count("\x04") != len(lines) - 1:
        return None
    if any(c in block for c in _SPECIAL_CHARS) or block.count("#") != block.count("#{") \
            or ("/" in block and _RATIO.search(block)) or "null" in block \
            or _long_number(lines):
        return None  # strings, comments, tags, chars, quoting, ratios, the symbol null,
        # numbers past MAX_DIGITS
    found = _KEYWORD.findall(block)
    if block.count(":") != len(found):
        return None  # a colon that starts no keyword (`::k`, `a:b`)
    keywords = set(found)
    if len(keywords) > MAX_KEYWORDS:
        return None  # keywords used as data: the general path
    t = block.replace("#{", "\x02").replace("(", "[").replace(")", "]")
    t = t.replace("{", '{"\\u0001m":[').replace("\x02", '{"\\u0001s":[').replace("}", "]}")
    for k in sorted(keywords, key=len, reverse=True):
        t = t.replace(":" + k, '"' + k + '"')
    if "\t" in t or "\r" in t:
        t = _WS.sub(" ", t)
    else:
        t = t.replace(",", " ").replace("\n", " ")
        while "  " in t:
            t = t.replace("  ", " ")
    t = t.replace(" \x04", "\x04").replace("\x04 ", "\x04").strip()
    t = t.replace("[ ", "[").replace(" ]", "]").replace(" ", ",").replace("\x04", _LINE_JOIN)
    if "nil" in t:
        t = t.replace(",nil,", ",null,").replace(",nil,", ",null,").replace(
            "[nil,", "[null,").replace(",nil]", ",null]").replace("[nil]", "[null]")
    # json's C decoder counts each nested array against the recursion limit: lowered to
    # about MAX_DEPTH above here, nesting deeper fails and the general path names the line
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_stack_depth() + MAX_DEPTH + 8)
    try:
        wrapped = _DECODER.decode('[{"\\u0001l":[' + t + "]}]")
    except (ValueError, TypeError, RecursionError):
        return None
    finally:
        sys.setrecursionlimit(limit)
    if len(wrapped) != len(lines) or set(map(type, wrapped)) != {tuple}:
        return None  # a form over several lines
    return wrapped


def _stack_depth() -> int:
    f, n = sys._getframe(1), 1
    while f is not None:
        f, n = f.f_back, n + 1
    return n


def _sorted(items: list) -> list:
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=repr)


# --- the Jepsen-line path: Clojure's own printing, straight into JSON objects ----------

# Clojure prints a map as `{:k v, :k v}`, a vector as `[a b c]`, one space apart, and
# Jepsen's history.edn holds one such map a line. For a block of lines in exactly that
# shape, a few C-level `str.replace` passes make JSON of it, with maps as JSON objects
# (so json builds the dicts itself: no hook, no Python call per map):
#   `(`/`)` -> `[`/`]`;
#   a map key `{:k ` or `, :k ` -> `{"k":` / `,"k":` (each key the block uses, in
#   each of the two places it is used in);
#   any other keyword `:k` -> `"k"` (longest first, so `:r` never touches `:read`);
#   `nil` -> `null`: when no keyword's name holds "nil", every `nil` left, last of
#   all, by one pass (each is the token nil, or inside a symbol, which stays no JSON
#   value); else, first of all, `nil` after a space, `[` or `,`;
#   the spaces left (between vector elements) -> `,`;
#   the lines joined by `,"",` (_SEPARATOR), the block an array.
# Soundness rests on JSON's grammar, which checks what the passes assume: a key marker
# `"k":` is valid only in key position of an object and every object key needs one, so
# a decoded object has exactly the EDN map's key/value alternation; a keyword the passes
# missed or cut short, a symbol, a ratio, a stray space or comma, a map with a
# non-keyword key, leaves invalid JSON. The separators' empty string (the line text
# cannot hold a `"`) is a JSON value only where a separator put it: when the decoded
# array has 2n - 1 elements (n lines) with an empty string at every odd position, each
# of the n - 1 separators is at the top, and what lies between two of them is one JSON
# value, so each line holds exactly one form (bare arrays around lines would not do:
# `1] [2` and `[[3` + `4]]` would balance each other). Declined blocks go to the paths
# below, which say what is wrong, if anything. (tests/results/test_edn_paths.py reads random
# EDN through every path.)

_JEPSEN_KEYWORD = re.compile(rf"(\{{|, )?:({_NAME})")
_PLAIN_DECODER = json.JSONDecoder(parse_constant=_no_constant)
# a run of more than MAX_DIGITS number characters, found by C-level passes (a regular
# expression takes 20 ns a character on a block; these take about 1)
_NUMBER_CHARS = bytes(ord("0") if chr(b) in "0123456789.eE+-" else ord(" ")
                      for b in range(256))
_LONG_RUN = b"0" * (MAX_DIGITS + 1)


def _long_number(lines: list[str]) -> bool:
    """Whether a line may hold a number longer than the general path reads (it says so:
    JSON would read it, and the paths must agree)."""
    return max(map(len, lines)) > MAX_DIGITS and _LONG_RUN in "\n".join(
        [s for s in lines if len(s) > MAX_DIGITS]).encode().translate(_NUMBER_CHARS)


class Keywords:
    """The keywords a file's blocks use, as map keys and elsewhere: found once by a
    regular expression, then reused block after block (a block using one more is
    declined by JSON, and the keywords are looked for again)."""

    __slots__ = ("first_keys", "keys", "values", "colon", "nil_free")

    def __init__(self) -> None:
        self.first_keys: tuple[str, ...] = ()  # keys seen first in a map: `{:k `
        self.keys: tuple[str, ...] = ()  # keys seen after another: `, :k `
        self.values: tuple[str, ...] = ()  # every other keyword, longest first
        # a key's colon: ":" unless a keyword pass could take it for a keyword's (`:-1`
        # after `{"k":` in `{:k -1}`, `:t` in `{"k":true}`, `:ni` in `{"k":nil}`); then
        # \x05 until the end
        self.colon = ":"
        self.nil_free = True  # no keyword's name holds "nil"

    def learn(self, block: str) -> None:
        found = set(_JEPSEN_KEYWORD.findall(block))
        if len(found) > MAX_KEYWORDS:
            raise _Declined
        self.first_keys = tuple({k for prefix, k in found if prefix == "{"})
        self.keys = tuple({k for prefix, k in found if prefix == ", "})
        self.values = tuple(sorted({k for prefix, k in found if not prefix}, key=len,
                                   reverse=True))
        self.nil_free = not any("nil" in k for k in chain(
            self.first_keys, self.keys, self.values))
        self.colon = "\x05" if any(k[0] in "-+." or any(w.startswith(k) for w in (
            "true", "false", "null", "nil")) for k in self.values) else ":"


class _Declined(Exception):
    """A block the Jepsen-line path does not read."""


_RECORD_TAG = re.compile(r"#([A-Za-z][\w.*+!\-?<>=/]*)\{")
MAX_RECORD_TAGS = 16


def plain_text(text: str) -> tuple[str, ...] | None:
    """The record tags to drop (`#jepsen.history.Op{...}`: newer Jepsen prints each
    operation as its record; the tag names the type of what is a map) when a text has
    none of what the Jepsen-line path leaves to the others (strings, comments, other
    tags, sets, quoting; `null`, a symbol in EDN); None when it has. Checked once for a
    whole file, then per block only when this says no."""
    if any(c in text for c in _SPECIAL_CHARS) or "null" in text or "\x05" in text:
        return None
    tags: tuple[str, ...] = ()
    if "#" in text:
        tags = tuple(sorted(set(_RECORD_TAG.findall(text))))
        if len(tags) > MAX_RECORD_TAGS or "inst" in tags or "uuid" in tags or \
                sum(text.count(f"#{t}{{") for t in tags) != text.count("#"):
            return None  # a set, a discard, a tag on anything but a map
    return tags


_SAMPLE_CHARS = 1 << 16  # keywords are learned from a block's first 64 KiB, then all of it


def _jepsen_block(lines: list[str], keywords: Keywords, *,
                  tags: tuple[str, ...] | None = None, nulls: bool = False
                  ) -> list | None:
    """The forms of `lines`, one form a line, or None (the path declines). `tags`: the
    caller found the whole text `plain_text`, with these record tags (`nulls`: all but
    that it holds no `null`, which is looked for here)."""
    if tags is None:
        tags = plain_text("\n".join(lines))
        if tags is None:
            return None
    if _long_number(lines):
        return None  # perhaps a number the general path refuses: it says so
    block = _SEPARATOR.join(lines)  # the text cannot hold the separator's `"`: see above
    if nulls and "u" in block and "null" in block:
        return None
    for t in tags:  # the general path reads a tagged map as the map
        block = block.replace(f"#{t}{{", "{")
    if "(" in block:
        block = block.replace("(", "[").replace(")", "]")
    try:
        forms = _decode_jepsen(block, keywords)
        if forms is None and len(block) > _SAMPLE_CHARS:
            keywords.learn(block[:_SAMPLE_CHARS])
            forms = _decode_jepsen(block, keywords)
        if forms is None:
            keywords.learn(block)
            forms = _decode_jepsen(block, keywords)
    except _Declined:
        return None
    n = len(lines)
    if forms is None or len(forms) != 2 * n - 1 or forms[1::2].count("") != n - 1:
        return None  # not every separator at the top, between two lines' forms
    return forms[::2]


def _decode_jepsen(block: str, keywords: Keywords) -> list | None:
    t, colon = block, keywords.colon
    if not keywords.nil_free and "nil" in t:  # `nil` where it starts a token
        t = t.replace(" nil", " null").replace("[nil", "[null").replace(",nil", ",null")
        if t.startswith("nil"):
            t = "null" + t[3:]
    for k in keywords.first_keys:
        t = t.replace("{:" + k + " ", '{"' + k + '"' + colon)
    for k in keywords.keys:
        t = t.replace(", :" + k + " ", ',"' + k + '"' + colon)
    for k in keywords.values:
        t = t.replace(":" + k, '"' + k + '"')
    t = t.replace(" ", ",")
    if colon != ":":
        t = t.replace(colon, ":")
    if keywords.nil_free:
        # one pass for every `nil`: no keyword's string holds one, so each is the token
        # nil (-> null) or part of a symbol (-> `null` within it: no JSON value either)
        t = t.replace("nil", "null")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_stack_depth() + MAX_DEPTH + 8)
    try:
        return _PLAIN_DECODER.decode("[" + t + "]")
    except (ValueError, TypeError, RecursionError):
        return None
    finally:
        sys.setrecursionlimit(limit)


# --- the general path: an iterative tokenizer and parser ------------------------------

# Tokens as edn_format's lexer (edn_format/edn_lex.py, a `ply` lexer: its first
# matching rule wins) cuts them, so every form reads as the library reads it: white
# space is space, tab, newline and comma (and the carriage return, as Clojure's reader:
# CRLF files; the library refuses it), anything else not in a token is refused; chars
# are `\newline`, `\return`, `\space`, `\tab`, `\uXXXX` or one printable character; a
# tag is `#` and a letter, then symbol characters. An atom (a run of characters no
# other token starts) is read by `_atom`, as the library's number, keyword and symbol
# rules read it, or refused.
_TOKEN = re.compile(r"""
    (?P<ws>[ \t\n\r,]+|;[^\n]*)
  | (?P<str>"(?:[^"\\]|\\[^\n])*")
  | (?P<open>\#\{|[\[({])
  | (?P<close>[\])}])
  | (?P<discard>\#_)
  | (?P<special>\#\#(?:NaN|-Inf|Inf))
  | (?P<tag>\#[a-zA-Z](?:[\w.*+!\-?$%&=:#<>@]*/[\w.*+!\-?$%&=:#<>@]+|[\w.*+!\-?$%&=:#<>@]*))
  | (?P<char>\\(?:newline|return|space|tab|u[0-9A-Fa-f]{4}|[!-~\w]))
  | (?P<atom>[^ \t\n\r,\[\](){}"\\;]+)
  | (?P<bad>.)
""", re.X | re.S)
# the library's atom rules, in its order (the first that matches a prefix is the token:
# an atom is read only when that token is all of it; `12ab` is two tokens there, and
# refused here)
_ALL = r"[\w.*+!\-?$%&=:#<>@]"
_START = r"(?:[\w*!?$%&=<>@]|[\-+.][\w.*+!\-?$%&=:#<>@]|[\-+.])"
_ATOM = re.compile(rf"""
    (?P<float>[+-]?\d+(?:(?:\.\d+(?:[eE][+-]?\d+)?|[eE][+-]?\d+)M?|M))
  | (?P<ratio>-?\d+/\d+)
  | (?P<int>[+-]?(?:0(?!x)|[1-9]\d*)N?)
  | (?P<hex>[+-]?0x[0-9A-Fa-f]+)
  | (?P<keyword>:(?:{_ALL}+/{_ALL}+|{_ALL}+))
  | (?P<symbol>{_START}{_ALL}*/{_ALL}+|/|{_START}{_ALL}*)
""", re.X)
_CHARS = {"newline": "\n", "space": " ", "tab": "\t", "return": "\r"}
_CLOSER = {"[": "]", "(": ")", "{": "}", "#{": "}"}
_CONSTANT_ATOMS = {"nil": None, "true": True, "false": False}
# the library's string escapes (edn_format.edn_lex.ESCAPE_SEQUENCE_RE), each decoded as
# it decodes them
_ESCAPE = re.compile(r"""\\U........|\\u....|\\x..|\\[0-7]{1,3}|\\N\{[^}]+\}"""
                     r"""|\\[\\'"abfnrtv]""")


class _Mark:
    """What waits in a list for the next form: a `#_` discard, or a tag."""

    __slots__ = ("tag",)

    def __init__(self, tag: str | None) -> None:
        self.tag = tag  # None: a discard


_DISCARD = _Mark(None)
_VALUE_TAGS = ("#inst", "#uuid")  # tags the library makes values of; others: the form


def _atom(tok: str, where: str) -> Any:
    if tok in _CONSTANT_ATOMS:
        return _CONSTANT_ATOMS[tok]
    m = _ATOM.match(tok)
    if m is None or m.end() != len(tok):
        raise BadInput(f"{where}: not valid EDN ({tok[:40]!r})")
    kind = m.lastgroup
    if kind == "keyword":
        return tok[1:]
    if kind == "symbol":
        return tok
    if kind == "int":
        digits = tok[:-1] if tok[-1] == "N" else tok
        if len(digits.lstrip("+-")) > MAX_DIGITS:
            raise BadInput(f"{where}: an integer of {len(digits.lstrip('+-'))} digits "
                           f"(at most {MAX_DIGITS})")
        return int(digits)
    if len(tok) > MAX_DIGITS:
        raise BadInput(f"{where}: a number of {len(tok)} characters")
    if kind == "float":  # as the library: a float, or with M a Decimal
        e = re.search(r"[eE]([+-]?\d+)M?$", tok)
        if tok[-1] == "M":
            import decimal
            return decimal.Decimal(tok[:-1]) * decimal.getcontext().power(
                1, int(e.group(1)) if e else 0)
        return float(tok)
    if kind == "ratio":
        from fractions import Fraction
        numerator, denominator = tok.split("/")
        if int(denominator) == 0:
            raise BadInput(f"{where}: not valid EDN (the ratio {tok} divides by zero)")
        return Fraction(int(numerator), int(denominator))
    return int(tok, 16)  # hex


def _string(tok: str, where: str) -> str:
    body = tok[1:-1]
    if "\\" not in body:
        return body
    import codecs
    try:
        return _ESCAPE.sub(lambda m: codecs.decode(m.group(), "unicode-escape"), body)
    except UnicodeDecodeError:
        raise BadInput(f"{where}: not valid EDN (a bad escape in the string "
                       f"{tok[:40]})") from None


def _tagged(tag: str, value: Any, where: str) -> Any:
    """`#inst` and `#uuid` as the library reads them (a date or datetime, a UUID)."""
    if type(value) is not str:
        raise BadInput(f"{where}: not valid EDN ({tag} of {type(value).__name__})")
    import edn_format
    try:
        return edn_format.loads(tag + ' "' + value.replace("\\", "\\\\").replace(
            '"', '\\"') + '"')
    except Exception as e:  # noqa: BLE001 -- the library raises several types
        raise BadInput(f"{where}: not valid EDN ({tag} {value[:40]!r}: "
                       f"{type(e).__name__})") from None


def _set_of(items: list) -> list | None:
    """A set's elements as a sorted list; None when two are equal as plain values. EDN
    sets hold each value once (Clojure's reader refuses `#{1 1}`), but the library keeps
    one of Python-equal elements (`1`, `1.0`, `true`) and two of `:a` and `"a"`, which
    are equal here: no list says the same, so such a set is refused."""
    try:
        distinct = len(set(items))
    except TypeError:  # lists and maps among them
        distinct = len(set(map(_frozen, items)))
    return _sorted(items) if distinct == len(items) else None


def _frozen(x: Any) -> Any:
    if type(x) is list:
        return ("\x01l",) + tuple(map(_frozen, x))
    if type(x) is dict:
        return ("\x01m", frozenset((k, _frozen(v)) for k, v in x.items()))
    return x


def _close(kind: str, items: list, where: str) -> Any:
    if kind == "{":
        if len(items) % 2:
            raise BadInput(f"{where}: not valid EDN (a map needs an even number of forms)")
        try:
            return dict(zip(items[::2], items[1::2]))
        except TypeError:
            raise BadInput(f"{where}: a map key is a collection (keys must be plain "
                           "values)") from None
    if kind == "#{":
        elements = _set_of(items)
        if elements is None:
            raise BadInput(f"{where}: a set with equal elements (EDN sets hold each value "
                           "once; keywords, symbols and strings of one name read alike)")
        return elements
    return items


def _general(text: str, offset: int, line: int, source: str,
             deadline: float | None) -> Iterator[tuple[Any, int, int]]:
    """(form, line, end offset) for each top-level form of text[offset:], iteratively;
    BadInput naming the line for what is not EDN."""
    stack: list[tuple[str, list, int]] = []  # (opener, items, line it opened on)
    top: list = []  # holds only pending marks (#_, tags) between top-level forms
    pos_line, last = line, offset
    form_line = line
    count = 0
    for m in _TOKEN.finditer(text, offset):
        kind = m.lastgroup
        start = m.start()
        pos_line += text.count("\n", last, start)
        last = start
        count += 1
        if deadline is not None and not count & 0xFFFF and monotonic() > deadline:
            from results.history import ReadTimedOut
            raise ReadTimedOut(f"{source}: reading passed the deadline at line {pos_line}")
        if kind == "ws":
            continue
        tok = m.group()
        where = f"{source}:{pos_line}"
        if not stack and kind != "close" and not top:
            form_line = pos_line
        items = stack[-1][1] if stack else top
        if kind == "open":
            if len(stack) >= MAX_DEPTH:
                raise BadInput(f"{where}: nested more than {MAX_DEPTH} deep")
            stack.append((tok, [], pos_line))
            continue
        if kind == "close":
            if not stack:
                raise BadInput(f"{where}: not valid EDN (unmatched {tok!r})")
            opener, done, _ = stack.pop()
            if _CLOSER[opener] != tok:
                raise BadInput(f"{where}: not valid EDN ({opener!r} closed by {tok!r})")
            if done and type(done[-1]) is _Mark:
                raise BadInput(f"{where}: not valid EDN ({done[-1].tag or '#_'} before "
                               f"{tok!r})")
            value = _close(opener, done, where)
            items = stack[-1][1] if stack else top
        elif kind == "atom":
            value = _atom(tok, where)
        elif kind == "str":
            value = _string(tok, where)
        elif kind == "discard":
            items.append(_DISCARD)
            continue
        elif kind == "tag":
            # #inst, #uuid: the library's values; any other (a record,
            # #jepsen.history.Op{...}, read as its map): the form it tags
            items.append(_Mark(tok))
            continue
        elif kind == "special":
            value = {"##NaN": math.nan, "##Inf": math.inf, "##-Inf": -math.inf}[tok]
        elif kind == "char":
            body = tok[1:]
            value = _CHARS.get(body, chr(int(body[1:], 16)) if len(body) == 5
                               and body[0] == "u" else body)
        else:
            raise BadInput(f"{where}: not valid EDN ({tok!r})")
        discarded = False
        while items and type(items[-1]) is _Mark:
            mark = items.pop()
            if mark.tag is None:
                discarded = True
                break
            if mark.tag in _VALUE_TAGS:
                value = _tagged(mark.tag, value, where)
        if discarded:
            continue
        if stack:
            items.append(value)
        else:
            yield value, form_line, m.end()
    if stack:
        raise BadInput(f"{source}:{stack[-1][2]}: not valid EDN ({stack[-1][0]!r} is never "
                       "closed)")
    if top:
        raise BadInput(f"{source}:{pos_line}: not valid EDN ({top[-1].tag or '#_'} before "
                       "the end)")


# --- the shape path: Jepsen's op lines, field by field --------------------------------

# Jepsen prints every operation of a history with the same few keys in the same order
# (`{:index 0, :time 5, :type :invoke, :process 0, :f :txn, :value [...]}`, or as
# `#jepsen.history.Op{...}`). A line's *shape* is that key order; each shape is one
# compiled regular expression matching the whole line, with a group per field. Every
# field but `:value` must be an atom (an integer of at most 18 digits, a keyword, nil,
# true, false), so the line's fields are found without parsing and the regular
# expression decides where the value starts and ends: an atom holds no space or comma,
# so the text after the value (`, :k atom` ... `}` to the line's end) can be matched at
# one place only, and the same for the text before it. The values of a block's lines
# are then read together by the Jepsen-line path, which proves each value text one EDN
# form of its own (so a line that is not one map, `{..., :value 1], :x [2, ...}`, is
# declined); the atoms become a column each by C-level `map` calls. The result is a
# `Rows` per shape (keys, one column per key, line numbers): readers that want maps get
# them by `Rows.forms()`, and results.formats builds its operations from the columns
# without the maps. A value JSON objects cannot hold (a map keyed by numbers, Jepsen's
# bank reads) is read by the block path's marked arrays instead. A line no shape
# matches (a string in an `:error`, a nemesis op's map of strings, a comment, a set) is
# read alone by the general path, as `_mixed_block` reads its odd lines; a block with
# more than `MIXED_SHARE` of such lines, or a value neither JSON path reads, is left to
# the other paths (`iter_pieces` tries them next).

# a keyword's name (no colon, no #); one with two `/` or ending in one, which the
# library's lexer cuts (`:a/b/c`), is looked for in the columns (`Shape.column`): a
# tighter pattern here costs register histories 3%
_SHAPE_NAME = r"[A-Za-z*+!\-_?<>=.][\w*+!\-?<>=./]*"
_CUT_NAME = re.compile(r"/.*/|/$")
_SHAPE_KEY = re.compile(_SHAPE_NAME)
# a field's pattern by the kind of its value in the line the shape was learned from:
# an integer that fits a Java long, a keyword (its name), nil / true / false; each is
# what the general path's `_atom` reads as int, name, None, True, False
_SHAPE_FIELDS = {int: r"(-?[0-9]{1,18})", str: rf":({_SHAPE_NAME})",
                 type(None): r"(nil)", bool: r"(true|false)"}
# the value: anything on the line but what the Jepsen-line path leaves to the general
# one (strings, comments, characters, quoting): a line holding those is read alone
_SHAPE_VALUE = r"""([^"\\;^`~@'\x05\n]+)"""
# a record tag, read as the map it tags (not #inst or #uuid: the library refuses a map)
_SHAPE_TAG = r"(?:#(?!(?:inst|uuid)\{)[A-Za-z][\w.*+!\-?<>=/]*)?"
MAX_SHAPES = 8  # shapes per file
SHAPE_KEYS_MAX = 32  # keys in one shape
SHAPE_LEARN_TRIES = 4  # lines per block a new shape is learned from
SHAPE_LINE_MAX = 1 << 16  # longer lines teach no shape (the general path would read them)
_groups = re.Match.groups
_CONSTANTS = {"nil": None, "true": True, "false": False}
_SHAPE_ATOMS = {int: "0", str: ":x", type(None): "nil", bool: "true"}  # each kind's text


class Shape:
    """One key order of Jepsen's op maps, with the kind of each field but `:value`, as
    a regular expression over a whole line."""

    __slots__ = ("keys", "kinds", "value", "match", "findall", "findall_plain", "marked",
                 "split", "sentinels", "longs")

    def __init__(self, keys: tuple[str, ...], kinds: tuple[type, ...]) -> None:
        self.keys, self.kinds = keys, kinds
        self.longs = frozenset(k for k, kind in zip(keys, kinds) if kind is int)
        self.marked = False  # values read by the block path (_fast_block), not as JSON
        self.value = keys.index("value") if "value" in keys else -1
        fields = [f":{re.escape(k)} " + (_SHAPE_VALUE if k == "value" else
                                         _SHAPE_FIELDS[kind])
                  for k, kind in zip(keys, kinds)]
        body = r"\{" + ", ".join(fields) + r"\}"
        # ASCII: a keyword's name of other letters is not matched (its line is read
        # alone, by the general path), and ASCII classes are quicker to test
        self.match = re.compile(_SHAPE_TAG + body + r"\r?", re.A).fullmatch
        self.findall = re.compile("^" + _SHAPE_TAG + body + r"\r?$", re.M | re.A).findall
        # the same for a block with no `#` and no carriage return (a tenth quicker)
        self.findall_plain = re.compile("^" + body + "$", re.M | re.A).findall
        self.split, self.sentinels = None, ("", "")
        if self.value >= 0:  # see `columns`
            v = self.value
            head = r"\{" + "".join(f + ", " for f in fields[:v]) + ":value "
            tail = "".join(", " + f for f in fields[v + 1:]) + r"\}"
            self.split = re.compile(tail + "\n" + head, re.A).split
            atoms = [f":{k} " + _SHAPE_ATOMS.get(kind, "")
                     for k, kind in zip(keys, kinds)]
            self.sentinels = ("".join(", " + a for a in atoms[v + 1:]) + "}",
                              "{" + "".join(a + ", " for a in atoms[:v]) + ":value ")

    @classmethod
    def learn(cls, line: str) -> "Shape | None":
        """The shape of a line that is one op map printed Clojure's way, or None."""
        if len(line) > SHAPE_LINE_MAX:
            return None  # not an op map a line (a whole history's vector on one line)
        try:
            forms = [f for f, _, _ in _general(line, 0, 1, "<shape>", None)]
        except BadInput:
            return None  # the line is read alone later, and says what is wrong
        if len(forms) != 1 or type(forms[0]) is not dict:
            return None
        keys = tuple(forms[0])
        kinds = tuple(map(type, forms[0].values()))
        if not 2 <= len(keys) <= SHAPE_KEYS_MAX or not all(
                type(k) is str and _SHAPE_KEY.fullmatch(k) for k in keys) or not all(
                k == "value" or kind in _SHAPE_FIELDS for k, kind in zip(keys, kinds)):
            return None
        shape = cls(keys, kinds)
        return shape if shape.match(line) else None

    def columns(self, joined: str, n: int) -> list | None:
        """The fields of the n lines of `joined` as columns (lists of texts; None
        unless every line has this shape, `#` and carriage returns apart), by one
        `split` over the text around the values, not a match of each whole line (the
        values are most of the text; a third quicker). A separator is the text after
        one line's value (its later fields, `}`), the newline, and the text before the
        next line's value (`{`, its earlier fields, `:value `): with a sentinel line end
        before the text and a sentinel line start after it, n + 1 separators, each
        holding one newline, hold every newline, so each line is its fields before the
        value, the text between two separators (no newline in it), and its fields
        after; the caller proves that text one form (and free of strings and the like)
        before it is the value. A value holding a separator's text is cut there: the
        line is still exactly what the split says it is, or the value's proof fails."""
        m = len(self.keys)
        pieces = self.split(self.sentinels[0] + "\n" + joined + "\n" + self.sentinels[1])
        if len(pieces) != (n + 1) * m + 1 or pieces[0] or pieces[-1]:
            return None
        # pieces: "", then per separator its m - 1 groups (the fields after one line's
        # value, then those before the next one's) and the next line's value text
        v, after = self.value, m - 1 - self.value
        return [pieces[m:(n + 1) * m:m] if c == v else
                pieces[m + 1 + c - v - 1::m] if c > v else
                pieces[1 + after + c:n * m:m] for c in range(m)]

    def column(self, c: int, texts: tuple[str, ...], slashes: bool = True
               ) -> list | None:
        """Field c's texts as the general path reads them (`:value` apart); None for
        an integer with a leading zero (`07`: two numbers to EDN's lexer) or a keyword
        the lexer cuts (`:a/b/c`; looked for when `slashes`, the block holds a `/`):
        the general path says what is wrong."""
        kind = self.kinds[c]
        if kind is int:  # `-?[0-9]{1,18}` each: JSON's ints but for leading zeros
            try:
                return _PLAIN_DECODER.decode("[" + ",".join(texts) + "]")
            except ValueError:
                return None
        if kind is str:
            if slashes and any(map(_CUT_NAME.search, set(texts))):
                return None
            return list(map(sys.intern, texts))  # the same str object for each name
        return list(map(_CONSTANTS.__getitem__, texts))


class Rows:
    """Lines of one shape: `keys`, a column (list) per key, each row's line (ascending;
    a range when the lines are a block's every line); `longs`: the keys whose column is
    all ints within a Java long (the shape's pattern allows at most 18 digits)."""

    __slots__ = ("keys", "columns", "lines", "longs")

    def __init__(self, keys: tuple[str, ...], columns: list, lines: range | list[int],
                 longs: frozenset[str] = frozenset()) -> None:
        self.keys, self.columns, self.lines, self.longs = keys, columns, lines, longs

    def __len__(self) -> int:
        return len(self.lines)

    def forms(self) -> list[tuple[dict, int]]:
        """(map, line) for each row: what the other paths give for these lines."""
        return list(zip(map(dict, map(zip, repeat(self.keys), zip(*self.columns))),
                        self.lines))


class Shapes:
    """The shapes a file's lines have had, and the keywords of their values."""

    __slots__ = ("known", "values", "declined")

    def __init__(self) -> None:
        self.known: list[Shape] = []
        self.values = Keywords()  # the value texts' own: not the whole lines'
        self.declined = 0  # blocks declined in a row (after 3 the path is not tried)


SHAPE_DECLINES_MAX = 3


def _shape_block(lines: list[str] | None, shapes: Shapes, first_line: int, source: str,
                 deadline: float | None, joined: str | None = None, n: int = 0
                 ) -> list | None:
    """The pieces of a block, or None (the path declines): a `Rows` per shape (their
    lines interleave) and, when there are any, a list of (form, line) for the lines
    read alone. The block is `lines`, or `joined` (its `n` lines joined by newlines:
    then the lines are split out only if a line is read on its own)."""
    if joined is None:
        joined = "\n".join(lines)
    if lines is not None:
        n = len(lines)
    split = [lines]

    def lines_of() -> list[str]:
        if split[0] is None:
            split[0] = joined.split("\n")
        return split[0]
    # (shape, its lines, their fields as rows or else as columns)
    owned: list[tuple[Shape, Any, Any, Any]] = []
    pending: list[int] | range = range(n)
    plain = "#" not in joined and "\r" not in joined
    for shape in shapes.known:
        pending = _take(shape, lines_of, joined, pending, owned, plain)
        if not pending:
            break
    tries = 0
    while pending and tries < SHAPE_LEARN_TRIES and len(shapes.known) < MAX_SHAPES \
            and len(pending) > tries:
        shape = Shape.learn(lines_of()[pending[tries]])
        if shape is None:
            tries += 1
            continue
        shapes.known.append(shape)
        pending = _take(shape, lines_of, joined, pending, owned, plain)
    # the value pattern left out strings and the like; tags but records' (a set
    # `#{...}`, `#inst`, a `#_` discard) are looked for here, and only when the block
    # holds them (a record's tag starts its line: no value holds it); `null` (a symbol)
    # with the values (_jepsen_block)
    tagged = not plain and "#" in joined and joined.count("#") != joined.count(
        "\n#") + joined.startswith("#")
    if tagged:
        owned, pending = _plain_values(owned, pending)
    if len(pending) > MIXED_SHARE * n:
        return None
    alone: dict[int, list] = {}
    for k in pending:  # lines read alone: each must be a form of its own (_mixed_block)
        forms = _form_alone(lines_of()[k], first_line + k, source, deadline)
        if forms is None:
            return None
        alone[k] = forms
    tables = []  # (shape, columns, line numbers k)
    slashes = "/" in joined
    for shape, ks, matches, columns in owned:
        if columns is None:
            columns = list(zip(*matches))
        if shape.value >= 0:
            texts = columns[shape.value]
            values = None if shape.marked else _jepsen_block(
                texts, shapes.values, tags=None if tagged else (), nulls=True)
            if values is None:  # maps with other keys than keywords, sets: marked arrays
                values = _marked_values(texts)
                if values is None:
                    return None
                shape.marked = True  # and so from now on: JSON objects would not do
            columns[shape.value] = values
        for c, col in enumerate(columns):
            if c != shape.value:
                columns[c] = shape.column(c, col, slashes)
                if columns[c] is None:
                    return None
        tables.append((shape, columns, ks))
    if len(tables) == 1 and not alone:  # the common case: one shape, every line
        shape, columns, _ = tables[0]
        return [Rows(shape.keys, columns, range(first_line, first_line + n), shape.longs)]
    pieces: list = [Rows(shape.keys, columns, list(map(first_line.__add__, ks)),
                         shape.longs) for shape, columns, ks in tables]
    if alone:
        pieces.append([(forms[0], first_line + k) for k, forms in alone.items() if forms])
    return pieces


def _marked_values(texts: tuple[str, ...]) -> list | None:
    """Value texts by the block path (maps and sets as marked arrays: a map's keys may be
    numbers, `{0 100, 1 0}`), each exactly one form; or None."""
    per_text = _fast_block(list(texts))
    if per_text is None or set(map(len, per_text)) != {1}:
        return None
    return list(map(itemgetter(0), per_text))


def _plain_values(owned: list, pending: list[int] | range) -> tuple[list, list[int]]:
    """The shapes' rows whose value the Jepsen-line path reads (`plain_text`), and the
    lines left to be read alone (a value holding `null` or a tag but a record's)."""
    kept, odd = [], list(pending)
    for shape, ks, rows, columns in owned:
        if rows is None:
            rows = list(zip(*columns))
        if shape.value < 0:
            kept.append((shape, ks, rows, None))
            continue
        texts = list(map(itemgetter(shape.value), rows))
        joined = "".join(texts)
        if "null" not in joined and "#" not in joined:
            kept.append((shape, ks, rows, None))
            continue
        bad = {pos for pos, t in enumerate(texts) if ("null" in t or "#" in t) and
               plain_text(t) is None}
        if not bad:
            kept.append((shape, ks, rows, None))
            continue
        odd += [k for pos, k in enumerate(ks) if pos in bad]
        keep = [pos for pos in range(len(ks)) if pos not in bad]
        if keep:
            kept.append((shape, [ks[pos] for pos in keep], [rows[pos] for pos in keep],
                         None))
    return kept, sorted(odd)


def _take(shape: Shape, lines_of: Callable[[], list[str]], joined: str,
          pending: list[int] | range, owned: list, plain: bool = False) -> list[int]:
    """Match `pending` lines against `shape`; record those it matches in `owned` and
    return the others. When no line is taken yet, first by one `findall` over the
    block (a match is one whole line: when there are as many as lines, every line;
    `plain`: the block holds no `#` and no carriage return)."""
    if type(pending) is range:
        if plain and shape.split is not None and not any(
                c in joined for c in _SPECIAL_CHARS + "\x05"):
            columns = shape.columns(joined, len(pending))
            if columns is not None:
                owned.append((shape, pending, None, columns))
                return []
        rows = (shape.findall_plain if plain else shape.findall)(joined)
        if len(rows) == len(pending):
            owned.append((shape, pending, rows, None))
            return []
        if not rows:
            return pending
    matches = list(map(shape.match, map(lines_of().__getitem__, pending)))
    if None not in matches:
        owned.append((shape, pending, list(map(_groups, matches)), None))
        return []
    hit = [(k, m.groups()) for k, m in zip(pending, matches) if m is not None]
    if hit:
        ks, rows = zip(*hit)
        owned.append((shape, ks, rows, None))
    return [k for k, m in zip(pending, matches) if m is None]


# --- the reader -----------------------------------------------------------------------

def _from_edn_format(v: Any, where: str) -> Any:
    """edn_format's values -> plain values (depth-limited)."""
    import edn_format

    def conv(x: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise BadInput(f"{where}: nested more than {MAX_DEPTH} deep")
        if isinstance(x, edn_format.Keyword):
            return x.name
        if isinstance(x, (edn_format.Symbol, edn_format.Char)):
            return str(x)
        if hasattr(x, "items") and callable(x.items):
            return {conv(k, depth + 1): conv(y, depth + 1) for k, y in x.items()}
        if isinstance(x, (frozenset, set)):
            return _sorted([conv(y, depth + 1) for y in x])
        if isinstance(x, (list, tuple)) or type(x).__name__ == "ImmutableList":
            return [conv(y, depth + 1) for y in x]
        return x
    try:
        return conv(v, 0)
    except TypeError:
        raise BadInput(f"{where}: a map key is a collection (keys must be plain values)"
                       ) from None


def read_forms(text: str, source: str = "<edn>", *, deadline: float | None = None,
               first_line: int = 1) -> list[tuple[Any, int]]:
    """Every top-level form of an EDN text as (plain value, line it starts on; the
    text's first line is numbered `first_line`)."""
    return [f for block in iter_blocks(text, source, deadline=deadline,
                                       first_line=first_line) for f in block]


def iter_blocks(text: str, source: str = "<edn>", *, deadline: float | None = None,
                first_line: int = 1) -> Iterator[list[tuple[Any, int]]]:
    """`read_forms` a block of lines at a time (so a caller can turn each block into
    operations and let the plain values go: a million forms never live at once)."""
    for pieces in iter_pieces(text, source, deadline=deadline, first_line=first_line):
        if len(pieces) == 1:
            yield pieces[0].forms() if type(pieces[0]) is Rows else pieces[0]
            continue
        out: list[tuple[Any, int]] = []
        for piece in pieces:
            out += piece.forms() if type(piece) is Rows else piece
        out.sort(key=_LINE_OF)  # the pieces' lines interleave; no two forms share one
        yield out


_LINE_OF = itemgetter(1)


def iter_pieces(text: str, source: str = "<edn>", *, deadline: float | None = None,
                first_line: int = 1) -> Iterator[list]:
    """`iter_blocks` with the shape path's lines left as columns: each block a list of
    pieces, each a `Rows` (lines of one shape: `Rows.forms()` are their (map, line)
    pairs) or a list of (form, line). Each piece's lines ascend; a block of several
    pieces is the shape path's, whose pieces' lines interleave (one form a line: in
    line order when sorted by line). A block of one `Rows` has `lines` a range."""
    # Nothing read here makes a reference cycle; the collector's passes over the growing
    # heap would cost more than the reading (as results.history.parse_jsonl does)
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark: how the file was encoded, not EDN text
    collecting = gc.isenabled()
    gc.disable()
    keywords = Keywords()
    shapes = Shapes()
    try:
        tags: Any = False  # plain_text(text), found when a block first needs it
        pos, line, size = 0, first_line, len(text)  # the next block's offset and line
        while pos < size:
            if deadline is not None and monotonic() > deadline:
                from results.history import ReadTimedOut
                raise ReadTimedOut(f"{source}: reading passed the deadline at line {line}")
            # a block of whole lines: from pos to the end of the line BLOCK_CHARS on
            end = text.find("\n", pos + BLOCK_CHARS)
            end = size if end == -1 else end + 1
            body = text[pos:end - 1] if text[end - 1] == "\n" else text[pos:end]
            if shapes.declined < SHAPE_DECLINES_MAX and body:
                # the shape path reads the block's text as it is: no list of its lines
                n = body.count("\n") + 1
                pieces = _shape_block(None, shapes, line, source, deadline, joined=body,
                                      n=n)
                shapes.declined = 0 if pieces is not None else shapes.declined + 1
                if pieces is not None:
                    pos, line = end, line + n
                    yield pieces
                    continue
            if tags is False:
                tags = plain_text(text)  # None: each block is checked apart
            lines = body.split("\n")
            i, pos = yield from _line_blocks(text, lines, pos, line - 1, keywords, tags,
                                             source, deadline)
            line += i
    finally:
        if collecting:
            gc.enable()


def _line_blocks(text: str, lines: list[str], pos: int, base: int, keywords: Keywords,
                 tags: Any, source: str, deadline: float | None
                 ) -> Iterator[list]:
    """The pieces of `lines` (text from offset pos on; line k is numbered base + k + 1)
    by the paths after the shape path, BLOCK_LINES at a time; returns the number of
    lines read and the offset reached (past `lines` when the general path read a form
    that goes on beyond them)."""
    i, n = 0, len(lines)  # next line to read, and pos its offset in text
    while i < n:
        if deadline is not None and monotonic() > deadline:
            from results.history import ReadTimedOut
            raise ReadTimedOut(f"{source}: reading passed the deadline at line "
                               f"{base + i + 1}")
        j = min(i + BLOCK_LINES, n)
        seg = lines[i:j]
        while seg and not seg[-1]:
            seg.pop()  # empty lines (the one after the file's last newline)
        block_end = pos + sum(map(len, lines[i:j])) + (j - i)  # line j's offset
        if not seg:  # empty lines only
            i, pos = j, block_end
            continue
        forms = _jepsen_block(seg, keywords, tags=tags)
        if forms is not None:  # one form a line, from line i on
            starts = range(base + i + 1, base + i + 1 + len(forms))
            i, pos = j, block_end
            yield [list(zip(forms, starts))]
            continue
        mixed = _mixed_block(seg, keywords, base + i + 1, source) if tags is None else None
        if mixed is not None:  # plain lines by the Jepsen-line path, the rest alone
            i, pos = j, block_end
            yield [mixed]
            continue
        per_line = _fast_block(lines[i:j])
        if per_line is not None:  # each line's forms
            out = [(f, base + i + k + 1) for k, line_forms in enumerate(per_line)
                   for f in line_forms]
            i, pos = j, block_end
            yield [out]
            continue
        out: list[tuple[Any, int]] = []
        i, pos = _general_block(text, lines, i, pos, block_end, source, deadline, out,
                                base)
        yield [out]
    return i, pos


# what makes a line not plain (plain_text), but for record tags: found by one scan
_NOT_PLAIN = re.compile(
    r"""["\\;^`~@'\x05]|null|#(?![A-Za-z][\w.*+!\-?<>=/]*\{)|#(?:inst|uuid)\{""")
MIXED_SHARE = 0.1  # at most this share of a block's lines read one by one


def _mixed_block(lines: list[str], keywords: Keywords, first_line: int, source: str
                 ) -> list[tuple[Any, int]] | None:
    """A block with a few lines the Jepsen-line path does not read (a string in an
    `:error`, a nemesis op's map of strings): those lines each by the general path
    alone, the others by the Jepsen-line path; or None (then the block paths below).
    The answer is the whole block's only when every line holds its own forms: the
    Jepsen-line path proves it of its lines (one form each), and a line read alone must
    be one complete form (or blank, or a comment), with no `#_` (which would discard
    the next line's form) and no tag at its end (which would tag it)."""
    joined = "\n".join(lines)
    starts = [0]
    for s in lines:
        starts.append(starts[-1] + len(s) + 1)
    odd = sorted({bisect_right(starts, m.start()) - 1 for m in _NOT_PLAIN.finditer(joined)})
    if not odd or len(odd) > MIXED_SHARE * len(lines):
        return None
    odd_set = set(odd)
    out: dict[int, list] = {}
    for k in odd:
        forms = _form_alone(lines[k], first_line + k, source, None)
        if forms is None:
            return None
        out[k] = forms
    rest = [k for k in range(len(lines)) if k not in odd_set and lines[k].strip()]
    if rest:
        plain = [lines[k] for k in rest]
        forms = _jepsen_block(plain, keywords)
        if forms is None:
            return None
        for k, f in zip(rest, forms):
            out[k] = [f]
    return [(f, first_line + k) for k in sorted(out) for f in out[k]]


def _general_block(text: str, lines: list[str], i: int, pos: int, block_end: int,
                   source: str, deadline: float | None, out: list, base: int
                   ) -> tuple[int, int]:
    """Forms from line i (offset pos) by the general path, on past the block's end
    (offset block_end) until a form ends a line; returns the (line, offset) to go on
    from."""
    for form, line, end in _general(text, pos, base + i + 1, source, deadline):
        out.append((form, line))
        if end >= block_end - 1:
            nl = text.find("\n", end)
            if nl == -1:
                continue  # the last line: its forms to the end of the text
            if not text[end:nl].strip():
                return i + text.count("\n", pos, nl) + 1, nl + 1
    return len(lines), len(text)


def _form_alone(s: str, line_no: int, source: str, deadline) -> list | None:
    """The forms of one line read alone: one form, or none on a blank or comment line;
    None when the line is not a form of its own (or an odd one): the block paths say."""
    if "#_" in s:
        return None
    try:  # a tag or #_ at the end of the line, waiting for the next line's form: BadInput
        forms = [f for f, _, _ in _general(s, 0, line_no, source, deadline)]
    except BadInput:
        return None
    stripped = s.strip()
    if len(forms) != 1 and not (not forms and (not stripped or stripped[0] == ";")):
        return None
    return forms
