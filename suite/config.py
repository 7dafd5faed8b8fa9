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
import math
import sys
from dataclasses import dataclass, field
from typing import Any, Mapping

from suite.errors import BadInput

MODES = ("async", "strong")
NEMESIS_TIMINGS = ("grid", "random", "end-in-fault")
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
    hot_keys: int = 2        # keys in play at a time, rotating (0 or >= keys: all, uniform)
    latency_scale: float = 1.0
    nemesis_interval: float = 5.0
    op_timeout: float = 5.0
    final_wait: float = 1.0
    final_deadline: float = 10.0  # rounds of final reads while regions disagree (suite/final_rounds.py)
    hosts: str | None = None  # a hosts file: clients run on remote hosts (suite/remote)
    ssh_accept_new: bool = False  # trust unknown SSH host keys on first use
    nemesis_latency_ms: float | None = None   # slow / latency fault size (None: defaults)
    nemesis_timing: str = "grid"              # grid | random | end-in-fault (nemesis/packages.py)
    emulator_bugs: tuple[str, ...] = ()       # planted mistakes (emulator/bugs.py), emulator only
    quiet_reads: bool | None = None  # quiet rounds after heals (suite/quiet.py); None: auto
    pace: float | None = None  # client ops to a second of schedule time (suite/pace.py)
    stop_on_violation: bool = False  # end the main phase at the first violation found online
    gsi_reads: bool = False  # register: some EC reads go through a GSI (checkers/gsi_reads.py)
    name: str = ""
    nemesis_schedule: tuple = ()    # fixed fault operations ({"at", "f", "value"}), or ()
    start_time: str = ""
    versions: Mapping[str, str] = field(default_factory=dict)
    argv: tuple[str, ...] = ()
    # Options only some targets take (aws: yes, max_requests, fis_role_arn).
    target_options: Mapping[str, Any] = field(default_factory=dict)

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
        check_ranges(self)
        if self.nemesis_schedule and self.nemesis:
            raise BadInput("--nemesis-schedule replaces --nemesis: give one of them")
        if self.hosts is not None and (not isinstance(self.hosts, str) or not self.hosts):
            raise BadInput(f"--hosts must be a file path, got {self.hosts!r}")
        if not isinstance(self.hot_keys, int) or isinstance(self.hot_keys, bool) \
                or self.hot_keys < 0:
            raise BadInput(f"--hot-keys must be an integer >= 0, got {self.hot_keys!r}")
        if self.nemesis_latency_ms is not None and (
                not isinstance(self.nemesis_latency_ms, (int, float))
                or not 0 <= self.nemesis_latency_ms <= 600_000):
            raise BadInput("--nemesis-latency-ms must be a number from 0 to 600000, got "
                           f"{self.nemesis_latency_ms!r}")
        if self.gsi_reads and self.workload != "register":
            raise BadInput(f"--gsi-reads applies only to --workload register, not "
                           f"{self.workload!r}")
        if self.pace is not None and (isinstance(self.pace, bool) or not isinstance(
                self.pace, (int, float)) or not 0 < self.pace <= 100_000):
            raise BadInput(f"--pace must be a number > 0 and <= 100000, got {self.pace!r}")
        if self.nemesis_timing not in NEMESIS_TIMINGS:
            raise BadInput(f"--nemesis-timing must be one of {', '.join(NEMESIS_TIMINGS)}, "
                           f"got {self.nemesis_timing!r}")
        if self.emulator_bugs:
            from emulator.bugs import parse_bugs  # late: only runs with planted bugs need it
            object.__setattr__(self, "emulator_bugs", parse_bugs(list(self.emulator_bugs)))
            if self.target != "emulator":
                raise BadInput("--emulator-bug applies only to --target emulator (a served "
                               "emulator takes `gtcheck emulator serve --bug`)")
            check_bug_modes(self.emulator_bugs, self.mode)
        if not self.name:
            object.__setattr__(self, "name", default_name(self))

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["regions"] = list(self.regions)
        d["nemesis"] = list(self.nemesis)
        d["argv"] = list(self.argv)
        d["emulator_bugs"] = list(self.emulator_bugs)
        d["versions"] = dict(self.versions)
        d["nemesis_schedule"] = [dict(e) for e in self.nemesis_schedule]
        d["target_options"] = dict(self.target_options)
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Test":
        """Rebuild a Test from test.json; unknown keys are ignored, bad values are BadInput."""
        if not isinstance(d, Mapping):
            raise BadInput("test.json must hold a JSON object")
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        for k in ("regions", "nemesis", "argv", "nemesis_schedule", "emulator_bugs"):
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


