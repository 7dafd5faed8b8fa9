"""Hand-built histories for checker tests: say each operation's interval and outcome in
milliseconds, get a valid history of invoke/complete ops in time order."""

from __future__ import annotations

from typing import Any

from results.history import Op, validate

MS = 1_000_000


class History:
    def __init__(self) -> None:
        self.records: list[tuple[int, int, dict]] = []
        self.next_process = 0
        self.seq = 0

    def _add(self, t: int, d: dict) -> None:
        self.seq += 1
        self.records.append((t, self.seq, d))

    def op(self, f: str, key: Any, start_ms: float, end_ms: float | None, *,
           region: str = "us-east-1", value: Any = None, result: Any = None,
           type: str = "ok", consistent: bool | None = None, error: str | None = None,
           final: bool = False, process: int | None = None) -> "History":
        """One operation; `value` is what it was invoked with, `result` what a read
        returned. `end_ms` None leaves it in flight at the end of the history."""
        if process is None:
            process = self.next_process
            self.next_process += 1
        if f == "read" and consistent is None:
            consistent = True
        extra = {"final": True} if final else {}
        base = {"process": process, "f": f, "key": key, "region": region,
                "consistent": consistent, "extra": extra}
        self._add(int(start_ms * MS), {**base, "type": "invoke", "value": value})
        if end_ms is not None:
            out = result if f == "read" else value
            self._add(int(end_ms * MS), {**base, "type": type, "value": out, "error": error})
        return self

    def read(self, key, start_ms, end_ms, result, **kw) -> "History":
        return self.op("read", key, start_ms, end_ms, result=result, **kw)

    def write(self, key, start_ms, end_ms, value, **kw) -> "History":
        return self.op("write", key, start_ms, end_ms, value=value, **kw)

    def nemesis(self, f: str, value: Any, at_ms: float) -> "History":
        self._add(max(0, int(at_ms * MS) - 1), {"process": "nemesis", "f": f, "type": "invoke",
                                        "value": value, "extra": {}})
        self._add(int(at_ms * MS), {"process": "nemesis", "f": f, "type": "ok",
                                    "value": value, "extra": {}})
        return self

    def ops(self) -> list[Op]:
        out = []
        for i, (t, _, d) in enumerate(sorted(self.records, key=lambda r: (r[0], r[1]))):
            out.append(Op(index=i, time=t, **d))
        validate(out)
        return out


def kinds(result: dict) -> dict[str, int]:
    return dict(result.get("anomaly_counts") or {})


def first(result: dict, kind: str) -> dict:
    """The first anomaly of `kind`, checked against the anomaly shape of CONVENTIONS.md."""
    from checkers.modes import KINDS
    a = next(a for a in result["anomalies"] if a["kind"] == kind)
    assert kind in KINDS, f"{kind} missing from checkers.modes.KINDS"
    assert {"kind", "expected", "key", "region", "ops", "explanation"} <= set(a)
    assert isinstance(a["explanation"], str) and "\n" not in a["explanation"]
    assert all(isinstance(i, int) for i in a["ops"])
    return a
