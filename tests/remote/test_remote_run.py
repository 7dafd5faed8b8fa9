"""End-to-end remote runs: `gtcheck run --hosts` on the namespace test bed.

Real sshd servers in network namespaces, paramiko, `gtcheck worker` processes on each
host, boto3 over HTTP from the hosts to the embedded emulator on the bridge address.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
import yaml

from results.history import NEMESIS, pair, read_jsonl
from results.store import Store
from suite import core
from suite.config import Test
from tests.remote.conftest import WORKER

pytestmark = pytest.mark.slow

REMOTE = dict(time_limit=3.0, concurrency=6, rate=60.0, latency_scale=0.1,
              op_timeout=1.0, final_wait=0.5, keys=4)


def remote_run(tmp_path, hosts, **kw):
    test = Test(**{**REMOTE, "hosts": str(hosts), **kw}).stamped(argv=("pytest",))
    result = core.run_test(test, store=Store(tmp_path / "store"))
    return result, read_jsonl(result.run_dir.history)


def test_every_operation_ran_on_a_host_of_its_region(tmp_path, testbed):
    result, ops = remote_run(tmp_path, testbed, seed=3)
    assert result.valid is True, result.results
    client = [op for op in ops if op.process != NEMESIS]
    assert len(client) > 50
    hosts = json.loads((result.run_dir.path / "hosts.json").read_text())["hosts"]
    region_of = {h["name"]: h["region"] for h in hosts}
    assert set(region_of.values()) == set(Test().regions)
    for op in client:
        assert op.extra["host"] in region_of, op
        assert region_of[op.extra["host"]] == op.region, op
    # Each host's clock was measured and its bound recorded with its operations.
    for h in hosts:
        first = h["clock_estimates"][0]
        assert first["bound_ns"] >= first["rtt_ns"] // 2 > 0
        assert len(h["clock_estimates"]) >= 3  # measured again during the run
    done = [op for op in client if op.type == "ok"]
    assert all(op.extra["clock_bound_ns"] > 0 and len(op.extra["worker_ns"]) == 2
               for op in done)
    # The history is in time order.
    assert [op.time for op in ops] == sorted(op.time for op in ops)


def _namespace_state() -> dict:
    """Per test-bed namespace: its iptables rules and the commands still running there."""
    out = {}
    for i in (1, 2, 3):
        ns = f"gtcktb-{i}"
        rules = subprocess.run(["ip", "netns", "exec", ns, "iptables", "-S"],
                               capture_output=True, text=True, check=True).stdout
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True,
                              check=True).stdout.split()
        cmds = []
        for pid in pids:
            try:
                cmds.append(open(f"/proc/{pid}/cmdline").read().replace("\0", " "))
            except OSError:
                continue  # ended meanwhile
        out[ns] = (rules, cmds)
    return out


def test_partition_and_kill_minus_9_of_a_worker_mid_run(tmp_path, testbed):
    """The issue's end-to-end test: three worker hosts, one per region, an iptables cut of
    a host from its endpoint and a kill -9 of a worker mid-run. The history is complete
    (the killed worker's in-flight operations are info), the verdict is right (the
    emulator's MRSC table is linearizable), and every fault is undone afterwards."""
    result, ops = remote_run(tmp_path, testbed, seed=11, time_limit=7.0, concurrency=9,
                             rate=150.0, latency_scale=1.0, op_timeout=0.8,
                             nemesis=("host-cut", "host-kill"), nemesis_interval=1.5)
    assert result.valid is True, result.results
    assert result.errors == []
    nem = [op for op in ops if op.process == NEMESIS]
    fs = [(op.f, op.type) for op in nem]
    assert ("cut-host", "ok") in fs and ("kill-worker", "ok") in fs, fs
    killed = next(op.value["host"] for op in nem if op.f == "kill-worker")
    restart = next(op for op in nem if op.f == "restart-worker" and op.type != "invoke")
    assert _done_or_done_late(restart, result, killed), nem
    kill_at = next(op.time for op in nem if op.f == "kill-worker" and op.type == "ok")
    # Complete: every invocation has exactly one completion.
    client = [op for op in ops if op.process != NEMESIS]
    pairs = pair(client)
    assert len(pairs) * 2 == len(client) and all(p.complete is not None for p in pairs)
    # The killed worker's operations in flight at the kill are info, their processes
    # retired (never invoke again); nothing is ok on that host until it was restarted.
    lost = [p for p in pairs if p.complete.type == "info"
            and (p.complete.error or "").startswith(f"host-lost: {killed}")]
    assert lost, [p.complete for p in pairs if p.complete.type != "ok"]
    for p in lost:
        later = [op for op in client if op.process == p.invoke.process
                 and op.index > p.complete.index]
        assert later == []
    # The cut host's requests stalled behind the DROP rule: some timed out (info).
    cut = next(op.value["host"] for op in nem if op.f == "cut-host")
    timeouts = [p for p in pairs if p.complete.type == "info"
                and p.complete.error == "timeout" and p.invoke.region == _region(result, cut)]
    assert timeouts, [p.complete for p in pairs if p.complete.type != "ok"]
    # Every fault is undone: no GTCHECK chain, no worker left on any host.
    for ns, (rules, cmds) in _namespace_state().items():
        assert "GTCHECK" not in rules, (ns, rules)
        assert not any("worker" in c for c in cmds), (ns, cmds)
    assert kill_at > 0


def _done_or_done_late(op, result, host) -> bool:
    """A worker (re)start over SSH is `ok`, or -- on a loaded machine, where starting a
    worker takes seconds (6 s seen at load 25) -- still in flight when the main phase's
    time limit passed: recorded `info` "time-limit" (suite.runner), and the run log then
    says the worker did restart, before the final phase went on."""
    if op.type == "ok":
        return True
    log = (result.run_dir.path / "run.log").read_text()
    return (op.type == "info" and op.error == "time-limit"
            and f"host {host}: worker restarted" in log.split("main phase over", 1)[-1])


def _region(result, host):
    hosts = json.loads((result.run_dir.path / "hosts.json").read_text())["hosts"]
    return next(h["region"] for h in hosts if h["name"] == host)


def test_pause_clock_skew_and_latency_faults_are_undone(tmp_path, testbed):
    """SIGSTOP/SIGCONT of a worker, a worker restarted under faketime (its clock 2 s off,
    measured and mapped), and added latency (tc netem where the kernel has sch_netem, else
    the worker's delaying proxy): the verdict stays right and nothing is left behind."""
    # Turns of 1.5 s, the quick faults first: restarting a worker under faketime may take
    # seconds on a loaded machine, and its end comes with the final heal.
    result, ops = remote_run(tmp_path, testbed, seed=4, time_limit=9.0, rate=80.0,
                             latency_scale=0.1, op_timeout=1.0,
                             nemesis=("host-latency", "host-pause", "host-clock"),
                             nemesis_interval=1.5)
    assert result.valid is True, result.results
    assert result.errors == []
    nem = [op for op in ops if op.process == NEMESIS and op.type != "invoke"]
    done = {op.f: op for op in nem}
    for f in ("pause-worker", "resume-worker", "delay-host"):
        assert done[f].type == "ok", nem
    # The skewed worker's clock was measured as far off, and its operations mapped back.
    hosts = json.loads((result.run_dir.path / "hosts.json").read_text())["hosts"]
    skewed = done["skew-host-clock"].value["host"]
    log = (result.run_dir.path / "run.log").read_text()
    assert _done_or_done_late(done["skew-host-clock"], result, skewed), nem
    assert f"host {skewed}: worker restarted" in log
    # Requests of the delayed host took at least the delay while it was in force.
    delayed = done["delay-host"].value["host"]
    start = done["delay-host"].time
    heal = next(op.time for op in nem if op.f == "heal" and op.time > start)
    slow = [p.complete for p in pair(op for op in ops if op.process != NEMESIS)
            if p.complete is not None and p.complete.type == "ok"
            and p.invoke.extra.get("host") == delayed and start < p.invoke.time
            and p.complete.time < heal]
    assert slow and all(op.extra["worker_ns"][1] - op.extra["worker_ns"][0] >= 100e6
                        for op in slow), [op.extra for op in slow]
    assert "no sch_netem" in log or "netem" not in log  # the fallback says so
    assert {h["name"] for h in hosts} >= {skewed, delayed}
    for ns, (rules, cmds) in _namespace_state().items():
        assert "GTCHECK" not in rules, (ns, rules)
        assert not any("worker" in c for c in cmds), (ns, cmds)


def _wait_for(path, text, timeout_s=60.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return True
        time.sleep(0.1)
    return False


def _start_cli_run(argv, store):
    """`gtcheck run ...` as a process, once its history file exists: (process, path)."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = list(store.glob("*/*/history.jsonl"))
        if found:
            return p, found[0]
        time.sleep(0.1)
    p.kill()
    raise AssertionError(f"no history file: {p.communicate()[0][-2000:]}")


@pytest.mark.parametrize("signals", [1, 2])
def test_ctrl_c_mid_fault_leaves_no_fault_behind(tmp_path, testbed, signals):
    """Ctrl-C while a host is cut and another paused: the run ends with results, and no
    iptables rule, stopped process or worker is left on any host. Twice (abort): the
    teardown still undoes everything."""
    store = tmp_path / "store"
    argv = [str(WORKER), "run", "--hosts", str(testbed), "--time-limit", "60",
            "--nemesis", "host-cut,host-pause", "--nemesis-interval", "0.5",
            "--latency-scale", "0.1", "--op-timeout", "1", "--seed", "8",
            "--store", str(store)]
    p, history = _start_cli_run(argv, store)
    try:
        assert _wait_for(history, '"type":"ok","process":"nemesis","f":"pause-worker"')
        for _ in range(signals):
            p.send_signal(signal.SIGINT)
            time.sleep(0.3)
        out, _ = p.communicate(timeout=90)
    finally:
        if p.poll() is None:
            p.kill()
    assert "verdict:" in out, out
    assert (history.parent / "results.json").exists()
    for ns, (rules, cmds) in _namespace_state().items():
        assert "GTCHECK" not in rules, (ns, rules, out)
        assert not any("worker" in c for c in cmds), (ns, cmds, out)
    for i in (1, 2, 3):
        for pid in subprocess.run(["ip", "netns", "pids", f"gtcktb-{i}"], capture_output=True,
                                  text=True).stdout.split():
            state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
            assert state != "T", (i, pid)


def test_hosts_against_a_running_emulator_endpoints_target(tmp_path, testbed):
    """`--target endpoints:FILE` with `--hosts`: the workers use the state file's URLs
    (an emulator serving on the bridge address, started by hand), async counter workload."""
    control = yaml.safe_load(testbed.read_text())["control_address"]
    state = tmp_path / "emulator.json"
    emu = subprocess.Popen([str(WORKER), "emulator", "serve", "--mode", "async",
                            "--host", control, "--latency-scale", "0.1",
                            "--control-plane-scale", "0.02",
                            "--state-file", str(state)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not state.exists() and time.monotonic() < deadline and emu.poll() is None:
            time.sleep(0.1)
        assert state.exists(), emu.stderr.read() if emu.poll() is not None else "no state"
        time.sleep(0.3)
        result, ops = remote_run(tmp_path, testbed, seed=5, target=f"endpoints:{state}",
                                 mode="async", workload="counter")
    finally:
        emu.terminate()
        emu.wait(20)
    assert result.valid is True, result.results
    adds = [op for op in ops if op.type == "ok" and op.f == "add"]
    assert len(adds) > 20 and all(op.extra["host"].startswith("tb") for op in adds)
    finals = [op for op in ops if op.extra.get("final") and op.type == "ok"]
    assert {op.region for op in finals} == set(Test().regions)
    assert len({op.value for op in finals if op.f == "read" and op.key == finals[0].key}) == 1


def test_a_lost_ssh_connection_loses_the_host_not_the_run(tmp_path, testbed):
    """The SSH connection to one host dies mid-run (its sshd session is killed): that
    host is named as lost, its in-flight operations are info, later ones in its region
    fail definitely (never sent), and the run ends with a right verdict."""
    store = tmp_path / "store"
    argv = [str(WORKER), "run", "--hosts", str(testbed), "--time-limit", "4",
            "--latency-scale", "0.1", "--op-timeout", "1", "--seed", "9", "--rate", "100",
            "--store", str(store)]
    p, history = _start_cli_run(argv, store)
    try:
        assert _wait_for(history, '"region":"us-east-1"')
        time.sleep(1.0)
        for pid in subprocess.run(["ip", "netns", "pids", "gtcktb-1"], capture_output=True,
                                  text=True, check=True).stdout.split():
            try:
                cmd = open(f"/proc/{pid}/cmdline").read()
            except OSError:
                continue
            if cmd.startswith("sshd:") and "listener" not in cmd:
                os.kill(int(pid), signal.SIGKILL)  # the session's sshd: the connection dies
        out, _ = p.communicate(timeout=90)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0 and "verdict: VALID" in out, out
    assert "host tb1 lost" in out
    ops = read_jsonl(history)
    east = [op for op in ops if op.region == "us-east-1" and op.type in ("fail", "info")
            and not op.extra.get("final")]
    assert any((op.error or "").startswith(("host-lost: tb1", "no live host")) for op in east)
    assert all(op.type == "fail" for op in east if (op.error or "").startswith("no live host"))


def test_a_run_killed_mid_cut_leaves_a_rule_the_next_run_removes_and_says_so(tmp_path,
                                                                             testbed):
    """Issue 19, class 14: `gtcheck run --hosts ... --nemesis host-cut` killed outright
    (SIGKILL: no teardown) while a host is cut leaves the DROP rule on that host. The next
    run, fault-free, removes GTCHECK chains at its start, says so in its run log, and is
    VALID (before, its cut-off clients made it INVALID: "should have kept serving")."""
    store = tmp_path / "store"
    argv = [str(WORKER), "run", "--hosts", str(testbed), "--time-limit", "60",
            "--nemesis", "host-cut", "--nemesis-interval", "3", "--latency-scale", "0.1",
            "--op-timeout", "1", "--seed", "9", "--store", str(store)]
    p, history = _start_cli_run(argv, store)
    try:
        assert _wait_for(history, '"type":"ok","process":"nemesis","f":"cut-host"')
        p.kill()
        p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    left = [ns for ns, (rules, _) in _namespace_state().items()
            if "-A GTCHECK" in rules and "DROP" in rules]
    assert len(left) == 1, _namespace_state()  # the cut outlived its run
    result, _ = remote_run(tmp_path / "next", testbed, seed=12, time_limit=3.0)
    log = (result.run_dir.path / "run.log").read_text()
    assert "removed iptables chain GTCHECK left by an earlier run (1 rule(s) flushed" \
        in log, log
    assert result.valid is True, result.results
    assert "host_faults_in_force" not in result.results["run"]
    for ns, (rules, _) in _namespace_state().items():
        assert "GTCHECK" not in rules, (ns, rules)


def test_a_host_fault_in_force_before_judging_leaves_the_run_unknown(tmp_path, testbed):
    """Issue 19, class 14: a DROP rule in a host's GTCHECK chain that no heal of this run
    undoes (here put there from outside once the run is going) is found before judging:
    the run says so, availability is not judged under it, and the verdict is unknown
    with the reason -- not the INVALID its cut-off clients would make it."""
    import threading
    ns = "gtcktb-2"
    rule = ["-p", "tcp", "-d", "10.237.16.1", "!", "--sport", "22", "-j", "DROP"]

    def iptables(*args):
        return subprocess.run(["ip", "netns", "exec", ns, "iptables", "-w", "5", *args],
                              capture_output=True, text=True)

    def cut_when_running():
        # an empty chain put there beforehand: the run removes it at its start and says
        # so; right after that line the rule goes in, with the run under way
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            logs = list((tmp_path / "store").glob("*/*/run.log"))
            if logs and "host tb2: removed iptables chain GTCHECK" in logs[0].read_text():
                break
            time.sleep(0.05)
        iptables("-N", "GTCHECK")
        iptables("-I", "OUTPUT", "1", "-j", "GTCHECK")
        iptables("-A", "GTCHECK", *rule)
    iptables("-N", "GTCHECK")
    t = threading.Thread(target=cut_when_running)
    t.start()
    try:
        result, _ = remote_run(tmp_path, testbed, seed=13, time_limit=3.0)
    finally:
        t.join()
        iptables("-F", "GTCHECK")
        iptables("-D", "OUTPUT", "-j", "GTCHECK")
        iptables("-X", "GTCHECK")
    run = result.results["run"]
    assert list(run.get("host_faults_in_force") or {}) == ["tb2"], run
    assert "iptables chain GTCHECK holds 1 rule(s)" in run["host_faults_in_force"]["tb2"]
    assert result.valid == "unknown", result.results
    assert result.results["reason"].startswith("host fault(s) still in force after the "
                                               "final phase"), result.results["reason"]
    assert result.results["checkers"]["availability"]["valid"] == "unknown"
    log = (result.run_dir.path / "run.log").read_text()
    assert "a fault is still in force after the final phase" in log
