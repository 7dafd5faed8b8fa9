"""`gtcheck check --model list-append|rw-register|bank|...`: the non-linearizability dispatch.

`suite.check_cmd.check_files` hands files to `check_files` here when `handles` says so;
each file is read by `checkers.elle.txn.load` (gtcheck JSONL, Jepsen EDN or
elle-cli JSON) and judged by `checkers.elle.check.check` against the consistency models
asked for (default strict-serializable, as Elle's); counter, set, set-full and
long-fork on Jepsen's formats by Jepsen's own checkers (`checkers.elle.jepsen_rules`).
Verdict lines, JSON objects and exit statuses are the other models' (`suite.check_cmd.FileVerdict`, `overall_exit`).
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

from checkers.core import collector_paused
from checkers.elle import check as elle_check
from checkers.elle import models, txn
from results.formats import LONG, read_text, value_text
from results.json_stream import iter_json_array
from results.history import ReadTimedOut
from gtcheck.errors import BadInput, GtcheckError, cli_naming

MODELS = ("list-append", "rw-register", "bank", "set-full", "long-fork")
FORMATS = ("jsonl", "edn", "elle-json")
# Jepsen's own checkers (checkers.elle.jepsen_rules), as elle-cli runs them. `counter` and
# `set` mean them on Jepsen's formats only: on gtcheck JSONL they stay linearizability
# models (checkers.linearizability); `jepsen-counter` / `jepsen-set` name the Jepsen rule
# explicitly.
JEPSEN_RULES = ("counter", "set", "set-full", "long-fork")
ALIASES = {"jepsen-counter": "counter", "jepsen-set": "set"}
JEPSEN_FORMATS = ("edn", "elle-json")


def handles(model: str | None, fmt: str) -> bool:
    """Is `--model model --format fmt` judged here (not by linearizability)?"""
    if model in MODELS or model in ALIASES:
        return True
    return model in ("counter", "set") and fmt in JEPSEN_FORMATS


# What each of Jepsen's checkers needs to find in a history (else it judges nothing)
NEEDS = {"counter": ("add", "read"), "set": ("add", "read"), "set-full": ("add", "read"),
         "bank": ("read",)}


def read_records(path: str, fmt: str, deadline: float | None = None
                 ) -> tuple[list[dict], list | None]:
    """A Jepsen history (EDN or elle-cli JSON) as plain op maps (and their EDN lines),
    pairing checked; an empty file is bad input ("no operations")."""
    lines: list = []
    if fmt == "edn":
        records = txn.read_edn(read_text(path, deadline=deadline), path, deadline=deadline,
                               lines=lines)
    else:  # elle-json, streamed: the text is never held whole (results.json_stream)
        records = list(txn.operation_objects(
            iter_json_array(path, deadline=deadline), path))
    if not records:
        raise BadInput(f"{path}: no operations (an empty history proves nothing)")
    txn.check_depth(records, path)
    _check_pairing(records, path, lines or None)
    return records, lines or None


def _check_pairing(records: list[dict], path: str, lines: list | None) -> None:
    """Every reader's pairing rules (txn.PairingCheck) over the whole history."""
    check = txn.PairingCheck(path)
    for i, r in enumerate(records):
        check.see(r, i, lines[i] if lines else None)


def _needs(records: list[dict], model: str, path: str) -> None:
    """BadInput naming what the model needs and the history lacks (a counter history
    given to --model bank, say): a checker that finds nothing of its own judges nothing."""
    fs = {r.get("f") for r in records if r.get("process") != "nemesis"}
    want = NEEDS[model]
    if not fs & set(want):
        have = ", ".join(sorted(map(str, fs - {None}))) or "none"
        raise BadInput(f"{path}: not a {model} history: --model {model} needs "
                       f"{' / '.join(':' + f for f in want)} operations, the file has "
                       f"{have}")


def jepsen_rule_result(path: str, fmt: str, model: str, group_size: int | None,
                       deadline: float | None = None) -> dict:
    """counter / set / set-full / long-fork by Jepsen's checkers on a Jepsen history."""
    from checkers.elle import jepsen_rules
    if fmt not in JEPSEN_FORMATS:
        raise BadInput(f"--model {model} applies Jepsen's {model} checker to Jepsen "
                       f"histories: --format edn or elle-json, got {fmt!r}")
    records, _ = read_records(path, fmt, deadline)
    if model == "long-fork":  # jepsen.tests.long-fork knows reads by their value's shape
        if not any(r.get("type") == "ok" and jepsen_rules._read_txn(r.get("value"))
                   for r in records):
            raise BadInput(f"{path}: not a long-fork history: --model long-fork needs ok "
                           "read transactions ([[:r k v] ...])")
        return jepsen_rules.long_fork(records, group_size or 2, source=path)
    _needs(records, model, path)
    return jepsen_rules.RULES[model](records)


def validate(fmt: str, consistency_models: Sequence[str] | None) -> list[str]:
    if fmt not in FORMATS:
        raise BadInput(f"--format for a transactional model must be one of "
                       f"{', '.join(FORMATS)}, got {fmt!r}")
    out = []
    for m in consistency_models or ():
        if m == models.WRITING_REGION:
            if len(consistency_models) > 1:
                raise BadInput(f"--consistency-model {m} cannot be combined with others")
            out.append(m)
            continue
        if models.canonical(m) not in models.ALL_MODELS:
            raise BadInput(f"unknown --consistency-model {m!r} (e.g. "
                           f"{', '.join(models.TARGETS)})")
        out.append(m)
    return out


