"""`gtcheck serve`: the results web UI over a run store.

One page lists every run of the store (name, time, mode, workload, nemesis, the verdict in
colour, anomaly counts) with links to its report, history, results and logs, sortable and
filterable by verdict and workload (plain query parameters, so the page works without a
script and a test can drive it with urllib); two runs ticked on it open side by side
(`/compare?run=A&run=B`, the page of `gtcheck report --compare`). Everything else it serves is a file inside
the store, under `/runs/<path in the store>` (a run's directory itself is listed, file by
file, and `/zip/<run>` sends it as one zip: results/browse.py, Jepsen's habits): any path that escapes the store (`..`,
encoded or not, an absolute path, a symlink pointing outside) gets 404, as does anything
that is not a regular file. A run whose report.html is missing gets one written on first
request. The server binds 127.0.0.1 unless told otherwise, only answers GET and HEAD, and
on a loopback address only to requests addressed to a loopback name (no DNS rebinding).
"""

from __future__ import annotations

import datetime as _dt
import json
import mimetypes
import os
import threading
import urllib.parse
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from results.compare import compare_runs
from results.report import write_report
from results.report._render import render
from results.report._run import LOG_SUFFIXES, RUN_FILES
from results.store import leaves
from gtcheck.errors import BadInput, GtcheckError

VERDICTS = ("valid", "invalid", "unknown", "setup-failed", "none")
SORT_KEYS = ("time", "name", "verdict", "workload", "mode", "target", "duration", "ops")
FILTERS = ("verdict", "workload", "mode", "nemesis", "target")
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".json": "application/json",
                 ".jsonl": "text/plain; charset=utf-8", ".log": "text/plain; charset=utf-8",
                 ".txt": "text/plain; charset=utf-8", ".out": "text/plain; charset=utf-8",
                 ".err": "text/plain; charset=utf-8", ".png": "image/png",
                 ".svg": "image/svg+xml", ".edn": "text/plain; charset=utf-8"}


@dataclass
class RunSummary:
    """One row of the runs page, read from test.json and results.json."""

    rel: str                      # path inside the store, "<test>/<timestamp>"
    name: str
    time: str
    mode: str = ""
    workload: str = ""
    nemesis: str = ""
    verdict: str = "none"         # valid / invalid / unknown / setup-failed / none
    target: str = ""
    seed: str = ""
    duration_s: float | None = None   # the main phase as run (else the configured limit)
    ops: int | None = None            # client operations invoked
    reason: str = ""                  # why the verdict is unknown, when the run says
    anomalies: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    problem: str = ""


def _read_json(path: Path) -> tuple[Any, str]:
    if leaves(path, path.parent):
        return None, f"{path.name} is a symbolic link out of the run directory (refused)"
    try:
        return json.loads(path.read_text(encoding="utf-8")), ""
    except FileNotFoundError:
        return None, ""
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return None, f"{path.name} unreadable ({type(e).__name__})"


def _verdict(valid: Any) -> str:
    return {True: "valid", False: "invalid"}.get(valid, "unknown") if valid is not None \
        else "none"


def _time_of(test: dict, ts_dir: str) -> str:
    start = test.get("start_time") if isinstance(test, dict) else None
    if isinstance(start, str) and start:
        return start.replace("T", " ").replace("Z", " UTC").replace("+00:00", " UTC")
    try:
        return _dt.datetime.strptime(ts_dir, "%Y%m%dT%H%M%S").strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return ts_dir


