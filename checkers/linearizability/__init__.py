"""The linearizability checker: models, a fast Wing-Gong-Lowe search, counterexamples.

MRSC promises linearizable items, so this is the suite's main verdict for strong mode.
The public surface is small: `check(ops, model, *, initial, timeout, partition)` returns
`{"valid": True|False|"unknown", ...}` with a counterexample as data when invalid;
`get_model(name)` / `MODELS` give the models (register, cas-register, counter, set, kv);
a new model is a `Model` subclass or any object with `init` and `step` functions. The algorithm lives in `_search.py` (one
partition), the plumbing in `_check.py`, the sequential specifications in `models.py`.
`checker()` adapts it to the Checker protocol of `checkers.core`.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from checkers.linearizability._check import COUNTEREXAMPLES_MAX, check, to_calls
from checkers.linearizability.rules import RULES, Rules, get_rules
from checkers.linearizability.models import (MODELS, Call, CasRegister, Counter,
                                             FunctionsModel, KV, MapModel, Model, Register,
                                             SetModel, get_model)
from results.history import Op

__all__ = ["COUNTEREXAMPLES_MAX", "check", "checker", "get_model", "RULES", "Rules", "get_rules", "MODELS", "Model", "FunctionsModel", "Call",
           "Register", "CasRegister", "Counter", "SetModel", "KV", "MapModel", "to_calls"]


class LinearizabilityChecker:
    """Checker protocol adapter: opts may carry "initial", "timeout", "partition"."""

    def __init__(self, model: str | Model, **defaults: Any):
        self.model = get_model(model)
        self.defaults = defaults

    def check(self, test: Mapping[str, Any], history: Sequence[Op],
              opts: Mapping[str, Any]) -> dict:
        kw = {**self.defaults, **{k: opts[k] for k in ("initial", "timeout", "partition",
                                                       "workers", "rules") if k in opts}}
        return check(history, self.model, **kw)


def checker(model: str | Model, **defaults: Any) -> LinearizabilityChecker:
    return LinearizabilityChecker(model, **defaults)
