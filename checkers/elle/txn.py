"""Transactions: a history's invocations and completions paired into `Txn` records.

Elle reasons about transactions, not operations: each completed operation whose value is
a list of micro-operations (`[f, key, value]`: `append` / `r` for list-append, `w` / `r`
for rw-register) becomes one `Txn` with its invocation and completion times. This module
reads the three history shapes `gtcheck check` accepts for transactional models and pairs
them:

- gtcheck JSONL (`results.history.Op`, `f` "txn", `value` the micro-op list, `region`);
- Jepsen EDN (`{:type :ok, :f :txn, :value [[:append 1 2] [:r 2 [1 2]]] ...}`);
- elle-cli JSON (a list of op maps, `"type"`, `"process"`, `"value"`, `"index"`).

Time is `:time` where the history records it, else `:index` (Jepsen's index is the op's
position in a well-formed history). Committed means `ok`; `info` transactions may or may
not have happened (Jepsen's indeterminate outcome: their writes can be observed, but they
precede nothing in real time); `fail` transactions did not happen (Knossos / Jepsen:
a :fail op had no effect), which is what makes reading their writes an aborted read.
"""

from __future__ import annotations

import gc
import json
import os
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Callable, Iterable, Iterator, Sequence

from results.formats import LONG, read_text, value_kind, value_text
from results.json_stream import iter_json_array
from gtcheck.errors import BadInput

OK, INFO, FAIL = "ok", "info", "fail"


@dataclass(slots=True)
class Txn:
    id: int              # position among the history's transactions (graph vertex)
    index: int           # the completion's (or, for an unfinished one, invocation's) index
    process: Any
    type: str            # ok | info | fail
    mops: list           # [(f, key, value), ...] as completed (reads filled in)
    invoke_time: int
    complete_time: int | None  # None: never completed (info)
    region: str | None = None
    invoke_index: int | None = None

    def describe(self) -> str:
        return f"T{self.index}" + (f" ({self.region})" if self.region else "")


_TYPES = ("invoke", OK, INFO, FAIL)


def _mops(value: Any, pos: int, where: Callable[[int], str]) -> list:
    """A transaction's micro-ops as (f, key, value) tuples; list values become tuples.
    Keys and values must be plain (hashable: a number, a string, nil, or a vector of
    them): a version order is inferred from them, so anything else is bad input.
    `where(pos)` names the operation in a message (made only for one)."""
    if not isinstance(value, list):
        raise BadInput(f"{where(pos)}: a transaction's value must be a list of "
                       f"micro-ops, got {value_kind(value)}")
    out = []
    for m in value:
        if not isinstance(m, (list, tuple)) or len(m) not in (2, 3):
            raise BadInput(f"{where(pos)}: micro-op {value_text(m)} is not [f key value]")
        f, k = m[0], m[1]
        v = m[2] if len(m) == 3 else None
        if type(f) is not str:
            raise BadInput(f"{where(pos)}: micro-op {value_text(m)}: f must be a "
                           f"keyword, got {value_text(f)}")
        if isinstance(v, list):
            v = tuple(v)
        if isinstance(k, list):
            k = tuple(k)
        try:
            hash(k)
            hash(v)
        except TypeError:
            raise BadInput(f"{where(pos)}: micro-op {value_text(m)}: keys and values must "
                           "be numbers, strings or vectors of them") from None
        out.append((f, k, v))
    return out


def int_field(r: dict, name: str, where: str, default: Any) -> Any:
    """An integer field (index, time) or the default when absent (nil)."""
    v = r.get(name)
    if v is None:
        return default
    if type(v) is not int or not -LONG <= v < LONG:
        raise BadInput(f"{where}: {name} must be an integer, got {value_text(v)}")
    return v


def pair(records: Iterable[dict], source: str = "<history>",
         lines: Sequence[int] | None = None) -> list[Txn]:
    """Plain op dicts (type, process, value, index, time?, region?) -> transactions, in
    completion order. Nemesis and non-transactional operations are skipped. Pairing is
    checked as every reader checks it (results.history): one operation in flight per
    process, no completion without an invocation; field types are checked too. `lines`
    (line numbers per record) names the line of a problem, else the op's position."""
    pairing = Pairing(source)
    add = pairing.add
    for pos, r in enumerate(records):
        add(r, pos, lines[pos] if lines is not None else None)
    return pairing.finish()


