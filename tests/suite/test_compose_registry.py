"""Nemesis composition, the registries, the test config's eager checks, and the CLI's help."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from suite import generator as g
from suite import registry
from suite.cli import main
from suite.compose import ComposedNemesis, compose_packages
from suite.config import Test, parse_list
from suite.errors import BadInput
from suite.protocols import NemesisPackage


class Recorder:
    def __init__(self, fs, fail_heal=False):
        self._fs = set(fs)
        self.ops = []
        self.fail_heal = fail_heal
        self.torn_down = False

    def setup(self, test):
        return self

    def invoke(self, test, op):
        self.ops.append(op["f"])
        if op["f"] == "heal" and self.fail_heal:
            return {"type": "fail", "error": "heal refused"}
        return {"type": "ok"}

    def teardown(self, test):
        self.torn_down = True

    def fs(self):
        return self._fs


def test_composed_nemesis_routes_by_f_and_heals_everything():
    a, b = Recorder({"isolate", "heal"}), Recorder({"cut", "heal"})
    n = ComposedNemesis([a, b]).setup(None)
    assert n.fs() == {"isolate", "cut", "heal"}
    assert n.invoke(None, {"f": "cut"})["type"] == "ok"
    assert n.invoke(None, {"f": "heal"})["type"] == "ok"
    assert n.invoke(None, {"f": "skew-clock"}) == {"type": "fail",
                                                  "error": "no nemesis handles 'skew-clock'"}
    assert a.ops == ["heal"] and b.ops == ["cut", "heal"]
    n.teardown(None)
    assert a.torn_down and b.torn_down


def test_a_failed_heal_fails_the_composed_heal():
    n = ComposedNemesis([Recorder({"heal"}), Recorder({"heal"}, fail_heal=True)])
    assert n.invoke(None, {"f": "heal"})["error"] == "heal refused"


def test_two_nemeses_claiming_one_fault_cannot_compose():
    with pytest.raises(BadInput, match="both handle 'isolate'"):
        ComposedNemesis([Recorder({"isolate"}), Recorder({"isolate"})])


def test_compose_packages_merges_schedules_and_final_heals():
    assert compose_packages([]).nemesis is None
    one = NemesisPackage(Recorder({"isolate", "heal"}), [{"f": "isolate"}],
                         [{"f": "heal"}], name="isolate")
    assert compose_packages([one]) is one
    two = NemesisPackage(Recorder({"cut", "heal"}), g.delay(0.5, [{"f": "cut"}]),
                         [{"f": "heal"}], name="link")
    pkg = compose_packages([one, two])
    assert pkg.name == "isolate+link"
    h = g.simulate(g.nemesis(pkg.generator), concurrency=1)
    assert [(op["f"], op["time"]) for op in g.invocations(h)] == [("isolate", 0),
                                                                  ("cut", 1_000_000)]
    h = g.simulate(g.nemesis(pkg.final_generator), concurrency=1)
    assert [op["f"] for op in g.invocations(h)] == ["heal"]  # identical heals run once
    three = NemesisPackage(Recorder({"stop", "start"}), [{"f": "stop"}], [{"f": "start"}],
                           name="outage")
    h = g.simulate(g.nemesis(compose_packages([one, three]).final_generator), concurrency=1)
    assert [op["f"] for op in g.invocations(h)] == ["heal", "start"]  # different: both


def test_registry_lookups_list_the_known_names(monkeypatch):
    registry.load_plugins()  # into the real registries first: later tests rely on them
    monkeypatch.setattr(registry, "WORKLOADS", {})
    monkeypatch.setattr(registry, "TARGETS", {})
    registry.register_workload("counter", lambda t, tg: None, lambda t: {})
    registry.register_workload("register", lambda t, tg: None, lambda t: {})
    registry.register_target("endpoints", lambda t: "endpoints target")
    with pytest.raises(BadInput, match=r"unknown workload 'sets' \(known: counter, register\)"):
        registry.workload_entry("sets")
    assert registry.target_factory("endpoints:state.json")(None) == "endpoints target"
    registry.load_plugins()  # the plugin packages import cleanly


def test_config_checks_mrsc_participants_and_values():
    Test(mode="strong", regions=("us-east-1", "us-east-2"), witness="us-west-2")
    Test(mode="async", regions=("us-east-1", "us-east-2"))
    with pytest.raises(BadInput, match="exactly three participants"):
        Test(mode="strong", regions=("us-east-1", "us-east-2"))
    with pytest.raises(BadInput, match="only to --mode strong"):
        Test(mode="async", regions=("us-east-1", "us-east-2"), witness="us-west-2")
    with pytest.raises(BadInput, match="--time-limit must be > 0"):
        Test(time_limit=-1)
    with pytest.raises(BadInput, match="--rate must be > 0"):
        Test(rate=0)
    assert Test(nemesis=("isolate", "link")).name == "register-strong-isolate+link"
    assert parse_list(" a, b ,,c") == ("a", "b", "c") and parse_list("none") == ()


def test_every_command_and_option_has_help():
    r = CliRunner().invoke(main, ["--help"])
    assert r.exit_code == 0
    for name, cmd in main.commands.items():
        assert cmd.help, name
        r = CliRunner().invoke(main, [name, "--help"])
        assert r.exit_code == 0 and "Usage:" in r.output
        for p in cmd.params:
            if isinstance(p, click.Option):
                assert p.help, f"{name} {p.opts}"
