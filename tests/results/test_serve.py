"""Tests of results.serve over HTTP on 127.0.0.1: the runs page (content, filters,
sorting), the run files it links to, report generation on demand, and that nothing
outside the store is ever served (path traversal -> 404)."""

from __future__ import annotations

import http.client
import re
import threading

import pytest
from click.testing import CliRunner

from results.report_cli import serve_command
from results.serve import list_runs, make_server
from suite.errors import BadInput
from tests.results.fixtures import make_run

SECRET = "top secret outside the store"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve") / "store"
    make_run(root, seed=1, workload="register", mode="strong", valid=False,
             name="register-strong", timestamp="20261128T090000")
    make_run(root, seed=2, workload="counter", mode="async", name="counter-async",
             timestamp="20261128T091000")
    make_run(root, seed=3, workload="register", mode="async", valid=False,
             extra_checker=True, name="register-async", timestamp="20261128T092000")
    partial = make_run(root, seed=4, workload="counter", mode="strong",
                       name="counter-strong", timestamp="20261128T093000")
    (partial / "results.json").unlink()
    (root / "not-a-test").mkdir()
    (root.parent / "secret.txt").write_text(SECRET)
    (root / "register-strong" / "escape").symlink_to(root.parent / "secret.txt")
    return root


@pytest.fixture(scope="module")
def server(store):
    srv = make_server(store, "127.0.0.1", 0, access_log=False)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=10)


def get(server, path: str, method: str = "GET") -> tuple[int, dict, str]:
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request(method, path)          # sent as-is: no client-side normalisation of ".."
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")
    conn.close()
    return resp.status, dict(resp.getheaders()), body


def rows(body: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr class="run row-(\w+)" data-verdict="\w+" data-workload="([\w-]*)"',
                      body)


def test_binds_localhost_by_default(store):
    srv = make_server(store, port=0)
    try:
        assert srv.server_address[0] == "127.0.0.1"
    finally:
        srv.server_close()
    opts = {p.name: p.default for p in serve_command.params}
    assert opts["host"] == "127.0.0.1" and opts["port"] == 8080