class Pairing:
    """`pair`, one record at a time: `add(record, pos, line)` each, then `finish()` for
    the transactions (so a streamed reader can pair a record and let it go)."""

    __slots__ = ("source", "open_", "done")

    def __init__(self, source: str = "<history>"):
        self.source = source
        self.open_: dict[Any, tuple] = {}  # process -> (invocation, its time, its index)
        self.done: list[Txn] = []  # in completion order: the records' (no sort needed)

    def where(self, pos: int, line: Any = None) -> str:  # made only to name a problem
        return f"{self.source}:{line}" if line is not None else \
            f"{self.source}: op {pos + 1}"

    def add(self, r: Any, pos: int, line: Any = None) -> None:
        def where_(p: int) -> str:
            return self.where(p, line)
        if type(r) is not dict:
            raise BadInput(f"{where_(pos)}: expected an operation map, got {value_kind(r)}")
        process = r.get("process")
        if not ((type(process) is int and -LONG <= process < LONG) or process == "nemesis"):
            raise BadInput(f"{where_(pos)}: process must be an integer or nemesis, got "
                           f"{value_text(process)}")
        typ = r.get("type")
        # jepsen.history/dense-history-pair-index knows :invoke, :ok, :fail and :info
        # only (any other type, e.g. :crash, is an error there): a crashed op is :info
        if typ not in _TYPES:
            raise BadInput(f"{where_(pos)}: unknown type {value_text(typ)} (expected "
                           "invoke, ok, fail or info; Jepsen records a crashed operation "
                           "as info)")
        index, t = r.get("index"), r.get("time")
        if type(index) is not int or not -LONG <= index < LONG:
            index = int_field(r, "index", where_(pos), pos)
        if type(t) is not int or not -LONG <= t < LONG:
            t = int_field(r, "time", where_(pos), -1)
        if process == "nemesis" or (r.get("f") not in (None, "txn")):
            return
        if t == -1:
            t = index
        open_ = self.open_
        if typ == "invoke":
            if process in open_:
                raise BadInput(f"{where_(pos)}: process {process} invokes while its "
                               f"transaction of op {open_[process][2]} is in flight "
                               "(double invoke)")
            open_[process] = (r, t, index)
            return
        inv = open_.pop(process, None)
        if inv is None:
            raise BadInput(f"{where_(pos)}: {typ} completion of process {process!r} "
                           "without an invocation")
        value = r.get("value")
        if value is None:
            value = inv[0].get("value")
        mops = _mops(value, pos, where_)
        region = r.get("region") or inv[0].get("region")
        done = self.done
        done.append(Txn(len(done), index, process, typ, mops, inv[1],
                        t if typ != INFO else None,
                        region if type(region) is str else None, inv[2]))

    def finish(self) -> list[Txn]:
        """The transactions, with invocations never completed last (indeterminate, like
        info)."""
        done = self.done
        for process, (r, t, index) in self.open_.items():
            done.append(Txn(len(done), index, process, INFO,
                            _mops(r.get("value"), index,
                                  lambda i: f"{self.source}: op {i}"),
                            t, None, r.get("region"), index))
        self.open_ = {}
        return done


def from_ops(ops: Sequence[Any], *, timed: bool = True) -> list[Txn]:
    """gtcheck `Op` records (results.history) -> transactions. `timed=False`: the
    records' times say nothing, and each index stands for its time (`pair`'s rule)."""
    return pair(({"type": o.type, "process": o.process, "f": o.f, "value": o.value,
                  "index": o.index, "time": o.time if timed else None,
                  "region": o.region} for o in ops))


# --- readers ----------------------------------------------------------------------------

def read_edn(text: str, source: str, *, deadline: float | None = None,
             lines: list | None = None) -> list[dict]:
    """A Jepsen EDN history (one op map a line, or one vector of them) as plain op maps,
    read in linear time (results.edn). `lines`, when given, receives each map's line."""
    from results import edn
    forms = edn.read_forms(text, source, deadline=deadline)
    if len(forms) == 1 and type(forms[0][0]) is list:
        out = forms[0][0]
        where = [f"operation {i + 1}" for i in range(len(out))]
    else:
        out = [f for f, _ in forms]
        where = [str(ln) for _, ln in forms]
    for i, d in enumerate(out):
        if type(d) is not dict:
            raise BadInput(f"{source}:{where[i]}: expected an operation map, got "
                           f"{value_kind(d)}")
    if lines is not None:
        lines.extend(where)
    return out


