"""A run's files made durable beside the run, not on its way: fsync in a background thread.

A run's records (test.json, history.jsonl, versions.json) are fsynced so that a run whose
command has returned survives a power loss; results.json, which `gtcheck analyze` makes
again from them, is renamed into place whole and left to the kernel (results.store
RunDir). On a disk shared with other work one fsync waits for a journal commit that
writes out everyone's dirty data (ext4's ordered mode): a few ms to well over 100 ms
each under load, about 0.15 s of a 3 s `gtcheck run` at load 40 (issue 23,
bench/bench_startup.py). With a `BackgroundSync` the writers (`results.store.write_json`:
the whole file renamed into place, so a reader never sees half of it;
`results.history.HistoryWriter.close`) hand the file's path to this thread instead of
fsyncing, and the run goes on while it fsyncs (test.json's waits for the history, at
the run's end: `defer`); `wait()` returns once every file handed over is on disk, and
`gtcheck run` waits for it before it returns, so a finished command still means durable
records. Without one the writers fsync before they return, as before.
"""

from __future__ import annotations

import os
import queue
import threading


def fsync_path(path: str | os.PathLike) -> None:
    """fsync the file at `path` (any descriptor of a file flushes its data, Linux)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BackgroundSync:
    """Files handed to it (`sync(path)`) are fsynced by one thread, in order; `wait()`
    blocks until all are, ends the thread (a later file starts another) and returns what
    could not be made durable, one line each. `defer(path)`: fsynced with the next file
    handed over (or at `wait`): test.json, written as the run starts, waits for the
    history at its end, so no fsync runs during set-up or the main phase (a journal
    commit in progress stalls this process's own file writes, the history's and run.log's
    among them: about 0.1 s at the table's creation, measured) and one commit serves
    both."""

    def __init__(self) -> None:
        self._paths: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._errors: list[str] = []
        self._deferred: list[str] = []

    def __call__(self, path: str | os.PathLike) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="gtcheck-fsync",
                                                daemon=True)
                self._thread.start()
            for held in self._deferred:
                self._paths.put(held)
            self._deferred.clear()
            self._paths.put(os.fspath(path))

    def defer(self, path: str | os.PathLike) -> None:
        with self._lock:
            self._deferred.append(os.fspath(path))

    def _work(self) -> None:
        while True:
            path = self._paths.get()
            if path is None:
                return
            try:
                fsync_path(path)
            except OSError as e:  # said by `wait`, never dropped
                self._errors.append(f"{path}: {e.strerror or e}")

    def wait(self) -> list[str]:
        with self._lock:
            deferred, self._deferred = self._deferred, []
        for held in deferred:
            self(held)
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._paths.put(None)  # after every path already handed over
        if thread is not None:
            thread.join()
        errors, self._errors = self._errors, []
        return errors
