"""The test configuration: one frozen value that says everything about a run.

`Test` holds exactly what `test.json` records (docs/CONVENTIONS.md, "test.json keys"):
the target and its mode, regions and witness, the workload, the nemesis packages, the
seed, and the knobs of the schedule. It is built once from the CLI (or a test), checked
eagerly (a bad value is a `BadInput` naming the option), and then only read: the runner,
the workload and the checkers all see the same value, and `gtcheck analyze` rebuilds it
from `test.json` to judge a stored history exactly as the run did.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import sys
from dataclasses import dataclass, field
from typing import Any, Mapping

from suite.errors import BadInput

MODES = ("async", "strong")
DEFAULT_REGIONS = ("us-east-1", "us-east-2", "us-west-2")


def versions() -> dict[str, str]:
    """Versions of gtcheck, Python and the libraries that shape a run's behaviour."""
    import importlib.metadata  # here, not at import: `gtcheck check` never needs it
    import platform
    out = {"python": platform.python_version()}
    for dist in ("gtcheck", "boto3", "botocore", "click"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed (running from source)" if dist == "gtcheck" else "missing"
    return out


@dataclass(frozen=True)
class Test:
    """A run's full configuration; `to_json()` is `test.json`."""

    __test__ = False  # not a pytest test class, despite the name

    workload: str = "register"
    target: str = "emulator"
    mode: str = "strong"
    regions: tuple[str, ...] = DEFAULT_REGIONS
    witness: str | None = None
    nemesis: tuple[str, ...] = ()
    seed: int = 0
    time_limit: float = 30.0
    concurrency: int = 6
    rate: float = 50.0
    keys: int = 8
    latency_scale: float = 1.0
    nemesis_interval: float = 5.0
    op_timeout: float = 5.0
    final_wait: float = 1.0
    name: str = ""
    start_time: str = ""
    versions: Mapping[str, str] = field(default_factory=dict)
    argv: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise BadInput(f"--mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not self.regions or len(set(self.regions)) != len(self.regions):
            raise BadInput(f"--regions must be distinct region names, got {list(self.regions)}")
        if self.witness is not None and self.witness in self.regions:
            raise BadInput(f"--witness {self.witness} is also listed in --regions")
        if self.witness is not None and self.mode != "strong":
            raise BadInput("--witness applies only to --mode strong (MRSC)")
        if self.mode == "strong" and len(self.regions) + (self.witness is not None) != 3:
            raise BadInput("--mode strong needs exactly three participants: three --regions, "
                           "or two --regions and a --witness (M01)")
        for name in ("time_limit", "rate", "latency_scale", "nemesis_interval", "op_timeout",
                     "final_wait"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or v < 0:
                raise BadInput(f"--{name.replace('_', '-')} must be a number >= 0, got {v!r}")
        for name in ("concurrency", "keys"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise BadInput(f"--{name} must be an integer >= 1, got {v!r}")
        if self.rate == 0:
            raise BadInput("--rate must be > 0")
        if not self.name:
            object.__setattr__(self, "name", default_name(self))

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["regions"] = list(self.regions)
        d["nemesis"] = list(self.nemesis)
        d["argv"] = list(self.argv)
        d["versions"] = dict(self.versions)
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Test":
        """Rebuild a Test from test.json; unknown keys are ignored, bad values are BadInput."""
        if not isinstance(d, Mapping):
            raise BadInput("test.json must hold a JSON object")
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        for k in ("regions", "nemesis", "argv"):
            if k in kw:
                if not isinstance(kw[k], (list, tuple)):
                    raise BadInput(f"test.json: {k} must be a list, got {kw[k]!r}")
                kw[k] = tuple(kw[k])
        try:
            return cls(**kw)
        except TypeError as e:
            raise BadInput(f"test.json: {e}") from None

    def stamped(self, *, argv: tuple[str, ...] | None = None,
                now: _dt.datetime | None = None) -> "Test":
        """This test with its start time, versions and command line filled in."""
        now = now or _dt.datetime.now(_dt.timezone.utc)
        return dataclasses.replace(
            self, start_time=now.isoformat(timespec="seconds"), versions=versions(),
            argv=tuple(sys.argv if argv is None else argv))


def default_name(test: Test) -> str:
    """`register-strong`, `counter-async-isolate+link`: what the store directory is called."""
    parts = [test.workload, test.mode]
    if test.nemesis:
        parts.append("+".join(test.nemesis))
    return "-".join(parts).replace("/", "_").replace(":", "_")


def parse_list(text: str | None) -> tuple[str, ...]:
    """`a,b, c` -> ("a", "b", "c"); empty or "none" -> ()."""
    if text is None:
        return ()
    items = tuple(x.strip() for x in text.split(",") if x.strip())
    return () if items in (("none",),) else items