def read_elle_json(text: str, source: str) -> list[dict]:
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise BadInput(f"{source}: not valid JSON ({e.msg} at line {e.lineno})") from None
    except RecursionError:
        raise BadInput(f"{source}: not valid JSON (nested too deeply)") from None
    except ValueError as e:  # Python's int-string limit, NaN / Infinity
        raise BadInput(f"{source}: not valid JSON ({str(e).split(';')[0]})") from None
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise BadInput(f"{source}: elle-json must be a list of operation objects")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def check_depth(records: Sequence[dict], source: str, limit: int = 32,
                start: int = 0) -> None:
    """BadInput when an op's value nests deeper than `limit` (iteratively): the
    checkers that compare values recursively (Jepsen's rules) need them plain.
    `start`: the position of records[0] in the history (ops are named from 1)."""
    for i, r in enumerate(records, start):
        stack = [(r.get("value"), 1)]
        while stack:
            v, d = stack.pop()
            if type(v) is list or type(v) is dict:
                if d > limit:
                    raise BadInput(f"{source}: op {i + 1}: value nested more than "
                                   f"{limit} deep")
                stack.extend((x, d + 1) for x in (v.values() if type(v) is dict else v))


class PairingCheck:
    """Every reader's pairing rules (results.history), one record at a time: process and
    type well-formed, integer index and time, one operation in flight per process, no
    completion without its invocation, the same f."""

    __slots__ = ("source", "open_", "seen")

    def __init__(self, source: str):
        self.source, self.open_, self.seen = source, {}, 0

    def see(self, r: dict, pos: int, line: Any = None) -> None:
        """`pos`: the record's position (ops are named from 1), or its EDN `line`."""
        self.seen += 1
        p, typ = r.get("process"), r.get("type")
        if not ((type(p) is int and -LONG <= p < LONG) or p == "nemesis"
                or (p is None and "process" not in r)):  # absent: one sequence of ops
            raise BadInput(f"{self._where(pos, line)}: process must be an integer or "
                           f"nemesis, got {value_text(p)}")
        if typ not in _TYPES:
            raise BadInput(f"{self._where(pos, line)}: unknown type {value_text(typ)} "
                           "(expected invoke, ok, fail or info; Jepsen records a crashed "
                           "operation as info)")
        for name in ("index", "time"):
            v = r.get(name)
            if v is not None and (type(v) is not int or not -LONG <= v < LONG):
                int_field(r, name, self._where(pos, line), None)  # raises, naming it
        if p == "nemesis":
            return
        open_ = self.open_
        if typ == "invoke":
            if p in open_:
                raise BadInput(f"{self._where(pos, line)}: process {p} invokes while "
                               f"its {open_[p]!r} is in flight (double invoke)")
            open_[p] = r.get("f")
        elif p not in open_:
            raise BadInput(f"{self._where(pos, line)}: {typ} completion of process {p} "
                           "without an invocation")
        elif open_.pop(p) != r.get("f"):
            raise BadInput(f"{self._where(pos, line)}: the completion's f "
                           f"{value_text(r.get('f'))} is not its invocation's")

    def _where(self, pos: int, line: Any) -> str:
        return f"{self.source}:{line}" if line else f"{self.source}: op {pos + 1}"


def operation_objects(elements: Iterable[Any], source: str) -> Iterator[dict]:
    """The elements of an elle-json array, each checked to be an operation object.

    Equal micro-op names, keys and values become one object each: JSON makes a fresh
    one per occurrence, and a list-append read repeats every value appended before it
    (at a million transactions that is most of the memory the history takes)."""
    table: dict = {}
    share = table.setdefault
    for e in elements:
        if not isinstance(e, dict):
            raise BadInput(f"{source}: elle-json must be a list of operation objects "
                           f"(found {type(e).__name__} {str(e)[:60]})")
        value = e.get("value")
        if type(value) is list:
            for m in value:
                if type(m) is list and len(m) == 3:
                    f, k, v = m
                    if type(f) is str:
                        m[0] = share(f, f)
                    if type(k) is int or type(k) is str:
                        m[1] = share(k, k)
                    if type(v) is list:
                        m[2] = [share(x, x) if type(x) is int else x for x in v]
                    elif type(v) is int:
                        m[2] = share(v, v)
        yield e


