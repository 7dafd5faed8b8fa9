"""History file formats, all read into `results.history.Op` records.

`load(path, fmt)` is the one entry point: `jsonl` (gtcheck's own), `edn` (Jepsen
histories), `porcupine-etcd` and `porcupine-kv` (Porcupine's recorded logs, see
../shared/peer-histories/porcupine/README.md). Every reader raises BadInput naming the
file and line of the first problem.

Jepsen EDN: a vector or list of maps, or one map per line, with `:process :type :f
:value` and optional `:time :index :error :key`, read in linear time by `results.edn`
(keywords become strings, vectors lists, sets sorted lists); field types and sizes are
checked (`_edn_op`). Jepsen writes nemesis operations as two `:info` maps; the first of each
pair is read as the invocation.

Porcupine's logs carry no timestamps: line order is real-time order, so `time` is the
line's rank among the records read. etcd logs (`INFO jepsen.util - P :type :f value`,
tabs or spaces) follow Porcupine's own parser: `:fail :cas` is a compare that did not
match (kept as a fail cas with no error), `:fail :read :timed-out` is a read with an
unknown result (a fail read with error "timed-out": it constrains nothing), `:info`
completions are crashed operations that stay open to the end; every other line is
ignored. kv logs are EDN maps, one a line (`:f` get / put / append on string keys).
"""

from __future__ import annotations

import gc
import json
import os
import re
from itertools import chain, compress, repeat
from operator import attrgetter, itemgetter, length_hint
from typing import Any, Iterable, Iterator, Sequence

from results.history import (INFO, INVOKE, NEMESIS, TYPES, Op, ReadTimedOut, make_op,
                             make_ops, read_jsonl, validate)
from results.history import _SHARE_MIN, _shared_elements  # as the JSONL reader shares
from gtcheck.errors import BadInput

FORMATS = ("jsonl", "edn", "porcupine-etcd", "porcupine-kv")


def load(path: str | os.PathLike, fmt: str = "jsonl", *, check: bool = True,
         deadline: float | None = None) -> list[Op]:
    """Read a history file of the given format into ops (validated unless check=False).
    Reading and parsing raise results.history.ReadTimedOut past `deadline` (monotonic)."""
    if fmt == "jsonl":
        return read_jsonl(path, check=check, deadline=deadline)
    if fmt not in FORMATS:
        raise BadInput(f"unknown history format {fmt!r} (expected one of {', '.join(FORMATS)})")
    path = os.fspath(path)
    text = read_text(path, deadline=deadline)
    # nothing read or checked here makes a reference cycle: the collector's passes over
    # the new operations (a gen-0 pass over all of them once they are made) would cost
    # a third of the reading (as results.history.parse_jsonl, which checks as it reads)
    collecting = gc.isenabled()
    gc.disable()
    try:
        if fmt == "edn":
            ops, lines = parse_edn(text, source=path, deadline=deadline)
        elif fmt == "porcupine-etcd":
            ops, lines = etcd_from_text(text, source=path)
        else:
            ops, lines = kv_from_text(text, source=path)
        if check:
            validate(ops, source=path, lines=lines, order=True)
    finally:
        if collecting:
            gc.enable()
    return ops


CHUNK_BYTES = 1 << 22  # read in 4 MiB pieces: the deadline and NUL check see each


def read_text(path: str, *, deadline: float | None = None) -> str:
    """A history file's text; BadInput naming the file when it cannot be read as UTF-8
    text (a NUL byte says it is not text: /dev/zero stops at once, in bounded memory).
    Past `deadline` (time.monotonic()) raises results.history.ReadTimedOut."""
    import codecs
    from time import monotonic
    parts: list[str] = []
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    try:
        with open(path, "rb") as fh:
            text = _whole_text(fh, path)
            if text is not None:
                if deadline is not None and monotonic() > deadline:
                    raise ReadTimedOut(f"{path}: reading passed the deadline at byte "
                                       f"{len(text)}")
                return text
            while True:
                chunk = fh.read(CHUNK_BYTES)
                if not chunk:
                    break
                nul = chunk.find(b"\0")
                if nul >= 0:
                    raise BadInput(f"{path}: not a text file (a NUL byte at offset "
                                   f"{offset + nul})")
                parts.append(decoder.decode(chunk))
                offset += len(chunk)
                if deadline is not None and monotonic() > deadline:
                    raise ReadTimedOut(f"{path}: reading passed the deadline at byte "
                                       f"{offset}")
            parts.append(decoder.decode(b"", final=True))
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text") from None
    return "".join(parts)


