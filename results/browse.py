"""A run's directory as Jepsen's web UI offers it: every file listed, and the whole
directory as one zip.

Jepsen's `serve` lets a user walk into a test's directory, open any file in it and
download the directory as a zip to attach to a bug report; `gtcheck serve` does the same
(`/runs/<run>/` lists the files, `/zip/<run>` sends them) through the two pure functions
here: `dir_listing(run_dir)` (name, size and kind of each regular file, sorted) and
`zip_run(run_dir)` (the bytes of a zip of those files under a folder named after the run).
Only regular files directly inside the run's tree are listed or zipped: a symlink is
never followed (it could point outside the store), and a zip has a size limit.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

ZIP_BYTES_MAX = 1 << 30   # a run directory larger than this is not zipped in memory


def run_files(run_dir: Path) -> list[Path]:
    """The regular files of `run_dir` and its sub-directories, sorted; symlinks are left
    out (Path.rglob does not descend into symlinked directories on Python 3.11)."""
    return [p for p in sorted(run_dir.rglob("*")) if p.is_file() and not p.is_symlink()]


def dir_listing(run_dir: Path) -> list[dict]:
    """[{name, bytes}] of every file `run_files` finds, names relative to `run_dir`."""
    return [{"name": p.relative_to(run_dir).as_posix(), "bytes": p.stat().st_size}
            for p in run_files(run_dir)]


def zip_run(run_dir: Path, folder: str) -> bytes:
    """A zip of the run's files under `folder/`; ValueError when larger than the limit."""
    files = run_files(run_dir)
    total = sum(p.stat().st_size for p in files)
    if total > ZIP_BYTES_MAX:
        raise ValueError(f"the run holds {total} bytes, more than the {ZIP_BYTES_MAX} a zip "
                         "is made of; fetch its files one by one")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for p in files:
            z.write(p, f"{folder}/{p.relative_to(run_dir).as_posix()}")
    return buf.getvalue()