def bank_result(path: str, fmt: str, deadline: float | None = None) -> dict:
    """Jepsen's bank rule (every read shows the first read's total, no negative balance)
    on a Jepsen history; on a gtcheck bank run, the region-aware rule (A11)."""
    from checkers.elle import bank
    if fmt == "jsonl":
        from results.history import read_jsonl
        ops = read_jsonl(path)
        if not ops:
            raise BadInput(f"{path}: no operations (an empty history proves nothing)")
        init = next((op for op in ops if op.f == "init" and op.type == "ok"), None)
        if init is None:
            raise BadInput(f"{path}: not a gtcheck bank history (no completed init)")
        return bank.bank_run_check(ops, writing_region=init.region)
    records, _ = read_records(path, fmt, deadline)
    _needs(records, "bank", path)
    reads = bank.jepsen_reads(records)
    if not reads:
        raise BadInput(f"{path}: not a bank history: --model bank needs ok :read ops whose "
                       "value maps accounts to balances")
    for index, balances in reads:
        for account, v in balances.items():
            if v is not None and (type(v) not in (int, float) or v != v):
                raise BadInput(f"{path}: op {index}: account {account}'s balance is "
                               f"{value_text(v)}, not a number")
    return bank.check_reads(reads)


def writing_region_result(path: str, model: str, txns: list) -> dict:
    """Serializable in the writing region: needs the region of every transaction (gtcheck
    JSONL records it)."""
    from checkers.elle.run import in_region_check
    if not txns or any(t.region is None for t in txns):
        raise BadInput(f"{path}: --consistency-model {models.WRITING_REGION} needs the "
                       f"region of every transaction (a gtcheck history)")
    return in_region_check(model, txns)


def check_files(files: Sequence[str], *, fmt: str, model: str,
                consistency_models: Sequence[str] | None,
                emit: Callable, verdict_cls, group_size: int | None = None,
                linearizable_keys: bool = False, sequential_keys: bool = False,
                timeout: float | None = None) -> list:
    model = ALIASES.get(model, model)
    # Elle's rw-register version-order options (elle.rw-register/check: :sequential-keys?
    # infers versions from process order, :linearizable-keys? from real-time order)
    options = {"linearizable_keys": linearizable_keys, "sequential_keys": sequential_keys}
    if model != "rw-register" and any(options.values()):
        raise BadInput("--linearizable-keys and --sequential-keys apply to --model "
                       "rw-register")
    cms = validate(fmt, consistency_models) or None
    if model in JEPSEN_RULES and cms:
        raise BadInput(f"--consistency-model does not apply to --model {model}")
    if group_size is not None and (model != "long-fork" or group_size < 1):
        raise BadInput("--group-size is a positive number of keys, for --model long-fork")
    verdicts = []
    for path in files:
        t0 = time.perf_counter()
        # --timeout bounds reading and parsing (results.edn, read_text); Elle's check
        # itself is bounded by its cycle-search budget
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            if model in JEPSEN_RULES:
                result = jepsen_rule_result(path, fmt, model, group_size, deadline)
            elif model == "bank":
                result = bank_result(path, fmt, deadline)
            else:
                result = None
            if result is not None:
                verdicts.append(verdict_cls(path, result["valid"],
                                            time.perf_counter() - t0, result=result))
                emit(verdicts[-1])
                continue
            with collector_paused():  # reading, checking and rendering: no cycles made
                result = transactional_result(path, fmt, model, cms, options, deadline)
        except GtcheckError as e:
            v = verdict_cls(path, None, time.perf_counter() - t0, error=cli_naming(path, e))
        except ReadTimedOut:
            v = verdict_cls(path, "unknown", time.perf_counter() - t0,
                            result={"valid": "unknown", "reason": "timeout",
                                    "detail": "--timeout passed while reading the file"})
            v.note = f"{path}: unknown: --timeout passed while reading the file"
        else:
            v = verdict_cls(path, result["valid"], time.perf_counter() - t0,
                            result=result)
            if result["valid"] == "unknown" and result.get("reason"):
                v.note = f"{path}: unknown: {result['reason']}"
        verdicts.append(v)
        emit(v)
    return verdicts


def transactional_result(path: str, fmt: str, model: str, cms: list | None,
                         options: dict, deadline: float | None) -> dict:
    """One file's list-append / rw-register verdict (read, checked, rendered as JSON)."""
    txns = load_txns(path, fmt, deadline)
    if not txns:
        return {"valid": "unknown", "reason": "nothing to check: the history has no "
                "transactions (only nemesis or other operations)"}
    if cms == [models.WRITING_REGION]:
        if any(options.values()):
            raise BadInput(f"--consistency-model {models.WRITING_REGION} takes no "
                           "version-order options")
        return writing_region_result(path, model, txns)
    kw = options if model == "rw-register" else {}
    return elle_check.to_json(elle_check.check(txns, model, consistency_models=cms, **kw))


def load_txns(path: str, fmt: str, deadline: float | None) -> list:
    """`txn.load` with the deadline and the empty-file rule: no operations at all is bad
    input (README: exit 3 "no operations")."""
    if fmt == "jsonl":
        txns = txn.load(path, fmt)
        if not txns and not _has_records_jsonl(path):
            raise BadInput(f"{path}: no operations (an empty history proves nothing)")
        return txns
    if fmt == "elle-json":  # one pass, streamed: no op map outlives its pairing
        return txn.load_elle_json(path, deadline=deadline)
    if fmt == "edn":  # streamed too: one block of forms at a time (txn.load_edn)
        return txn.load_edn(path, deadline=deadline)
    records, lines = read_records(path, fmt, deadline)
    return txn.pair(records, path, lines=lines)


def _has_records_jsonl(path: str) -> bool:
    from results.history import read_jsonl
    return bool(read_jsonl(path))