# larger files are read in chunks, the deadline checked per chunk (a whole file is
# decoded by one call: about 0.3 s a GiB here)
WHOLE_MAX = 1 << 30


def _whole_text(fh: Any, path: str) -> str | None:
    """A regular file of at most WHOLE_MAX bytes read and decoded by one call each (a
    third of the chunked reading's CPU time: no incremental decoder, no join); None for
    any other file (a pipe, /dev/zero), which read_text reads in chunks. (Not a memory
    map, which would be quicker still: a file truncated while mapped kills the process
    with SIGBUS.)"""
    import stat
    st = os.fstat(fh.fileno())
    if not stat.S_ISREG(st.st_mode) or not 0 < st.st_size <= WHOLE_MAX:
        return None
    data = fh.read()  # to its end, as the chunked reading (a file may grow meanwhile)
    nul = data.find(b"\0")
    if nul >= 0:
        raise BadInput(f"{path}: not a text file (a NUL byte at offset {nul})")
    return data.decode("utf-8")


# --- Porcupine etcd logs ---------------------------------------------------------------

_ETCD = re.compile(r"^INFO\s+jepsen\.util\s+-\s+(\d{1,18})\s+:(invoke|ok|fail|info)\s+"
                   r":(read|write|cas)\s+(nil|\d{1,18}|\[\s*(\d{1,18})\s+(\d{1,18})\s*\]|:timed-out)\s*$")


def _etcd_value(m: re.Match) -> Any:
    raw = m.group(4)
    if raw == "nil":
        return None
    if raw == ":timed-out":
        return ":timed-out"
    if m.group(5) is not None:
        return [int(m.group(5)), int(m.group(6))]
    return int(raw)


def _etcd_problem(typ: str, f: str, value: Any, error: str | None) -> str | None:
    """What is wrong with an etcd log record, by Porcupine's rules (None if fine)."""
    if value == ":timed-out":
        return f"only a fail or info completion can be :timed-out, not {typ}"
    if f == "read" and typ == INVOKE and value is not None:
        return "a read must be invoked with nil"
    if f == "read" and typ == "fail" and error is None:
        return "a failed read must be :timed-out"
    if f == "write" and typ in (INVOKE, "ok") and not isinstance(value, int):
        return "a write needs an integer value"
    if f == "write" and typ == "fail":
        return "Porcupine's etcd logs have no failed writes"
    if f == "cas" and typ != "info" and not isinstance(value, list):
        return "a cas needs [old new]"
    return None


def parse_porcupine_etcd(lines: Iterable[str], *, source: str = "<etcd log>"
                         ) -> tuple[list[Op], list[int]]:
    """Jepsen etcd log lines -> ops (and their line numbers), as Porcupine reads them."""
    ops: list[Op] = []
    linenos: list[int] = []
    invoked: dict[int, Op] = {}
    for lineno, line in enumerate(lines, start=1):
        if "jepsen.util" not in line:
            continue
        m = _ETCD.match(line.strip())
        if m is None:
            continue  # Porcupine ignores every other line
        process, typ, f = int(m.group(1)), m.group(2), m.group(3)
        value = _etcd_value(m)
        error = None
        if value == ":timed-out" and typ in ("fail", "info"):
            inv = invoked.get(process)  # a crashed write/cas keeps its argument
            value = inv.value if inv is not None and f != "read" else None
            error = "timed-out"
        problem = _etcd_problem(typ, f, value, error)
        if problem:
            raise BadInput(f"{source}:{lineno}: {problem}")
        op = Op(index=len(ops), time=len(ops), type=typ, process=process, f=f, value=value,
                error=error)
        if typ == INVOKE:
            invoked[process] = op
        ops.append(op)
        linenos.append(lineno)
    return ops, linenos