# The range of every numeric option, (name, lowest, lowest allowed itself?, highest):
# a value outside is a BadInput naming the option, before anything starts.
NUMBER_RANGES: tuple[tuple[str, float, bool, float], ...] = (
    ("time_limit", 0.0, False, 7 * 24 * 3600.0),
    ("rate", 0.0, False, 100_000.0),
    ("latency_scale", 0.0, True, 1000.0),
    ("nemesis_interval", 0.0, False, 24 * 3600.0),
    ("op_timeout", 0.0, False, 3600.0),
    ("final_wait", 0.0, True, 3600.0),
    ("final_deadline", 0.0, True, 3600.0),
)
INTEGER_RANGES: tuple[tuple[str, int, int], ...] = (
    ("concurrency", 1, 1000),
    ("keys", 1, 1_000_000),
)


def check_ranges(test: "Test") -> None:
    """BadInput naming the option when a numeric option is out of its range (or NaN)."""
    for name, low, inclusive, high in NUMBER_RANGES:
        v = getattr(test, name)
        option = "--" + name.replace("_", "-")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise BadInput(f"{option} must be a number, got {v!r}")
        if v < low or (v == low and not inclusive) or v > high:
            lower = f">= {low:g}" if inclusive else f"> {low:g}"
            raise BadInput(f"{option} must be {lower} and <= {high:g}, got {v:g}")
    for name, low, high in INTEGER_RANGES:
        v = getattr(test, name)
        option = "--" + name.replace("_", "-")
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            raise BadInput(f"{option} must be an integer from {low} to {high}, got {v!r}")


def check_bug_modes(bugs: tuple[str, ...], mode: str) -> None:
    """BadInput when a planted bug lives in the other mode's engine (emulator/bugs.py
    `Bug.mode`): under this mode its code never runs, so the run would be a valid run
    that looks like a test of the bug (issue 25)."""
    from emulator.bugs import CATALOGUE
    idle = [b for b in bugs if b in CATALOGUE and CATALOGUE[b].mode != mode]
    if idle:
        needs = sorted({CATALOGUE[b].mode for b in idle})
        raise BadInput(f"--emulator-bug {','.join(idle)} does nothing in --mode {mode}: "
                       f"it is a mistake of the {' and '.join(needs)} engine (use --mode "
                       f"{needs[0]})")


def check_hot_keys(hot_keys: int, keys: int) -> None:
    """BadInput when `--hot-keys` asks for more keys in play than `--keys` has (issue 25:
    `--hot-keys 100 --keys 8` was taken without comment and meant "all 8"). Only an
    explicitly given `--hot-keys` is checked: the default 2 with `--keys 1` just means
    the one key."""
    if isinstance(hot_keys, int) and isinstance(keys, int) and hot_keys > keys:
        raise BadInput(f"--hot-keys {hot_keys} is more than --keys {keys}: at most {keys} "
                       f"keys can be in play (--hot-keys 0 puts every key in play at once)")


def default_name(test: Test) -> str:
    """`register-strong`, `counter-async-isolate+link`: what the store directory is called."""
    parts = [test.workload, test.mode]
    if test.nemesis:
        parts.append("+".join(test.nemesis))
    elif test.nemesis_schedule:
        parts.append("schedule")
    if test.emulator_bugs:  # a run with planted bugs is not filed beside clean ones
        parts.append("bug_" + "+".join(test.emulator_bugs))
    return "-".join(parts).replace("/", "_").replace(":", "_")


def parse_list(text: str | None) -> tuple[str, ...]:
    """`a,b, c` -> ("a", "b", "c"); empty or "none" -> ()."""
    if text is None:
        return ()
    items = tuple(x.strip() for x in text.split(",") if x.strip())
    return () if items in (("none",),) else items
