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
from suite.errors import BadInput, SetupError


def _target_of(test: Any) -> Any:
    if isinstance(test, Mapping):
        return test["target"]
    return getattr(test, "target")


class FaultNemesis:
    """Performs the fault actions `fs` through the target's `fault(action, value)`."""

    def __init__(self, fs: Iterable[str]):
        self._fs = frozenset(fs)

    def fs(self) -> frozenset[str]:
        return self._fs

    def setup(self, test: Any) -> "FaultNemesis":
        target = _target_of(test)
        if not getattr(target, "has_faults", False) or not hasattr(target, "fault"):
            raise SetupError(f"target {getattr(target, 'name', target)!r} has no fault API; "
                             "run with --nemesis none or against the emulator")
        return self

    def invoke(self, test: Any, op: Op) -> Op:
        if op.f not in self._fs:
            return op.replace(type="fail", error=f"unsupported-fault:{op.f}")
        value = op.value if isinstance(op.value, Mapping) else None
        try:
            _target_of(test).fault(op.f, value)
        except BadInput as e:  # the API refused the arguments: definitely not in force
            return op.replace(type="fail", error="bad-fault", extra={**op.extra, "message": str(e)})
        except Exception as e:  # noqa: BLE001 -- unknown outcome: the fault may be in force
            return op.replace(type="info", error=f"fault-api:{type(e).__name__}",
                              extra={**op.extra, "message": str(e)[:300]})
        return op.replace(type="ok")

    def teardown(self, test: Any) -> None:
        """Heal everything, whatever the generators did (a run never leaves a fault behind)."""
        target = _target_of(test)
        if getattr(target, "has_faults", False):
            target.fault("heal", None)