class LineNumbers(Sequence[int]):
    """Line numbers of match offsets in a text, counted only when asked (for an error)."""

    def __init__(self, text: str, offsets: list[int]):
        self.text, self.offsets = text, offsets

    def __len__(self) -> int:
        return len(self.offsets)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self.text.count("\n", 0, self.offsets[i]) + 1


_ETCD_TEXT = re.compile(r"^[^\S\n]*INFO[^\S\n]+jepsen\.util[^\S\n]+-[^\S\n]+(\d{1,18})[^\S\n]+"
                        r":(invoke|ok|fail|info)[^\S\n]+:(read|write|cas)[^\S\n]+"
                        r"(nil|\d{1,18}|\[[^\S\n]*(\d{1,18})[^\S\n]+(\d{1,18})[^\S\n]*\]|:timed-out)"
                        r"[^\S\n]*$", re.M)


def etcd_from_text(text: str, *, source: str = "<etcd log>"
                   ) -> tuple[list[Op], Sequence[int]]:
    """`parse_porcupine_etcd` over a whole file at once (one regex scan of the text; the
    same ops, tested on the whole corpus), for whole-process speed."""
    if "\r" in text or "\x0b" in text or "\x0c" in text:  # other line ends: the reference
        return parse_porcupine_etcd(text.splitlines(), source=source)
    ops: list[Op] = []
    offsets: list[int] = []
    invoked: dict[int, Op] = {}
    add, at = ops.append, offsets.append
    words = {w: w for w in ("invoke", "ok", "fail", "info", "read", "write", "cas")}
    for m in _ETCD_TEXT.finditer(text):
        p, typ, f, raw, a, b = m.groups()
        process, typ, f = int(p), words[typ], words[f]
        error = None
        if raw == "nil":
            value: Any = None
        elif a is not None:
            value = [int(a), int(b)]
        elif raw == ":timed-out":
            value = raw
            if typ == "fail" or typ == "info":
                inv = invoked.get(process)  # a crashed write/cas keeps its argument
                value = inv.value if inv is not None and f != "read" else None
                error = "timed-out"
        else:
            value = int(raw)
        problem = _etcd_problem(typ, f, value, error)
        if problem:
            raise BadInput(f"{source}:{text.count(chr(10), 0, m.start()) + 1}: {problem}")
        i = len(ops)
        op = make_op(i, i, typ, process, f, None, value, None, None, error)
        if typ == "invoke":
            invoked[process] = op
        add(op)
        at(m.start())
    return ops, LineNumbers(text, offsets)


_KV_TEXT = re.compile(r'^[^\S\n]*\{:process (\d{1,18}), :type :(invoke|ok|fail|info), '
                      r':f :(get|put|append), :key "([^"\\\n]*)", :value (nil|"([^"\\\n]*)")\}'
                      r'[^\S\n]*$', re.M)


def kv_from_text(text: str, *, source: str = "<kv log>") -> tuple[list[Op], Sequence[int]]:
    """`parse_porcupine_kv` over a whole file at once when every non-blank line is of the
    common shape (one regex scan when there are no blank lines either, a second one to
    place the lines when there are); otherwise the line-by-line reader."""
    if "\r" in text or "\x0b" in text or "\x0c" in text:
        return parse_porcupine_kv(text.splitlines(), source=source)
    ops: list[Op] = []
    add = ops.append
    words = {w: w for w in ("invoke", "ok", "fail", "info", "get", "put", "append")}
    keys: dict[str, str] = {}
    for i, m in enumerate(_KV_TEXT.finditer(text)):
        p, typ, f, key, raw, value = m.groups()
        add(make_op(i, i, words[typ], int(p), words[f], keys.setdefault(key, key),
                    None if raw == "nil" else value, None, None, None))
    if ops and len(ops) == text.count("\n") + (not text.endswith("\n")):
        # every line matched (a match never spans lines, a line holds at most one), so
        # op i is on line i + 1: no gap between matches to look at, no offsets to keep
        # (issue 23: a fifth of the reading of 100,000 kv operations)
        return ops, range(1, len(ops) + 1)
    ops.clear()  # blank lines or lines of other shapes: find where, as before
    offsets: list[int] = []
    at = offsets.append
    end = 0
    for m in _KV_TEXT.finditer(text):
        if text[end:m.start()].strip():  # a line of another shape: the general reader
            return parse_porcupine_kv(text.splitlines(), source=source)
        end = m.end()
        p, typ, f, key, raw, value = m.groups()
        i = len(ops)
        add(make_op(i, i, words[typ], int(p), words[f], keys.setdefault(key, key),
                    None if raw == "nil" else value, None, None, None))
        at(m.start())
    if text[end:].strip():
        return parse_porcupine_kv(text.splitlines(), source=source)
    return ops, LineNumbers(text, offsets)