def summarize(store: Path, run_dir: Path) -> RunSummary:
    test, p1 = _read_json(run_dir / "test.json")
    results, p2 = _read_json(run_dir / "results.json")
    test = test if isinstance(test, dict) else {}
    s = RunSummary(rel=run_dir.relative_to(store).as_posix(),
                   name=str(test.get("name") or run_dir.parent.name),
                   time=_time_of(test, run_dir.name), mode=str(test.get("mode") or ""),
                   workload=str(test.get("workload") or ""),
                   nemesis=", ".join(map(str, test.get("nemesis") or [])) or "none",
                   target=str(test.get("target") or ""),
                   seed="" if test.get("seed") is None else str(test.get("seed")),
                   problem="; ".join(p for p in (p1, p2) if p))
    limit = test.get("time_limit")
    s.duration_s = float(limit) if isinstance(limit, (int, float)) else None
    if isinstance(results, dict):
        s.verdict = _verdict(results.get("valid", "unknown"))
        run = results.get("run") if isinstance(results.get("run"), dict) else {}
        if run.get("setup_error"):
            s.verdict, s.reason = "setup-failed", str(run["setup_error"])
            s.duration_s = None  # nothing ran
        elif isinstance(results.get("reason"), str):
            s.reason = results["reason"]
        if isinstance(run.get("main_phase_s"), (int, float)):
            s.duration_s = float(run["main_phase_s"])
        if isinstance(run.get("ops"), int) and "records" in run:
            s.ops = run["ops"]
        nested = results.get("checkers")
        checkers = nested if isinstance(nested, dict) else results
        for r in checkers.values():
            counts = r.get("anomaly_counts") if isinstance(r, dict) else None
            if isinstance(counts, dict):
                for kind, n in counts.items():
                    if isinstance(n, int) and n:
                        s.anomalies[kind] = s.anomalies.get(kind, 0) + n
    s.files = [f for f in (*RUN_FILES, "report.html")
               if (run_dir / f).is_file() and not leaves(run_dir / f, run_dir)]
    s.logs = sorted(p.name for p in run_dir.iterdir()
                    if p.is_file() and p.name.endswith(LOG_SUFFIXES + (".png",))
                    and not leaves(p, run_dir))
    return s


def find_runs(store: Path) -> list[Path]:
    """Run directories `store/<test>/<timestamp>/` (the `latest` link is not a test)."""
    runs = []
    if not store.is_dir():
        return runs
    for test_dir in sorted(store.iterdir()):
        if test_dir.is_symlink() or not test_dir.is_dir():
            continue
        for run_dir in sorted(test_dir.iterdir()):
            if (not run_dir.is_symlink() and run_dir.is_dir()
                    and any((run_dir / f).is_file() for f in RUN_FILES)):
                runs.append(run_dir)
    return runs


def list_runs(store: str | os.PathLike, *, verdict: str | None = None,
              workload: str | None = None, sort: str = "time",
              descending: bool = True, runs: list[RunSummary] | None = None,
              **filters: str | None) -> list[RunSummary]:
    """The runs of a store, filtered (by any of FILTERS: an exact value; nemesis: one of
    the run's nemeses) and sorted as the runs page shows them."""
    root = Path(store)
    runs = list(runs) if runs is not None else [summarize(root, d) for d in find_runs(root)]
    filters = {"verdict": verdict, "workload": workload, **filters}
    for name, value in filters.items():
        if not value:
            continue
        if name == "nemesis":
            runs = [r for r in runs if value in r.nemesis.split(", ")]
        else:
            runs = [r for r in runs if getattr(r, name) == value]
    order = {"invalid": 0, "unknown": 1, "setup-failed": 2, "none": 3, "valid": 4}
    keyf = {"time": lambda r: (r.time, r.rel), "name": lambda r: (r.name, r.time),
            "verdict": lambda r: (order[r.verdict], r.time),
            "workload": lambda r: (r.workload, r.time), "mode": lambda r: (r.mode, r.time),
            "target": lambda r: (r.target, r.time),
            "duration": lambda r: (r.duration_s or 0.0, r.time),
            "ops": lambda r: (r.ops or 0, r.time)}
    runs.sort(key=keyf.get(sort, keyf["time"]), reverse=descending)
    return runs


def host_allowed(bound: str, host_header: str | None) -> bool:
    """Whether a server bound to `bound` answers a request with this Host header: on a
    loopback address only the exact names it is reachable by there (the address itself,
    `localhost`), with or without a port; any other bound address answers any Host."""
    if not (bound.startswith("127.") or bound in ("::1", "localhost")):
        return True
    host = (host_header or "").strip().lower()
    if host.startswith("["):
        name, sep, rest = host[1:].partition("]")
        if not sep or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return False
    else:
        name, sep, port = host.partition(":")
        if sep and not port.isdigit():
            return False
    return name in ("localhost", bound)


