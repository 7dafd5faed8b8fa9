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
from typing import Any, Iterable, Iterator, Sequence

from results.formats import read_text
from results.json_stream import iter_json_array
from suite.errors import BadInput

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


def _mops(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise BadInput(f"{where}: a transaction's value must be a list of micro-ops, "
                       f"got {type(value).__name__}")
    out = []
    for m in value:
        if not isinstance(m, (list, tuple)) or len(m) not in (2, 3):
            raise BadInput(f"{where}: micro-op {m!r} is not [f key value]")
        f, k = m[0], m[1]
        v = m[2] if len(m) == 3 else None
        if isinstance(v, list):
            v = tuple(v)
        if isinstance(k, list):
            k = tuple(k)
        out.append((f, k, v))
    return out


def pair(records: Iterable[dict], source: str = "<history>") -> list[Txn]:
    """Plain op dicts (type, process, value, index, time?, region?) -> transactions, in
    completion order. Nemesis and non-transactional operations are skipped."""
    open_: dict[Any, tuple[dict, int]] = {}
    done: list[Txn] = []  # in completion order: the records' order (no sort needed)
    for pos, r in enumerate(records):
        process = r.get("process")
        if process == "nemesis" or (r.get("f") not in (None, "txn")):
            continue
        typ = r.get("type")
        where = f"{source}: op {r.get('index', pos)}"
        t = r.get("time")
        if t is None or t == -1:
            t = r.get("index", pos)
        if typ == "invoke":
            open_[process] = (r, t)
            continue
        if typ not in (OK, INFO, FAIL):
            raise BadInput(f"{where}: unknown type {typ!r}")
        inv = open_.pop(process, None)
        if inv is None:
            raise BadInput(f"{where}: {typ} completion of process {process!r} without an "
                           f"invocation")
        value = r.get("value")
        if value is None:
            value = inv[0].get("value")
        mops = _mops(value, where)
        done.append(Txn(0, r.get("index", pos), process, typ, mops, inv[1],
                        t if typ != INFO else None,
                        r.get("region") or inv[0].get("region"),
                        inv[0].get("index", pos)))
    # invocations never completed: indeterminate, like info
    for process, (r, t) in open_.items():
        done.append(Txn(0, r.get("index", 0), process, INFO,
                        _mops(r.get("value"), f"{source}: op {r.get('index')}"),
                        t, None, r.get("region")))
    txns = done
    for i, t in enumerate(txns):
        t.id = i
    return txns


def from_ops(ops: Sequence[Any]) -> list[Txn]:
    """gtcheck `Op` records (results.history) -> transactions."""
    return pair(({"type": o.type, "process": o.process, "f": o.f, "value": o.value,
                  "index": o.index, "time": o.time, "region": o.region} for o in ops))


# --- readers ----------------------------------------------------------------------------

def _plain_edn(v: Any) -> Any:
    import edn_format
    if isinstance(v, edn_format.Keyword):
        return v.name
    if isinstance(v, edn_format.Symbol):
        return str(v)
    if hasattr(v, "items") and callable(v.items):
        return {_plain_edn(k): _plain_edn(x) for k, x in v.items()}
    if isinstance(v, (frozenset, set)):
        return sorted((_plain_edn(x) for x in v), key=repr)
    if isinstance(v, (list, tuple)) or type(v).__name__ == "ImmutableList":
        return [_plain_edn(x) for x in v]
    return v


def read_edn(text: str, source: str) -> list[dict]:
    import edn_format
    try:
        forms = edn_format.loads_all(text)
    except Exception as e:  # noqa: BLE001 -- edn_format raises several types; bad input
        raise BadInput(f"{source}: not valid EDN ({type(e).__name__}: {e})") from None
    if len(forms) == 1 and not hasattr(forms[0], "items"):
        forms = list(forms[0])
    out = []
    for i, f in enumerate(forms):
        d = _plain_edn(f)
        if not isinstance(d, dict):
            raise BadInput(f"{source}: form {i + 1} is not an operation map")
        out.append(d)
    return out


def read_elle_json(text: str, source: str) -> list[dict]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInput(f"{source}: not valid JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise BadInput(f"{source}: elle-json must be a list of operation objects")
    return data


def _operation_objects(elements: Iterable[Any], source: str) -> Iterator[dict]:
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


def load(path: str | os.PathLike, fmt: str) -> list[Txn]:
    """Read a transactional history file (jsonl | edn | elle-json) into transactions."""
    source = os.fspath(path)
    if fmt == "jsonl":
        from results.history import read_jsonl
        return from_ops(read_jsonl(source, check=False))
    if fmt == "elle-json":  # streamed: a million transactions never sit in memory as dicts
        # Nothing read makes a reference cycle: the collector's passes over the growing
        # heap would cost more than the pairing (as in results.history.parse_jsonl).
        collecting = gc.isenabled()
        gc.disable()
        try:
            return pair(_operation_objects(iter_json_array(source), source), source)
        finally:
            if collecting:
                gc.enable()
    text = read_text(source)
    if fmt == "edn":
        return pair(read_edn(text, source), source)

    raise BadInput(f"unknown history format {fmt!r} for a transactional model "
                   f"(expected jsonl, edn or elle-json)")