# --- EDN (Jepsen histories, Porcupine kv logs) -----------------------------------------

def _edn():
    import edn_format  # imported lazily: only EDN readers need it
    return edn_format


def _plain(v: Any) -> Any:
    """EDN values -> plain Python (JSON-able) values."""
    edn = _edn()
    if isinstance(v, edn.Keyword):
        return v.name
    if isinstance(v, edn.Symbol):
        return str(v)
    if isinstance(v, edn.Char):
        return str(v)
    if isinstance(v, dict):  # ImmutableDict is a Mapping; also plain dicts
        return {_plain(k): _plain(x) for k, x in v.items()}
    if hasattr(v, "items") and callable(v.items):
        return {_plain(k): _plain(x) for k, x in v.items()}
    if isinstance(v, frozenset | set):
        items = [_plain(x) for x in v]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    if isinstance(v, list | tuple) or type(v).__name__ == "ImmutableList":
        return [_plain(x) for x in v]
    return v


LONG = 2 ** 63  # Jepsen's process, index and time are Java longs


def _edn_op(m: Any, prev: Op | None, where: str | tuple) -> Op:
    """One Jepsen op map (plain values, results.edn) -> Op. Without :index it is the
    previous op's + 1 (line order); without :time, the previous op's time (Jepsen's
    nemesis ops may lack it). Field types are checked: BadInput names `where`."""
    if type(m) is dict and _FIELDS.issuperset(m):  # the common shape, checked inline
        get = m.get
        typ, process, f, key, error = get("type"), get("process"), get("f"), get("key"), \
            get("error")
        index = get("index", 0 if prev is None else prev.index + 1)
        time = get("time", 0 if prev is None else prev.time)
        if type(typ) is str and typ in TYPES and type(f) is str and type(index) is int \
                and type(time) is int and -LONG <= index < LONG and -LONG <= time < LONG \
                and ((type(process) is int and -LONG <= process < LONG) or process == NEMESIS) \
                and (key is None or type(key) is str or type(key) is int) \
                and (error is None or type(error) is str):
            return make_op(index, time, typ, process, f, key, get("value"), None, None, error)
    if type(where) is tuple:  # (source, line): formatted only when a message needs it
        where = f"{where[0]}:{where[1]}"
    if type(m) is not dict:
        m = _plain(m) if hasattr(m, "items") and callable(m.items) else m
        if type(m) is not dict:
            raise BadInput(f"{where}: expected an operation map, got {value_kind(m)}")
    get = m.get
    if "process" not in m or "type" not in m or "f" not in m:
        missing = [k for k in ("process", "type", "f") if k not in m]
        raise BadInput(f"{where}: missing :{', :'.join(missing)}")
    typ = get("type")
    if type(typ) is not str or typ not in TYPES:
        raise BadInput(f"{where}: unknown :type {value_text(typ)} (expected invoke, ok, fail "
                       "or info)")
    process = get("process")
    if not ((type(process) is int and -LONG <= process < LONG) or process == NEMESIS):
        raise BadInput(f"{where}: :process must be an integer or :nemesis, got "
                       f"{value_text(process)}")
    f = get("f")
    if type(f) is not str:
        if isinstance(f, list | dict) or f is None:
            raise BadInput(f"{where}: :f must be a keyword, got {value_text(f)}")
        f = str(f)
    index = get("index", 0 if prev is None else prev.index + 1)
    time = get("time", 0 if prev is None else prev.time)
    for name, v in (("index", index), ("time", time)):
        if type(v) is not int or not -LONG <= v < LONG:
            raise BadInput(f"{where}: :{name} must be an integer, got {value_text(v)}")
    key = get("key")
    if key is not None and type(key) not in (str, int):
        raise BadInput(f"{where}: :key must be a string, keyword or integer, got "
                       f"{value_text(key)}")
    error = get("error")
    if error is not None and type(error) is not str:
        error = json.dumps(error, default=str) if isinstance(error, list | dict) \
            else str(error)
    if not _FIELDS.issuperset(m):
        extra = {str(k): v for k, v in m.items() if k not in _FIELDS}
        return Op(index=index, time=time, type=typ, process=process, f=f, key=key,
                  value=get("value"), error=error, extra=extra)
    return make_op(index, time, typ, process, f, key, get("value"), None, None, error)