_PLAIN_TYPES = frozenset((int, str, float, bool, type(None)))


def _usual_mops(value: list, share: Callable) -> list | None:
    """A transaction value of the usual shape -- [f key value] micro-ops, f a string,
    the key an integer or a string, the value nil, an integer or a vector of integers --
    as `_mops` makes it (vectors as tuples), with equal names, keys and values shared;
    None for any other shape (then the record takes the general path, which checks and
    names whatever is wrong). Such a value is shallow and hashable by construction."""
    out = []
    append = out.append
    for m in value:
        if type(m) is not list or len(m) != 3:
            return None
        f, k, v = m
        tk = type(k)
        if type(f) is not str or (tk is not int and tk is not str):
            return None
        tv = type(v)
        if tv is list:
            if not _ALL_INTS(map(type, v)):
                return None
            v = tuple(map(share, v, v))  # C-level: no Python frame per element
        elif tv is int:
            v = share(v, v)
        elif v is not None:
            return None
        append((share(f, f), share(k, k), v))
    return out


_ALL_INTS = frozenset((int,)).issuperset


def pair_stream(elements: Iterable[tuple[Any, Any]], source: str,
                not_a_map: Callable[[Any, int, Any], BadInput]) -> tuple[list[Txn], int]:
    """(op map, its line or None) pairs -> (transactions, operations seen), in one pass,
    each record checked as `cli_check.read_records` checks a whole history (an object,
    its value nested at most 32 deep, the pairing rules) and paired (`Pairing`) before
    the next is looked at; `not_a_map(element, pos, line)` is the format's own error for
    an element that is not a map.

    Why two paths: a million transactions are two million records, and each general
    step (sharing, depth, `PairingCheck.see`, `Pairing.add`, `_mops`) re-reads the same
    fields. A record of the usual shape (an integer process, f "txn", integer index and
    time, a `_usual_mops` value) whose pairing holds is checked and paired inline, with
    exactly the general path's outcome; every other record takes the general path, which
    names any problem as the whole-history reader does."""
    check = PairingCheck(source)
    pairing = Pairing(source)
    see, add = check.see, pairing.add
    seen_open, open_, done = check.open_, pairing.open_, pairing.done
    table: dict = {}
    share = table.setdefault
    plain = _PLAIN_TYPES.issuperset
    fast = 0
    pos = -1
    for pos, (e, line) in enumerate(elements):
        if type(e) is dict:
            p = e.get("process")
            index = e.get("index")
            t = e.get("time")
            value = e.get("value")
            if (type(p) is int and type(index) is int and type(value) is list
                    and -LONG <= p < LONG and -LONG <= index < LONG
                    and (t is None or (type(t) is int and -LONG <= t < LONG))
                    and e.get("f") == "txn"):
                typ = e.get("type")
                mops = _usual_mops(value, share)
                if mops is not None:
                    if t is None or t == -1:
                        t = index
                    if typ == "invoke":
                        if p not in seen_open:
                            seen_open[p] = "txn"
                            open_[p] = (e, t, index)
                            fast += 1
                            continue
                    elif (typ == OK or typ == INFO or typ == FAIL) \
                            and seen_open.get(p) == "txn":
                        del seen_open[p]
                        inv = open_.pop(p)
                        region = e.get("region") or inv[0].get("region")
                        done.append(Txn(len(done), index, p, typ, mops, inv[1],
                                        t if typ != INFO else None,
                                        region if type(region) is str else None, inv[2]))
                        fast += 1
                        continue
        # the general path: each step as the whole-history reader takes it
        if type(e) is not dict:
            raise not_a_map(e, pos, line)
        if not _shared_and_shallow(e, share, plain):
            check_depth((e,), source, start=pos)
        see(e, pos, line)
        add(e, pos, line)
    check.seen += fast
    return pairing.finish(), check.seen


def _shared_and_shallow(e: dict, share: Callable, plain: Callable) -> bool:
    """Equal names, keys and values of an op's micro-ops made one object each (in
    place); True when its value is of a shape that cannot nest deeply."""
    value = e.get("value")
    shallow = True
    if type(value) is list:
        for m in value:
            if type(m) is not list:
                shallow = shallow and type(m) is not dict
                continue
            if len(m) != 3:
                shallow = shallow and plain(map(type, m))
                continue
            f, k, v = m
            if type(f) is str:
                m[0] = share(f, f)
            elif type(f) is list or type(f) is dict:
                shallow = False
            if type(k) is int or type(k) is str:
                m[1] = share(k, k)
            elif type(k) is list or type(k) is dict:
                shallow = False
            if type(v) is list:
                m[2] = [share(x, x) if type(x) is int else x for x in v]
                shallow = shallow and plain(map(type, v))
            elif type(v) is int:
                m[2] = share(v, v)
            elif type(v) is dict:
                shallow = False
    elif type(value) is dict:
        shallow = False
    return shallow


