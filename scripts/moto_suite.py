"""Measure the emulator's API breadth with moto's own DynamoDB test suite, in server mode.

moto's source distribution on PyPI ships its tests; `tests/test_dynamodb` is a large,
independent set of expectations about DynamoDB's API, most of them checked against AWS by
moto's authors. moto runs them in "server mode" (`TEST_SERVER_MODE=true`): every boto3
client the tests make is pointed at one endpoint (`TEST_SERVER_MODE_ENDPOINT`), the region
comes from each request's SigV4 signature, and each test starts with `POST
/moto-api/reset`. The emulator's all-regions endpoint (emulator/front.py) serves exactly
that way, so the tests run unchanged against it.

This script (nothing of moto's is vendored: it downloads the sources each time)

1. `pip download --no-deps --no-binary :all: moto==VERSION` and unpacks its tests;
2. runs them against moto's own server, through a recording proxy that notes, per test,
   which AWS services (SigV4 signing names) it called: a test *applies* when it passes
   there, called the server at least once (it needs a server) and called no service but
   DynamoDB (and DynamoDB Streams, which signs as `dynamodb`);
3. runs them against the emulator (every region the tests use, latency scale 0), through
   the same proxy, which answers `/moto-api/reset` by deleting every table;
4. prints the pass count among the tests that apply, the failures grouped by cause, and
   with `--write` stores them in docs/moto_suite.json, which `python -m scripts.fidelity`
   renders into docs/fidelity.md.

    python -m scripts.moto_suite [--version 5.2.4] [--workdir DIR] [-k EXPR] [--write]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.front import sigv4_scope  # noqa: E402
from emulator.server import HttpServer  # noqa: E402

VERSION = "5.2.4"
DATA = ROOT / "docs" / "moto_suite.json"
# Every region moto's DynamoDB tests name (grep of tests/test_dynamodb).
REGIONS = ["us-east-1", "us-west-2", "us-east-2", "eu-west-1", "eu-central-1",
           "ap-northeast-3", "us-west-1", "eu-west-3", "eu-west-2", "ap-south-1"]
MARK_PATH = "/gtcheck-moto-suite/test"  # the plugin tells the proxy which test runs
RUN_TIMEOUT_S = 3600
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}

# The pytest plugin: before each test, tell the proxy its node id; after each phase,
# append the test's outcome to a JSON-lines file.
PLUGIN = f'''
import json, os, urllib.request, urllib.parse

def pytest_runtest_setup(item):
    url = os.environ.get("GTCHECK_MOTO_PROXY")
    if url:
        q = urllib.parse.urlencode({{"id": item.nodeid}})
        urllib.request.urlopen(url + "{MARK_PATH}?" + q, data=b"", timeout=30).read()

def pytest_runtest_logreport(report):
    with open(os.environ["GTCHECK_MOTO_RESULTS"], "a") as fh:
        fh.write(json.dumps({{"id": report.nodeid, "when": report.when,
                             "outcome": report.outcome,
                             "text": str(report.longrepr)[-4000:] if report.failed else ""}}) + "\\n")
'''

# Failure causes, first match wins: (cause, regex over the failure text).
CAUSES = [
    ("secondary indexes (GSI/LSI)", r"SecondaryIndex|IndexName|specified index|\bindex\b"),
    ("PartiQL", r"ExecuteStatement|ExecuteTransaction|BatchExecuteStatement|PartiQL"),
    ("legacy parameters", r"legacy parameter|AttributeUpdates|ScanFilter|QueryFilter|"
                          r"KeyConditions\b|AttributesToGet|ConditionalOperator|\bExpected\b"),
    ("backups, PITR, import/export", r"Backup|PointInTime|ContinuousBackups|RestoreTable|"
                                     r"ExportTable|ImportTable|Export"),
    ("resource policies", r"ResourcePolicy|resource policy"),
    ("error wording", r"assert .*(message|Message|\[\"Error\"\])|1 validation error detected|"
                      r"Requested resource not found"),
    ("unknown operation", r"UnknownOperation|Unknown operation"),
]


# ---- the recording proxy ---------------------------------------------------------------
class Proxy:
    """Forwards every request to `backend_url`, noting (test, service) pairs; a request
    to /moto-api/reset goes to `reset` when given (else it is forwarded too)."""

    def __init__(self, backend_url: str, reset: Callable[[], None] | None = None) -> None:
        u = urllib.parse.urlsplit(backend_url)
        self.backend = (u.hostname, u.port)
        self.reset = reset
        self.current = "(before the first test)"
        self.services: dict[str, set[str]] = {}
        self._local = threading.local()
        self.server = HttpServer("127.0.0.1", 0, self.handle, name="moto-proxy",
                                 idle_timeout_s=600, read_timeout_s=120)

    def start(self) -> "Proxy":
        self.server.start()
        return self

    @property
    def url(self) -> str:
        return self.server.url

    def handle(self, method: str, path: str, headers: dict, body: bytes):
        if path.startswith(MARK_PATH):
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
            self.current = q.get("id", ["?"])[0]
            self.services.setdefault(self.current, set())
            return 200, [], b"{}"
        if path.startswith("/moto-api/"):
            if path.startswith("/moto-api/reset") and self.reset is not None:
                self.reset()
                return 200, ["Content-Type: application/json"], b"{}"
        else:
            scope = sigv4_scope(headers)
            self.services.setdefault(self.current, set()).add(
                scope[1] if scope else "(unsigned)")
        return self._forward(method, path, headers, body)

    def _forward(self, method: str, path: str, headers: dict, body: bytes):
        conn = getattr(self._local, "conn", None)
        for attempt in (1, 2):  # a kept-alive connection may have been closed meanwhile
            if conn is None:
                conn = http.client.HTTPConnection(*self.backend, timeout=120)
                self._local.conn = conn
            try:
                conn.request(method, path, body=body or None, headers={
                    k: v for k, v in headers.items() if k not in HOP_HEADERS})
                resp = conn.getresponse()
                payload = resp.read()
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = self._local.conn = None
                if attempt == 2:
                    return 502, [], b'{"message": "backend unreachable"}'
        extra = [f"{k}: {v}" for k, v in resp.getheaders() if k.lower() not in HOP_HEADERS]
        return resp.status, extra, payload


# ---- sources and runs ------------------------------------------------------------------
def fetch_sources(version: str, workdir: Path) -> Path:
    """moto's sdist unpacked under `workdir`; returns the source tree's root."""
    tree = workdir / f"moto-{version}"
    if (tree / "tests" / "test_dynamodb").is_dir():
        return tree
    workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                    ":all:", f"moto=={version}", "-d", str(workdir)], check=True)
    with tarfile.open(workdir / f"moto-{version}.tar.gz") as tar:
        tar.extractall(workdir, filter="data")
    return tree


def run_tests(tree: Path, proxy: Proxy, results: Path, select: str | None) -> dict[str, dict]:
    """moto's DynamoDB tests in server mode against `proxy`; outcome per test node id."""
    (tree / "gtcheck_moto_plugin.py").write_text(PLUGIN)
    results.unlink(missing_ok=True)
    env = {**os.environ, "TEST_SERVER_MODE": "true", "TEST_SERVER_MODE_ENDPOINT": proxy.url,
           "GTCHECK_MOTO_PROXY": proxy.url, "GTCHECK_MOTO_RESULTS": str(results),
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "gtcheck_moto_plugin", "-p",
           "no:cacheprovider", "-o", "addopts=", "tests/test_dynamodb"]
    cmd += ["-k", select] if select else []
    subprocess.run(cmd, cwd=tree, env=env, timeout=RUN_TIMEOUT_S,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return outcomes(results)


def outcomes(results: Path) -> dict[str, dict]:
    """{node id: {"outcome": passed|failed|skipped, "text": the failure}}: failed when any
    phase (setup, call, teardown) failed, skipped when one skipped, else passed."""
    out: dict[str, dict] = {}
    if not results.exists():
        return out
    for line in results.read_text().splitlines():
        r = json.loads(line)
        cur = out.setdefault(r["id"], {"outcome": "passed", "text": ""})
        if r["outcome"] == "failed":
            cur["outcome"], cur["text"] = "failed", cur["text"] + r["text"]
        elif r["outcome"] == "skipped" and cur["outcome"] == "passed":
            cur["outcome"] = "skipped"
    return out


def moto_server(tree: Path):
    """moto's own server (the unpacked version) on a free port."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                             str(port)], cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/")
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("moto_suite: moto's server did not start")


def emulator_reset(d) -> Callable[[], None]:
    """Delete every backup and table in every region (moto's /moto-api/reset)."""
    from emulator.testing import client
    clients = {r: client(d.endpoints[r], r) for r in d.regions}

    def reset() -> None:
        for r, c in clients.items():
            for name in c.list_tables().get("TableNames", []):
                try:
                    if c.describe_table(TableName=name)["Table"].get(
                            "DeletionProtectionEnabled"):  # moto's reset ignores it too
                        c.update_table(TableName=name, DeletionProtectionEnabled=False)
                    c.delete_table(TableName=name)
                except c.exceptions.ResourceNotFoundException:
                    pass  # a replica: gone with the table deleted in another region
            # Backups outlive their tables (and deleting a PITR table makes a SYSTEM one).
            for b in c.list_backups(BackupType="ALL").get("BackupSummaries", []):
                c.delete_backup(BackupArn=b["BackupArn"])
    return reset


def cause_of(text: str) -> str:
    for cause, pattern in CAUSES:
        if re.search(pattern, text):
            return cause
    return "other"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.moto_suite", description=__doc__.split("\n\n")[0])
    p.add_argument("--version", default=VERSION, help="moto version whose tests to run")
    p.add_argument("--workdir", type=Path, default=Path("/tmp/gtcheck-moto-suite"))
    p.add_argument("-k", dest="select", default=None, help="pytest -k expression (a subset)")
    p.add_argument("--write", action="store_true", help=f"store the result in {DATA}")
    a = p.parse_args(argv)
    try:
        import freezegun  # noqa: F401 -- moto's tests import it
    except ImportError:
        print("moto_suite: error: moto's tests need freezegun: pip install freezegun",
              file=sys.stderr)
        return 3
    tree = fetch_sources(a.version, a.workdir)

    proc, moto_url = moto_server(tree)
    try:
        proxy = Proxy(moto_url).start()
        on_moto = run_tests(tree, proxy, a.workdir / "moto.jsonl", a.select)
        services = proxy.services
        proxy.server.stop()
    finally:
        proc.terminate()
        proc.wait(30)

    from emulator import Deployment
    with Deployment(REGIONS, latency_scale=0.0, seed=1) as d:
        proxy = Proxy(d.endpoint, reset=emulator_reset(d)).start()
        on_emulator = run_tests(tree, proxy, a.workdir / "emulator.jsonl", a.select)
        proxy.server.stop()

    applicable = sorted(t for t, r in on_moto.items()
                        if r["outcome"] == "passed" and services.get(t)
                        and services[t] <= {"dynamodb"})
    passed = [t for t in applicable if on_emulator.get(t, {}).get("outcome") == "passed"]
    failed = [t for t in applicable if t not in set(passed)]
    causes = Counter(cause_of(on_emulator.get(t, {}).get("text", "")) for t in failed)
    moto_passed = sum(1 for r in on_moto.values() if r["outcome"] == "passed")
    result = {
        "moto_version": a.version,
        "command": "python -m scripts.moto_suite --write",
        "measured": time.strftime("%Y-%m-%d", time.gmtime()),
        "tests": len(on_moto), "passed_on_moto_server": moto_passed,
        "applicable": len(applicable), "passed": len(passed),
        "failure_causes": dict(causes.most_common()),
        "failed_tests": {t: cause_of(on_emulator.get(t, {}).get("text", "")) for t in failed},
    }
    (a.workdir / "failures.json").write_text(json.dumps(
        {t: on_emulator.get(t, {}).get("text", "")[-1500:] for t in failed}, indent=1))
    share = 100.0 * len(passed) / len(applicable) if applicable else 0.0
    print(f"moto {a.version} tests/test_dynamodb: {len(on_moto)} tests, {moto_passed} pass "
          f"against moto's server; {len(applicable)} apply (need a server, DynamoDB only)")
    print(f"against the emulator: {len(passed)} of {len(applicable)} pass ({share:.1f}%)")
    for cause, n in causes.most_common():
        print(f"  {n:4d}  {cause}")
    if a.write and not a.select:
        DATA.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        print(f"moto_suite: wrote {DATA}; run python -m scripts.fidelity")
    return 0


if __name__ == "__main__":
    sys.exit(main())
