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

from checkers.elle import check as elle_check
from checkers.elle import models, txn
from results.formats import read_text
from suite.errors import BadInput, GtcheckError

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


def jepsen_rule_result(path: str, fmt: str, model: str, group_size: int | None) -> dict:
    """counter / set / set-full / long-fork by Jepsen's checkers on a Jepsen history."""
    from checkers.elle import jepsen_rules
    if fmt not in JEPSEN_FORMATS:
        raise BadInput(f"--model {model} applies Jepsen's {model} checker to Jepsen "
                       f"histories: --format edn or elle-json, got {fmt!r}")
    text = read_text(path)
    records = txn.read_edn(text, path) if fmt == "edn" else txn.read_elle_json(text, path)
    if not records:
        raise BadInput(f"{path}: no operations (an empty history proves nothing)")
    if model == "long-fork":
        return jepsen_rules.long_fork(records, group_size or 2, source=path)
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


def bank_result(path: str, fmt: str) -> dict:
    """Jepsen's bank rule (every read shows the first read's total, no negative balance)
    on a Jepsen history; on a gtcheck bank run, the region-aware rule (A11)."""
    from checkers.elle import bank
    if fmt == "jsonl":
        from results.history import read_jsonl
        ops = read_jsonl(path)
        init = next((op for op in ops if op.f == "init" and op.type == "ok"), None)
        if init is None:
            raise BadInput(f"{path}: not a gtcheck bank history (no completed init)")
        return bank.bank_run_check(ops, writing_region=init.region)
    text = read_text(path)
    records = txn.read_edn(text, path) if fmt == "edn" else txn.read_elle_json(text, path)
    return bank.check_reads(bank.jepsen_reads(records))


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
                linearizable_keys: bool = False, sequential_keys: bool = False) -> list:
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
        try:
            if model in JEPSEN_RULES:
                result = jepsen_rule_result(path, fmt, model, group_size)
            elif model == "bank":
                result = bank_result(path, fmt)
            else:
                result = None
            if result is not None:
                verdicts.append(verdict_cls(path, result["valid"],
                                            time.perf_counter() - t0, result=result))
                emit(verdicts[-1])
                continue
            txns = txn.load(path, fmt)
            if cms == [models.WRITING_REGION]:
                if any(options.values()):
                    raise BadInput(f"--consistency-model {models.WRITING_REGION} takes "
                                   "no version-order options")
                result = writing_region_result(path, model, txns)
            else:
                kw = options if model == "rw-register" else {}
                result = elle_check.to_json(
                    elle_check.check(txns, model, consistency_models=cms, **kw))
        except GtcheckError as e:
            v = verdict_cls(path, None, time.perf_counter() - t0, error=str(e))
        else:
            v = verdict_cls(path, result["valid"], time.perf_counter() - t0,
                            result=result)
            if result["valid"] == "unknown" and result.get("reason"):
                v.note = f"{path}: unknown: {result['reason']}"
        verdicts.append(v)
        emit(v)
    return verdicts
