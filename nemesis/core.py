"""The fault nemesis: carries out fault operations through the target's fault API.

A nemesis operation is an ordinary history operation with `process = "nemesis"`, `f` the
admin action and `value` its target (docs/CONVENTIONS.md, "Nemesis ops"). `FaultNemesis`
performs one by calling `target.fault(f, value)` -- the embedded emulator's admin API, or
the admin endpoint of a running emulator -- and completes it: `ok` when the API answered
that the fault is in force, `info` when the call's outcome is unknown (the fault may or
may not have taken effect, so `results.history.fault_periods` does not open a period for
it). A target without a fault API is refused at set-up, before any client runs, with a
clear message instead of a run that silently injects nothing.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from results.history import Op
from gtcheck.errors import BadInput, SetupError


def _target_of(test: Any) -> Any:
    if isinstance(test, Mapping):
        return test["target"]
    return getattr(test, "target")


def _field(op: Any, name: str) -> Any:
    return op.get(name) if isinstance(op, Mapping) else getattr(op, name, None)


class FaultNemesis:
    """Performs the fault actions `fs` through the target's `fault(action, value)`.

    `target` is the run's target (given by the nemesis factory); without one, the test's
    `target` is used. Operations may be `Op`s or op dicts; completions have the same shape.
    """

    def __init__(self, fs: Iterable[str], target: Any = None, *, via: str = "fault",
                 family: str | None = None, targets: Iterable[str] | None = None):
        self._fs = frozenset(fs)
        self.target = target
        # "client": faults go to the target's `client_fault` (suite/targets/client_faults.py)
        self.via = via
        self.family = family
        self.targets = tuple(targets) if targets is not None else None

    def _api(self, target: Any) -> Any:
        return getattr(target, "client_fault" if self.via == "client" else "fault")

    def fs(self) -> set[str]:
        return set(self._fs)

    def _target(self, test: Any) -> Any:
        return self.target if self.target is not None else _target_of(test)

    def setup(self, test: Any) -> "FaultNemesis":
        target = self._target(test)
        if self.targets is not None and self.family is not None:
            from nemesis.faults import check_targets
            check_targets([self.family], str(getattr(target, "name", "")))
        if self.via == "client":
            if not hasattr(target, "client_fault"):
                raise SetupError(f"target {getattr(target, 'name', target)!r} makes no "
                                 "boto3 clients gtcheck can fault")
            return self
        if not getattr(target, "has_faults", False) or not hasattr(target, "fault"):
            raise SetupError(f"target {getattr(target, 'name', target)!r} has no fault API; "
                             "run with --nemesis none or against the emulator")
        return self

    def invoke(self, test: Any, op: Any) -> Any:
        done = self._perform(test, _field(op, "f"), _field(op, "value"))
        if isinstance(op, Op):
            message = done.pop("message", None)
            return op.replace(**done, extra={**op.extra, "message": message} if message
                              else op.extra)
        return {**op, **done}

    def _perform(self, test: Any, f: str, value: Any) -> dict:
        if f not in self._fs:
            return {"type": "fail", "error": f"unsupported-fault:{f}"}
        try:
            self._api(self._target(test))(f, value if isinstance(value, Mapping) else None)
        except BadInput as e:  # the API refused the arguments: definitely not in force
            return {"type": "fail", "error": "bad-fault", "message": str(e)[:300]}
        except Exception as e:  # noqa: BLE001 -- unknown outcome: the fault may be in force
            return {"type": "info", "error": f"fault-api:{type(e).__name__}",
                    "message": str(e)[:300]}
        return {"type": "ok"}

    def teardown(self, test: Any) -> None:
        """Heal everything, whatever the generators did (a run never leaves a fault behind)."""
        target = self._target(test)
        if self.via == "client" and hasattr(target, "client_fault"):
            target.client_fault("heal", None)
        elif getattr(target, "has_faults", False):
            target.fault("heal", None)