def resolve_in_store(store: Path, url_path: str) -> Path | None:
    """The file a `/runs/...` path names, or None if it is outside the store or no file."""
    rel = urllib.parse.unquote(url_path)
    if "\x00" in rel or "\\" in rel:
        return None
    parts = [p for p in rel.split("/") if p]
    if any(p in (".", "..") for p in parts) or rel.startswith("//"):
        return None
    root = store.resolve()
    target = root.joinpath(*parts).resolve() if parts else root
    if target != root and root not in target.parents:
        return None
    return target


class StoreHandler(BaseHTTPRequestHandler):
    server_version = "gtcheck-serve"
    store: Path                    # set on the subclass made by make_server
    report_lock: threading.Lock

    access_log: bool = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 -- stdlib name
        if self.access_log:
            super().log_message(format, *args)

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def _host_allowed(self) -> bool:
        """On a loopback address, answer only requests addressed to that address or to
        `localhost`, exactly: a web page elsewhere cannot rebind its own domain name
        (`127.evil.com` included) to 127.0.0.1 to read the store."""
        return host_allowed(self.server.server_address[0], self.headers.get("Host"))

    def do_GET(self, head: bool = False) -> None:
        url = urllib.parse.urlsplit(self.path)
        if not self._host_allowed():
            return self._error(HTTPStatus.FORBIDDEN, "this server answers only requests "
                               "addressed to localhost", head)
        try:
            if url.path in ("/", "/index.html"):
                return self._index(urllib.parse.parse_qs(url.query), head)
            if url.path.startswith("/runs/"):
                return self._file(url.path[len("/runs/"):], head)
            if url.path.startswith("/zip/"):
                return self._zip(url.path[len("/zip/"):], head)
            if url.path == "/compare":
                return self._compare(urllib.parse.parse_qs(url.query).get("run", []), head)
            self._error(HTTPStatus.NOT_FOUND, "no such page")
        except (BrokenPipeError, ConnectionResetError):
            return   # the client went away mid-answer: nothing left to tell it

    def _send(self, status: int, body: bytes, ctype: str, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _error(self, status: HTTPStatus, message: str, head: bool = False) -> None:
        body = render("serve_error.html.j2", status=int(status), phrase=status.phrase,
                      message=message).encode("utf-8")
        self._send(status, body, "text/html; charset=utf-8", head)

    def _index(self, query: dict[str, list[str]], head: bool) -> None:
        def one(name: str, allowed: tuple[str, ...] | None = None) -> str:
            v = (query.get(name) or [""])[0]
            return v if allowed is None or v in allowed else ""
        chosen = {f: one(f, VERDICTS if f == "verdict" else None) for f in FILTERS}
        sort = one("sort", SORT_KEYS) or "time"
        order = one("order", ("asc", "desc")) or "desc"
        every = list_runs(self.store)
        shown = list_runs(self.store, runs=every, sort=sort, descending=order == "desc",
                          **{f: v or None for f, v in chosen.items()})
        choices = {
            "verdict": list(VERDICTS),
            "workload": sorted({r.workload for r in every if r.workload}),
            "mode": sorted({r.mode for r in every if r.mode}),
            "nemesis": sorted({n for r in every for n in r.nemesis.split(", ") if n}),
            "target": sorted({r.target for r in every if r.target}),
        }

        def qs(**kw: str) -> str:
            """This page's query with `kw` changed: every filter and the sort are kept."""
            params = {**chosen, "sort": sort, "order": order, **kw}
            return "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v})

        body = render("serve_index.html.j2", runs=shown, total=len(every),
                      store=str(self.store), chosen=chosen, choices=choices, sort=sort,
                      order=order, verdicts=VERDICTS, sort_keys=SORT_KEYS, qs=qs,
                      filtered=any(chosen.values()))
        self._send(HTTPStatus.OK, body.encode("utf-8"), "text/html; charset=utf-8", head)

    def _compare(self, rels: list[str], head: bool) -> None:
        if len(rels) != 2:
            return self._error(HTTPStatus.NOT_FOUND,
                               f"choose two runs to compare (got {len(rels)})", head)
        dirs = [resolve_in_store(self.store, rel) for rel in rels]
        if any(d is None or not d.is_dir() for d in dirs):
            return self._error(HTTPStatus.NOT_FOUND, "not a run directory of this store", head)
        try:
            data = compare_runs(dirs[0], dirs[1])
        except BadInput as e:
            return self._error(HTTPStatus.NOT_FOUND, str(e), head)
        body = render("compare.html.j2", **data, back_link="/",
                      report_links=["/runs/" + urllib.parse.quote(rel) + "/report.html"
                                    for rel in rels]).encode("utf-8")
        self._send(HTTPStatus.OK, body, "text/html; charset=utf-8", head)

    def _file(self, rel: str, head: bool) -> None:
        target = resolve_in_store(self.store, rel)
        if target is None:
            return self._error(HTTPStatus.NOT_FOUND, "not a file of this store", head)
        if target.is_dir():
            if (target / "report.html").is_file() or any((target / f).is_file()
                                                          for f in RUN_FILES):
                return self._listing(target, head)  # Jepsen's habit: the run's files
            return self._error(HTTPStatus.NOT_FOUND, "not a run directory", head)
        if target.name == "report.html" and not target.exists():
            try:
                with self.report_lock:
                    if not target.exists():
                        write_report(target.parent)
            except BadInput as e:
                if target.parent.is_dir() and any((target.parent / f).is_file()
                                                   for f in RUN_FILES):
                    # a run whose report cannot be written (read-only store, ...)
                    return self._error(HTTPStatus.INTERNAL_SERVER_ERROR, str(e), head)
                return self._error(HTTPStatus.NOT_FOUND, str(e), head)
            except GtcheckError as e:
                return self._error(HTTPStatus.INTERNAL_SERVER_ERROR, str(e), head)
        if not target.is_file():
            return self._error(HTTPStatus.NOT_FOUND, "no such file in the store", head)
        ctype = CONTENT_TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] \
            or "application/octet-stream"
        self._send(HTTPStatus.OK, target.read_bytes(), ctype, head)


    def _run_rel(self, target: Path) -> str:
        return target.relative_to(self.store.resolve()).as_posix()

    def _listing(self, target: Path, head: bool) -> None:
        """A run directory: its files, a link to its report and one to its zip."""
        from results.browse import dir_listing
        rel = self._run_rel(target)
        body = render("serve_dir.html.j2", rel=rel, files=dir_listing(target),
                      base="/runs/" + urllib.parse.quote(rel) + "/",
                      zip_url="/zip/" + urllib.parse.quote(rel))
        self._send(HTTPStatus.OK, body.encode("utf-8"), "text/html; charset=utf-8", head)

    def _zip(self, rel: str, head: bool) -> None:
        """`/zip/<run>`: the run directory as one zip (results/browse.py)."""
        from results.browse import zip_run
        target = resolve_in_store(self.store, rel.rstrip("/"))
        if target is None or not target.is_dir() or not any(
                (target / f).is_file() for f in (*RUN_FILES, "report.html")):
            return self._error(HTTPStatus.NOT_FOUND, "not a run directory of this store", head)
        rel = self._run_rel(target)
        try:
            body = zip_run(target, rel.replace("/", "_"))
        except ValueError as e:
            return self._error(HTTPStatus.INSUFFICIENT_STORAGE, str(e), head)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Disposition",
                         f'attachment; filename="{rel.replace("/", "_")}.zip"')
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)


def make_server(store: str | os.PathLike, host: str = "127.0.0.1",
                port: int = 8080, *, access_log: bool = True) -> ThreadingHTTPServer:
    """A server over the store, bound but not yet serving (port 0 picks a free port)."""
    root = Path(store)
    if not root.is_dir():
        raise BadInput(f"{root}: no such store directory")
    handler = type("BoundStoreHandler", (StoreHandler,),
                   {"store": root.resolve(), "report_lock": threading.Lock(),
                    "access_log": access_log})
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as e:
        raise BadInput(f"cannot listen on {host}:{port}: {e.strerror}") from None
    server.daemon_threads = True
    return server