def test_runs_page_lists_every_run(server):
    status, headers, body = get(server, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "4 of 4 runs shown" in body
    assert sorted(rows(body)) == sorted([("invalid", "register"), ("valid", "counter"),
                                         ("invalid", "register"), ("none", "counter")])
    for name in ("register-strong", "counter-async", "register-async", "counter-strong"):
        assert f">{name}</a>" in body
    assert '<span class="badge invalid">invalid</span>' in body
    assert '<span class="badge valid">valid</span>' in body
    assert "no results" in body
    assert "lost-increment: " in body and "stale-read: " in body
    for link in ("report.html", "history.jsonl", "results.json", "emulator.log"):
        assert f'href="/runs/counter-async/20261128T091000/{link}"' in body
    assert "not-a-test" not in body


def test_filter_and_sort(server, store):
    _, _, body = get(server, "/?verdict=invalid")
    assert [v for v, _ in rows(body)] == ["invalid", "invalid"]
    _, _, body = get(server, "/?workload=counter")
    assert {w for _, w in rows(body)} == {"counter"} and len(rows(body)) == 2
    _, _, body = get(server, "/?verdict=valid&workload=counter")
    assert rows(body) == [("valid", "counter")]
    _, _, body = get(server, "/?sort=name&order=asc")
    names = re.findall(r'<td><a href="/runs/[^"]+/report.html">([\w-]+)</a><br>', body)
    assert len(names) == 4 and names == sorted(names)
    _, _, body = get(server, "/?sort=time&order=desc")
    times = re.findall(r"/runs/[\w-]+/(\d{8}T\d{6})/report.html\">[\w-]+</a>", body)
    assert times == sorted(times, reverse=True)
    _, _, body = get(server, "/?verdict=bogus&sort=nonsense")   # ignored, not an error
    assert len(rows(body)) == 4
    assert [r.verdict for r in list_runs(store, sort="verdict", descending=False)][:2] == \
        ["invalid", "invalid"]


def test_run_files_are_served(server):
    status, headers, body = get(server, "/runs/register-async/20261128T092000/results.json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert '"custom-probe"' in body
    status, headers, body = get(server, "/runs/register-async/20261128T092000/history.jsonl")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert body.startswith('{"index":0')
    status, _, body = get(server, "/runs/register-async/20261128T092000/emulator.log")
    assert status == 200 and "emulator log" in body
    status, headers, _ = get(server, "/runs/latest/history.jsonl")   # the latest link
    assert status == 200
    status, headers, body = get(server, "/runs/register-async/20261128T092000/")
    assert status == 200  # the run's files, as Jepsen's serve lists a test's directory
    assert 'href="/runs/register-async/20261128T092000/history.jsonl"' in body
    assert 'href="/zip/register-async/20261128T092000"' in body
    status, _, body = get(server, "/runs/counter-async/20261128T091000/report.html", "HEAD")
    assert status == 200 and body == ""


def test_report_written_on_first_request(server, store):
    run = store / "counter-strong" / "20261128T093000"
    (run / "report.html").unlink(missing_ok=True)
    status, _, body = get(server, "/runs/counter-strong/20261128T093000/report.html")
    assert status == 200
    assert "results.json is missing" in body
    assert (run / "report.html").is_file()


@pytest.mark.parametrize("path", [
    "/runs/../secret.txt",
    "/runs/%2e%2e/secret.txt",
    "/runs/..%2fsecret.txt",
    "/runs/%2E%2E%2Fsecret.txt",
    "/runs/register-strong/../../secret.txt",
    "/runs/register-strong/%2e%2e/%2e%2e/secret.txt",
    "/runs//etc/passwd",
    "/runs/%2fetc%2fpasswd",
    "/runs/..%5csecret.txt",
    "/runs/register-strong/escape",            # a symlink inside the store pointing out
    "/runs/register-strong%00/x",
    "/../secret.txt",
    "/etc/passwd",
    "/secret.txt",
])
def test_path_traversal_gets_404(server, path):
    status, _, body = get(server, path)
    assert status == 404, (path, status)
    assert SECRET not in body and "root:" not in body


@pytest.mark.parametrize("path", [
    "/runs/nope/20260101T000000/report.html",
    "/runs/not-a-test/report.html",
    "/runs/not-a-test/",
    "/nothing-here",
])
def test_missing_and_bad_run_dirs_get_404_with_a_message(server, path):
    status, headers, body = get(server, path)
    assert status == 404
    assert headers["Content-Type"].startswith("text/html")
    assert re.search(r'<p id="message">[^<]+</p>', body)
    assert "Traceback" not in body


def test_bad_run_dir_message_names_the_problem(server):
    _, _, body = get(server, "/runs/not-a-test/report.html")
    assert "not a run directory" in body


def test_only_get_and_head(server):
    status, _, _ = get(server, "/", "POST")
    assert status == 501
    status, _, _ = get(server, "/runs/counter-async/20261128T091000/results.json", "DELETE")
    assert status == 501


def test_bad_store_is_a_clear_error(tmp_path):
    with pytest.raises(BadInput, match="no such store directory"):
        make_server(tmp_path / "absent", port=0)
    result = CliRunner().invoke(serve_command, ["--store", str(tmp_path / "absent"),
                                                "--port", "0"])
    assert result.exit_code == 3
    assert "error: " in result.output and "no such store directory" in result.output


def test_compare_two_runs_of_the_store(server):
    status, _, body = get(server, "/compare?run=register-strong/20261128T090000"
                                  "&run=register-async/20261128T092000")
    assert status == 200
    assert 'id="verdict-a">invalid' in body and 'id="verdict-b">invalid' in body
    assert "Latency quantiles per region" in body and "custom-probe" in body
    for bad in ("/compare?run=register-strong/20261128T090000",
                "/compare?run=../x&run=register-async/20261128T092000",
                "/compare?run=not-a-test&run=register-async/20261128T092000",
                "/compare?run=register-strong/20261128T090000&run=nope/x"):
        status, _, body = get(server, bad)
        assert status == 404, bad
        assert re.search(r'<p id="message">[^<]+</p>', body)
    _, _, index = get(server, "/")
    assert index.count('type="checkbox" name="run"') == 4


def test_requests_for_another_host_name_are_refused(server):
    host, port = server.server_address[:2]
    for name, expected in ((f"localhost:{port}", 200), (f"127.0.0.1:{port}", 200),
                           (f"evil.example:{port}", 403), ("evil.example", 403)):
        conn = http.client.HTTPConnection(host, port, timeout=30)
        conn.putrequest("GET", "/runs/counter-async/20261128T091000/results.json",
                        skip_host=True)
        conn.putheader("Host", name)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read().decode()
        conn.close()
        assert resp.status == expected, name
        if expected == 403:
            assert "lost-increments" not in body


@pytest.mark.parametrize("name", [
    "127.evil.com", "127.evil.com:80", "127.0.0.1.evil.com", "127.0.0.2", "localhost.",
    "localhost.evil.com", "[::1]", "127.0.0.1:80x", "", "127.0.0.1@evil.com",
])
def test_host_names_it_is_not_bound_to_are_refused(server, name):
    """Only the exact loopback names the server is bound to: no `127.` prefix match."""
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.putrequest("GET", "/runs/counter-async/20261128T091000/results.json", skip_host=True)
    if name:
        conn.putheader("Host", name)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read().decode()
    conn.close()
    assert resp.status == 403, name
    assert "lost-increments" not in body


def test_host_allowed_rule():
    from results.serve import host_allowed
    assert host_allowed("127.0.0.1", "127.0.0.1:8080")
    assert host_allowed("127.0.0.1", "LOCALHOST")
    assert host_allowed("::1", "[::1]:8080")
    assert not host_allowed("::1", "127.0.0.1")
    assert not host_allowed("127.0.0.1", "127.evil.com")
    assert host_allowed("0.0.0.0", "anything.example")  # not loopback: no rebinding to guard


@pytest.fixture()
def linked_store(tmp_path):
    """A store whose one run's history.jsonl and test.json are symlinks out of the store."""
    root = tmp_path / "store"
    run = make_run(root, seed=9, workload="register", mode="strong", valid=True,
                   name="linked", timestamp="20261128T100000")
    outside = tmp_path / "outside"
    outside.mkdir()
    secret_line = ('{"index": 0, "time": 1, "type": "invoke", "process": 0, "f": "read", '
                   f'"key": "{SECRET}", "value": null}}\n')
    (outside / "history.jsonl").write_text(secret_line)
    (outside / "test.json").write_text('{"name": "%s"}' % SECRET)
    (run / "history.jsonl").unlink()
    (run / "history.jsonl").symlink_to(outside / "history.jsonl")
    (run / "test.json").unlink()
    (run / "test.json").symlink_to(outside / "test.json")
    (run / "report.html").unlink(missing_ok=True)
    (run / "outside.log").symlink_to(outside / "test.json")
    return root, run


def test_symlinks_out_of_the_store_are_never_read(linked_store):
    root, run = linked_store
    srv = make_server(root, "127.0.0.1", 0, access_log=False)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        status, _, index = get(srv, "/")
        assert status == 200 and SECRET not in index
        rel = "/runs/linked/20261128T100000/"
        for name in ("history.jsonl", "test.json", "outside.log"):
            status, _, body = get(srv, rel + name)
            assert status == 404 and SECRET not in body, name
        status, _, report = get(srv, rel + "report.html")  # generated on request
        assert SECRET not in report
        assert "symbolic link out of the run directory" in report
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)


def test_report_and_run_dir_refuse_symlinks_out(linked_store):
    from results.report import build_report
    from results.store import open_run_dir
    root, run = linked_store
    assert SECRET not in build_report(run)
    with pytest.raises(BadInput, match="symbolic link out of its run directory"):
        open_run_dir(run)
