"""History file formats, all read into `results.history.Op` records.

`load(path, fmt)` is the one entry point: `jsonl` (gtcheck's own), `edn` (Jepsen
histories), `porcupine-etcd` and `porcupine-kv` (Porcupine's recorded logs, see
../shared/peer-histories/porcupine/README.md). Every reader raises BadInput naming the
file and line of the first problem.
"""

from __future__ import annotations

import os

from results.history import Op, read_jsonl
from suite.errors import BadInput

FORMATS = ("jsonl", "edn", "porcupine-etcd", "porcupine-kv")


def load(path: str | os.PathLike, fmt: str = "jsonl", *, check: bool = True) -> list[Op]:
    """Read a history file of the given format into ops (validated unless check=False)."""
    if fmt == "jsonl":
        return read_jsonl(path, check=check)
    if fmt not in FORMATS:
        raise BadInput(f"unknown history format {fmt!r} (expected one of {', '.join(FORMATS)})")
    raise BadInput(f"format {fmt!r} is not readable yet")  # filled in by the checker work
