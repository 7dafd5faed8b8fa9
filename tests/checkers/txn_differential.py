"""Elle's checks (`gtcheck check`'s transactional entry) against the brute-force oracle on
one simulated history: the rules a disagreement breaks.

Each history from `tests/checkers/txn_gen.py` is written in every transactional input
format and judged by `checkers.elle.cli_check.transactional_result` (the function `gtcheck
check --model list-append|rw-register` calls per file) under serializable and
strict-serializable, and by `tests/checkers/txn_oracle.py` under the same models. The
rules:
- soundness: the checker says a model is violated (valid false) => the oracle finds no
  order explaining the history under that model;
- completeness where Elle is complete: list-append with a final read of every key and
  no read recorded on an :info completion (each
  key's version order is then recovered from its reads, Kingsbury & Alvaro, "Elle", VLDB
  2020, section 4: list-append makes versions "recoverable" and "traceable"): the oracle
  finds no order => the checker says violated. rw-register is only held to soundness:
  a register read shows one version, not its history, so Elle infers only part of the
  version order and misses anomalies by design (same paper, section 4.2, and
  elle.rw-register's docstring: "we can't infer ... in general");
- precondition: a value written twice to one key => "unknown" naming duplicate appends /
  writes, never a verdict;
- every format gives the same verdict.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from checkers.elle import cli_check
from tests.checkers import txn_gen, txn_oracle

OPTIONS = {"linearizable_keys": False, "sequential_keys": False}
REFUSAL = {"list-append": "duplicate-appends", "rw-register": "duplicate-writes"}


@dataclass
class Outcome:
    sim: txn_gen.Sim
    oracle: dict          # model -> bool (or None when the precondition fails)
    checker: dict         # (format, model) -> the result dict
    disagreements: list   # plain sentences


def judge(sim: txn_gen.Sim, directory: str) -> Outcome:
    wl = sim.workload
    dup = txn_oracle.duplicate_write(sim.ops, wl)
    oracle = {m: (None if dup else txn_oracle.explains(sim.ops, wl, m))
              for m in txn_oracle.MODELS}
    checker: dict = {}
    for fmt in txn_gen.FORMATS:
        path = os.path.join(directory, f"history-{sim.seed}.{fmt}")
        with open(path, "w") as f:
            f.write(txn_gen.render(sim.ops, fmt))
        for m in txn_oracle.MODELS:
            checker[(fmt, m)] = cli_check.transactional_result(path, fmt, wl, [m], OPTIONS,
                                                               None)
    return Outcome(sim, oracle, checker, disagreements(sim, dup, oracle, checker))


def disagreements(sim, dup, oracle: dict, checker: dict) -> list[str]:
    out = []
    # (not with reads recorded on :info completions: Elle judges internal consistency,
    # future reads among it, on :ok transactions only, and so does gtcheck: issue 19)
    complete = sim.workload == "list-append" and sim.final_read and not sim.info_reads
    for (fmt, m), res in checker.items():
        v = res["valid"]
        if dup is not None:
            if (v != "unknown" or res.get("anomaly_types") != [REFUSAL[sim.workload]]
                    or "written once per key" not in res.get("reason", "")):
                out.append(f"{fmt} {m}: value {dup[1]!r} written twice to key {dup[0]!r}, "
                           f"checker said {v!r} {res.get('anomaly_types')}")
            continue
        if v is False and oracle[m]:
            out.append(f"{fmt} {m}: checker violated {res['anomaly_types']}, "
                       "oracle found an explaining order (unsound)")
        if complete and oracle[m] is False and v is not False:
            out.append(f"{fmt} {m}: oracle found no explaining order, checker said "
                       f"{v!r} {res['anomaly_types']} (incomplete)")
    for m in txn_oracle.MODELS:
        seen = {fmt: checker[(fmt, m)]["valid"] for fmt in txn_gen.FORMATS}
        if len(set(map(repr, seen.values()))) > 1:
            out.append(f"{m}: formats disagree: {seen}")
    return out


def compare(seed: int, workload: str, directory: str) -> Outcome:
    return judge(txn_gen.generate(seed, workload), directory)