_FIELDS = frozenset(("process", "type", "f", "value", "index", "time", "error", "key"))


def value_kind(v: Any) -> str:
    return {list: "a vector", dict: "a map", str: "a string", int: "an integer",
            float: "a number", type(None): "nil"}.get(type(v), type(v).__name__)


def value_text(v: Any) -> str:
    """A value for an error message: its kind, and its text when short."""
    text = repr(v) if not isinstance(v, int) or abs(v) < 10 ** 30 else ""
    return text if 0 < len(text) <= 40 else value_kind(v)


def _nemesis_pairs(ops: list[Op]) -> list[Op]:
    """Jepsen logs nemesis ops as two :info maps; read the first of each as the invoke."""
    if NEMESIS not in map(_PROCESS, ops):
        return ops
    open_ = False
    out = []
    for op in ops:
        if op.process == NEMESIS:
            if not open_ and op.type == INFO:
                op = op.replace(type=INVOKE)
            open_ = op.type == INVOKE
        out.append(op)
    return out


_PROCESS = attrgetter("process")


def parse_edn(text: str, *, source: str = "<edn>", deadline: float | None = None
              ) -> tuple[list[Op], Sequence[int] | None]:
    """A Jepsen EDN history: a vector/list of op maps, or op maps one after another
    (read in linear time by results.edn; `deadline` bounds it)."""
    from results import edn
    blocks = edn.iter_pieces(text, source, deadline=deadline)
    collecting = gc.isenabled()
    gc.disable()  # no reference cycles here; the collector's passes cost more than this
    try:
        return _edn_blocks_ops(blocks, source)
    finally:
        if collecting:
            gc.enable()


def _edn_blocks_ops(blocks: Iterator[list], source: str
                    ) -> tuple[list[Op], Sequence[int] | None]:
    """`results.edn.iter_pieces`' blocks -> ops: a block of one `Rows` (every line of
    one shape, as columns) by whole columns (`_rows_ops`), a block of several pieces
    (the shape path's, with lines read alone) merged in line order, all else a form at
    a time."""
    from results.edn import Rows
    blocks = iter(blocks)
    block: list = []
    for block in blocks:
        block = [p for p in block if p]
        if block:
            break
    if not block:
        return [], []
    first = block[0]
    if type(first) is not Rows and type(first[0][0]) is not dict:  # a vector, or bad
        return _edn_ops(chain.from_iterable(
            p.forms() if type(p) is Rows else p
            for p in chain.from_iterable(chain([block], blocks))), source)
    ops: list[Op] = []
    share = {}.setdefault  # equal read elements and reads: one object each (_share_reads)
    # the line numbers: one range while the blocks are whole runs of lines (Rows), so
    # a million-line history holds no million line numbers; a list once they are not
    run = range(0)
    linenos: list[int] | None = None
    prev = None
    add = ops.append
    for block in chain([block], blocks):
        if not block:
            continue
        if len(block) == 1 and type(block[0]) is Rows:
            made = _rows_ops(block[0], prev, share)
            if made is not None:
                ops += made
                lines = block[0].lines
                if linenos is None and type(lines) is range and (
                        not run or run.stop == lines.start):
                    run = range(run.start if run else lines.start, lines.stop)
                else:
                    linenos = list(run) if linenos is None else linenos
                    linenos += lines
                prev = made[-1]
                continue
        linenos = list(run) if linenos is None else linenos
        add_line = linenos.append
        for line, x in _in_line_order(block, share):
            if type(x) is not Op:
                x = _edn_op(x, prev, (source, line))  # says what is wrong, if anything
            add(x)
            add_line(line)
            prev = x
    return _nemesis_pairs(ops), run if linenos is None else linenos


