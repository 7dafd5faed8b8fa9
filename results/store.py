"""The run store: one directory per run, where everything a run leaves behind lives.

    store/<test-name>/<YYYYmmddTHHMMSS>/
        test.json      the full config, seed and versions (suite.config.Test.to_json)
        history.jsonl  every operation, nemesis included (results.history.HistoryWriter)
        versions.json  item version metadata per region, when the target offered it
        results.json   checker results: {"valid", "checkers": {name: result}, "run": {...}}
        run.log        what the run said, and gtcheck's log records (suite.core.RunLog)
        report.html    the anomaly report (results.report)
    store/latest -> <test-name>/<YYYYmmddTHHMMSS>   (relative symlink, the newest run)
    store/<test-name>/latest -> <YYYYmmddTHHMMSS>  (the test's newest run, as Jepsen keeps)

The store only lays out files; it never judges or renders. JSON files are written to a
temporary name and renamed, so a reader never sees half a file. A run's file that is a
symbolic link out of its run directory is refused wherever a run is read (`run_file`,
`leaves`): a store served or reported on must not show another file's contents.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from gtcheck.errors import BadInput

TEST_JSON = "test.json"
HISTORY = "history.jsonl"
RESULTS_JSON = "results.json"
VERSIONS_JSON = "versions.json"
RUN_LOG = "run.log"
REPORT = "report.html"
LATEST = "latest"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%S"


def leaves(path: str | os.PathLike, root: str | os.PathLike) -> bool:
    """True when `path`, every symbolic link on the way followed, lies outside `root`
    (or cannot be resolved: a link loop)."""
    try:
        real = Path(path).resolve()
        base = Path(root).resolve()
    except (OSError, RuntimeError):
        return True
    return real != base and base not in real.parents


def run_file(run_dir: str | os.PathLike, name: str) -> Path:
    """`run_dir/name`, or BadInput when it is a symbolic link out of the run directory."""
    path = Path(run_dir) / name
    if leaves(path, run_dir):
        raise BadInput(f"{path}: a symbolic link out of its run directory; refused")
    return path


def write_json(path: str | os.PathLike, data: Any, *,
               sync: Callable[[Path], None] | None = None) -> None:
    """Write `data` to a temporary name, then rename it to `path` (a reader never sees
    half a file). The file is fsynced before the rename, or, with `sync` (a
    `results.durable.BackgroundSync`), handed to it after the rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=False, default=_json_default)
        fh.write("\n")
        fh.flush()
        if sync is None:
            os.fsync(fh.fileno())
    os.replace(tmp, path)
    if sync is not None:
        sync(path)


def _left_to_the_kernel(path: Path) -> None:
    """No fsync: for a file the run's records can make again (RunDir.write_results)."""


def _json_default(x: Any) -> Any:
    if isinstance(x, (set, frozenset, tuple)):
        return list(x)
    raise TypeError(f"not JSON-serialisable: {type(x).__name__}")


def read_json(path: str | os.PathLike) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except json.JSONDecodeError as e:
        raise BadInput(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from None
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror})") from None