def _not_an_object(source: str) -> Callable[[Any, int, Any], BadInput]:
    def bad(e: Any, pos: int, line: Any) -> BadInput:
        return BadInput(f"{source}: elle-json must be a list of operation objects "
                        f"(found {type(e).__name__} {str(e)[:60]})")
    return bad


def load_elle_json(path: str, *, deadline: float | None = None) -> list[Txn]:
    """An elle-cli JSON history file as transactions, in one streamed pass (issue 23):
    each operation object is decoded, checked and paired before the next is read, so
    only open invocations and the transactions are held, never the file's text or its
    two million op maps. The cyclic collector is paused meanwhile: nothing read makes a
    reference cycle, and its passes over the growing heap cost twice the decoding."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        txns, seen = pair_stream(zip(iter_json_array(path, deadline=deadline),
                                     repeat(None)), path, _not_an_object(path))
    finally:
        if collecting:
            gc.enable()
    if not seen:
        raise BadInput(f"{path}: no operations (an empty history proves nothing)")
    return txns


def edn_records(text: str, source: str, *, deadline: float | None = None
                ) -> Iterator[tuple[Any, str]]:
    """(op map, where) of a Jepsen EDN history, one block of forms at a time
    (results.edn.iter_blocks), as `read_edn` reads them: one op map a line (where: its
    line), or one vector of them (where: "operation i"). A first form that is a vector
    is held until the next form shows it is not the whole history; then it is yielded
    as the not-a-map it is."""
    from results import edn
    first, held = True, None
    for block in edn.iter_blocks(text, source, deadline=deadline):
        for form, line in block:
            if first:
                first = False
                if type(form) is list:
                    held = (form, str(line))
                    continue
            elif held is not None:
                yield held
                held = None
            yield form, str(line)
    if held is not None:
        for i, d in enumerate(held[0]):
            yield d, f"operation {i + 1}"


def _not_a_map(source: str) -> Callable[[Any, int, Any], BadInput]:
    def bad(e: Any, pos: int, line: Any) -> BadInput:
        return BadInput(f"{source}:{line}: expected an operation map, got {value_kind(e)}")
    return bad


def load_edn(path: str, *, deadline: float | None = None) -> list[Txn]:
    """A Jepsen EDN history file as transactions, streamed (issue 23): each block of
    forms is checked and paired (`pair_stream`) before the next is read, so the op maps
    of a million-transaction history never live at once (holding them took 1.5 GB)."""
    text = read_text(path, deadline=deadline)
    collecting = gc.isenabled()
    gc.disable()
    try:
        txns, seen = pair_stream(edn_records(text, path, deadline=deadline), path,
                                 _not_a_map(path))
    finally:
        if collecting:
            gc.enable()
    if not seen:
        raise BadInput(f"{path}: no operations (an empty history proves nothing)")
    return txns


def load(path: str | os.PathLike, fmt: str) -> list[Txn]:
    """Read a transactional history file (jsonl | edn | elle-json) into transactions."""
    source = os.fspath(path)
    if fmt == "jsonl":
        from results.history import read_jsonl
        ops = read_jsonl(source)
        # A file whose lines carry no time reads as time 0 throughout (results.history's
        # default): every transaction concurrent with every other, so strict
        # serializability lost its real-time order and such a history, invalid as
        # elle-json or EDN, was VALID as JSONL (found by the differential test's
        # index-only histories). As in the other two formats (Jepsen: no :time, the
        # index stands for it), the index is the time then.
        untimed = len(ops) > 1 and all(o.time == 0 for o in ops)
        return from_ops(ops, timed=not untimed)
    if fmt == "elle-json":  # streamed: a million transactions never sit in memory as dicts
        return load_elle_json(source)
    if fmt == "edn":
        return load_edn(source)
    raise BadInput(f"unknown history format {fmt!r} for a transactional model "
                   f"(expected jsonl, edn or elle-json)")