_TIMED = frozenset(("index", "time"))


def _in_line_order(block: list, share: Any = None) -> list[tuple[int, Any]]:
    """A block's pieces as (line, Op or op map) in line order: a `Rows` with `:index`
    and `:time` (so no op of it takes a default from the one before) by whole columns
    when they pass, every other row and form as its map, for `_edn_op`."""
    from results.edn import Rows
    if len(block) == 1 and type(block[0]) is not Rows:
        return [(line, m) for m, line in block[0]]
    entries: list[tuple[int, Any]] = []
    for piece in block:
        if type(piece) is Rows:
            made = _rows_ops(piece, None, share) if _TIMED.issubset(piece.keys) else None
            if made is not None:
                entries += zip(piece.lines, made)
                continue
            piece = piece.forms()
        entries += ((line, m) for m, line in piece)
    entries.sort(key=_FIRST)
    return entries


_FIRST = itemgetter(0)


_OP_KEYS = frozenset(("process", "type", "f"))
_KEY_KINDS = frozenset((type(None), str, int))
_ERROR_KINDS = frozenset((type(None), str))


def _rows_ops(rows: Any, prev: Op | None, share: Any = None) -> list[Op] | None:
    """The ops of a `results.edn.Rows` when every column passes `_edn_op`'s checks,
    checked a column at a time (else None, and `_edn_op` reads each row and says what
    is wrong): the same ops, defaults included (no :index, the previous op's + 1; no
    :time, the previous op's)."""
    keys = rows.keys
    if not _FIELDS.issuperset(keys) or not _OP_KEYS.issubset(keys):
        return None  # extra fields, or a field missing
    col = dict(zip(keys, rows.columns))
    n = len(rows)
    longs = rows.longs  # columns the reader's pattern proved ints within a long
    typ, f, process = col["type"], col["f"], col["process"]
    if not TYPES.issuperset(typ) or not _all_of(str, f) or not (
            "process" in longs or _longs(process, NEMESIS)):
        return None
    if "index" in col:
        index = col["index"]
        if "index" not in longs and not _longs(index):
            return None
    else:
        start = 0 if prev is None else prev.index + 1
        index = range(start, start + n)
    if "time" in col:
        time = col["time"]
        if "time" not in longs and not _longs(time):
            return None
    else:
        time = repeat(0 if prev is None else prev.time)
    key, error = col.get("key"), col.get("error")
    if key is not None and not _KEY_KINDS.issuperset(map(type, key)) or \
            error is not None and not _ERROR_KINDS.issuperset(map(type, error)):
        return None
    value = col.get("value")
    if value is not None and share is not None:
        _share_reads(value, typ, share)
    return make_ops(index, time, typ, process, f, repeat(None) if key is None else key,
                    repeat(None) if value is None else value,
                    repeat(None) if error is None else error)


def _share_reads(values: list, types: Sequence[str], share: Any) -> None:
    """Completions' lists of more than _SHARE_MIN ints or strings with each element, and
    each equal list, one object (results.history._shared_elements, as the JSONL reader
    does: a set run's reads repeat every element added before them; issue 23: 148M read
    elements took 12 GB). The long lists are found by C-level calls (about 50 ns an
    operation); `share` is the file's table (dict.setdefault)."""
    for i in compress(range(len(values)), map(_SHARE_MIN.__lt__, map(length_hint,
                                                                        values))):
        v = values[i]
        if type(v) is list and types[i] != INVOKE:
            values[i] = _shared_elements(v, share)