@dataclass(frozen=True)
class RunDir:
    """One run's directory and the names of the files in it. `sync` (a
    `results.durable.BackgroundSync`, from the Store) makes its records durable in the
    background (test.json, history.jsonl, versions.json; results.json, which `gtcheck
    analyze` makes again from them, is left to the kernel); None: each write fsyncs
    before it returns."""

    path: Path
    sync: Any = field(default=None, compare=False, repr=False)  # a BackgroundSync

    @property
    def test_json(self) -> Path:
        return run_file(self.path, TEST_JSON)

    @property
    def history(self) -> Path:
        return run_file(self.path, HISTORY)

    @property
    def results_json(self) -> Path:
        return run_file(self.path, RESULTS_JSON)

    @property
    def versions_json(self) -> Path:
        return run_file(self.path, VERSIONS_JSON)

    @property
    def report(self) -> Path:
        return run_file(self.path, REPORT)

    @property
    def run_log(self) -> Path:
        return run_file(self.path, RUN_LOG)

    def write_test(self, test: dict) -> None:
        # written as the run starts: with a background sync, fsynced with the history at
        # its end (results.durable.BackgroundSync.defer)
        write_json(self.test_json, test, sync=None if self.sync is None else self.sync.defer)

    def read_test(self) -> dict:
        d = read_json(self.test_json)
        if not isinstance(d, dict):
            raise BadInput(f"{self.test_json}: expected a JSON object")
        return d

    def write_results(self, results: dict) -> None:
        # Derived from the run's records (`gtcheck analyze` writes it again): with a
        # background sync, renamed into place whole and left to the kernel to write out.
        write_json(self.results_json, results,
                   sync=None if self.sync is None else _left_to_the_kernel)

    def read_results(self) -> dict:
        return read_json(self.results_json)

    def write_versions(self, versions: dict) -> None:
        write_json(self.versions_json, versions, sync=self.sync)

    def read_versions(self) -> dict | None:
        return read_json(self.versions_json) if self.versions_json.exists() else None


def open_run_dir(path: str | os.PathLike) -> RunDir:
    """An existing run directory (it must hold test.json and history.jsonl)."""
    p = Path(path)
    if p.is_symlink() or p.name == LATEST:
        p = p.resolve()
    if not p.is_dir():
        raise BadInput(f"{path}: not a run directory")
    for name in (TEST_JSON, HISTORY):
        if not run_file(p, name).is_file():
            raise BadInput(f"{path}: not a run directory (no {name})")
    return RunDir(p)


class Store:
    """The root of the run store (default `store/` in the working directory)."""

    def __init__(self, root: str | os.PathLike = "store", *, sync: Any = None):
        self.root = Path(root)
        self.sync = sync  # handed to every new run's RunDir (results.durable)

    def new_run(self, test_name: str, *, now: _dt.datetime | None = None) -> RunDir:
        """Create `<root>/<test-name>/<timestamp>/` and point `<root>/latest` and
        `<root>/<test-name>/latest` at it. Two runs started in the same second get `-2`,
        `-3`, ... suffixes."""
        if not test_name or "/" in test_name or test_name in (".", "..", LATEST):
            raise BadInput(f"invalid test name for the store: {test_name!r}")
        now = now or _dt.datetime.now(_dt.timezone.utc)
        stamp = now.strftime(TIMESTAMP_FORMAT)
        parent = self.root / test_name
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise BadInput(f"cannot create the run store at {parent}: {e.strerror}") from None
        n = 1
        while True:
            name = stamp if n == 1 else f"{stamp}-{n}"
            path = parent / name
            try:
                path.mkdir()
                break
            except FileExistsError:
                n += 1
        self._point_latest(Path(test_name) / name)
        self._point_latest(Path(name), within=parent)
        return RunDir(path, sync=self.sync)

    def _point_latest(self, relative: Path, *, within: Path | None = None) -> None:
        where = self.root if within is None else within
        link = where / LATEST
        tmp = where / f".{LATEST}.{os.getpid()}"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(relative, tmp)
        os.replace(tmp, link)  # atomic: readers see the old or the new target

    def latest(self) -> RunDir | None:
        link = self.root / LATEST
        return RunDir(link.resolve()) if link.is_symlink() and link.resolve().is_dir() else None

    def runs(self) -> Iterator[RunDir]:
        """Every run directory in the store (those holding a test.json), oldest first."""
        if not self.root.is_dir():
            return iter(())
        found = [RunDir(p.parent) for p in self.root.glob(f"*/*/{TEST_JSON}")
                 if not p.parent.parent.is_symlink() and not p.parent.is_symlink()]
        return iter(sorted(found, key=lambda r: (r.path.name, r.path.parent.name)))