def _all_of(kind: type, column: Sequence[Any]) -> bool:
    return set(map(type, column)) == {kind}


def _longs(column: Sequence[Any], name: str | None = None) -> bool:
    """Every element an int within a Java long (or, given, equal to `name`)."""
    kinds = set(map(type, column))
    if kinds == {int}:
        return -LONG <= min(column) and max(column) < LONG
    if name is None or not kinds <= {int, str}:
        return False
    ints = [v for v in column if type(v) is int]
    return len(ints) + column.count(name) == len(column) and (
        not ints or -LONG <= min(ints) and max(ints) < LONG)


def _edn_ops(forms: Iterator[tuple[Any, int]], source: str
             ) -> tuple[list[Op], list[int] | None]:
    """Op maps, one a line (consumed as read), or one vector of them -> ops."""
    ops: list[Op] = []
    first = next(forms, None)
    if first is None:
        return ops, []
    if type(first[0]) is not dict:
        second = next(forms, None)
        if second is None and type(first[0]) is list:  # one vector of op maps
            for i, m in enumerate(first[0]):
                ops.append(_edn_op(m, ops[-1] if ops else None,
                                   f"{source}: operation {i + 1}"))
            return _nemesis_pairs(ops), None
        if second is None:
            raise BadInput(f"{source}:{first[1]}: expected a vector or list of operation "
                           f"maps, or one map a line; got {value_kind(first[0])}")
        _edn_op(first[0], None, (source, first[1]))  # says what is wrong with it
    linenos: list[int] = []
    prev = None
    add, add_line = ops.append, linenos.append
    for m, line in chain((first,), forms):
        prev = _edn_op(m, prev, (source, line))
        add(prev)
        add_line(line)
    return _nemesis_pairs(ops), linenos


_KV = re.compile(r'^\{:process (\d{1,18}), :type :(invoke|ok|fail|info), :f :(get|put|append), '
                 r':key "((?:[^"\\]|\\.)*)", :value (nil|"((?:[^"\\]|\\.)*)")\}$')


def parse_porcupine_kv(lines: Iterable[str], *, source: str = "<kv log>"
                       ) -> tuple[list[Op], list[int]]:
    """Porcupine kv logs: one EDN map a line; a regex fast path, EDN for anything else."""
    ops: list[Op] = []
    linenos: list[int] = []
    match = _KV.match
    append, append_line = ops.append, linenos.append
    words = {w: w for w in ("invoke", "ok", "fail", "info", "get", "put", "append")}
    keys: dict[str, str] = {}
    for lineno, line in enumerate(lines, start=1):
        s = line.strip()
        if not s:
            continue
        m = match(s)
        if m is not None and "\\" not in s:
            process, typ, f, key, raw, value = m.groups()
            i = len(ops)
            # the same str objects for repeated words and keys: cheaper to compare/hash
            append(Op(i, i, words[typ], int(process), words[f],
                      keys.setdefault(key, key), None if raw == "nil" else value))
            append_line(lineno)
            continue
        from results import edn
        forms = edn.read_forms(s, source, first_line=lineno)
        where = f"{source}:{lineno}"
        if len(forms) != 1:
            raise BadInput(f"{where}: expected one operation map on the line, got "
                           f"{len(forms)} forms")
        op = _edn_op(forms[0][0], None, where)
        if op.f not in ("get", "put", "append"):
            raise BadInput(f"{where}: kv :f must be get, put or append, got {op.f!r}")
        if type(op.key) is not str:
            raise BadInput(f"{where}: a kv :key must be a string, got {value_text(op.key)}")
        if not (type(op.value) is str or (op.value is None and (
                op.f == "get" or op.type != "invoke" and op.type != "ok"))):
            raise BadInput(f"{where}: a kv {op.f} needs a string :value, got "
                           f"{value_text(op.value)}")
        op = op.replace(index=len(ops), time=len(ops))
        append(op)
        append_line(lineno)
    return ops, linenos
