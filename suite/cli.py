"""The `gtcheck` command line: thin click commands over `suite.core` and `suite.check_cmd`.

Exit statuses are the same everywhere: 0 valid, 1 invalid, 2 unknown, 3 bad input or a
set-up failure. Every deliberate error (`GtcheckError`) and every usage error becomes a
one-line message on stderr and status 3, never a traceback. Other command groups
(`emulator`, `report`, `serve`) live in their own modules and are added to `main` with
`main.add_command(...)`.
"""

from __future__ import annotations

import json
import random
import sys
import threading

import click

from results.formats import FORMATS
from results.store import Store
from suite import core
from suite.check_cmd import check_files
from emulator.bugs import help_text as bug_help
from suite.config import DEFAULT_REGIONS, MODES, NEMESIS_TIMINGS, Test, parse_list
from suite.errors import GtcheckError
from suite.repeat import run_series, series_summary
from suite.schedule_file import read_schedule
from suite.verdicts import EXIT_BAD_INPUT, exit_code
from workloads.after_run import after_run


def error_line(e: click.ClickException) -> str:
    """Every error in one style: `gtcheck: error: MESSAGE` (a usage error adds where to
    find the command's help), one line, whatever raised it."""
    line = f"gtcheck: error: {e.format_message()}"
    ctx = getattr(e, "ctx", None)
    if isinstance(e, click.UsageError) and ctx is not None:
        line += f" (see '{ctx.command_path} --help')"
    return line


class GtcheckGroup(click.Group):
    """A click group whose errors are messages with exit status 3, not tracebacks."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        try:
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                              standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
        except click.ClickException as e:
            click.echo(error_line(e), err=True)
            code = EXIT_BAD_INPUT
        except (click.Abort, KeyboardInterrupt):
            click.echo("gtcheck: interrupted", err=True)
            code = 130
        except GtcheckError as e:
            click.echo(f"gtcheck: error: {e}", err=True)
            code = EXIT_BAD_INPUT
        if standalone_mode:
            sys.exit(code)
        return code


class RegistryHelpOption(click.Option):
    """An option whose help lists the names registered for it (workloads, nemeses) with
    their descriptions, read from the registry only when help is shown, so the help of
    `run` always names everything a run accepts and start-up imports nothing extra."""

    def __init__(self, *args, lead: str = "", names=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._lead, self._names = lead, names

    def get_help_record(self, ctx):
        entries = self._names() if self._names else []
        self.help = " ".join([self._lead] + [f"{n} ({d});" if d else f"{n};"
                                             for n, d in entries]).rstrip(";") + "."
        return super().get_help_record(ctx)


def registry_names(kind: str) -> list[tuple[str, str]]:
    """(name, description) of every registered workload or nemesis, test doubles aside."""
    from suite import registry
    registry.load_plugins()
    if kind == "workloads":
        items = [(n, e.description) for n, e in registry.WORKLOADS.items()]
    else:
        items = [(n, registry.NEMESIS_DESCRIPTIONS.get(n, "")) for n in registry.NEMESES]
    return [(n, d) for n, d in items if not n.startswith("fake")]


@click.group(cls=GtcheckGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """gtcheck: Jepsen-style consistency tests for DynamoDB global tables.

    Exit status: 0 valid, 1 invalid, 2 unknown, 3 bad input or set-up failure.
    """


def _stderr(msg: str) -> None:
    click.echo(msg, err=True)


@main.command()
@click.option("--target", default="emulator", show_default=True,
              help="Where the global table lives: emulator (embedded, started for the run), "
                   "endpoints:FILE (running endpoints, one per region), or aws.")
@click.option("--mode", type=click.Choice(MODES), default="strong", show_default=True,
              help="Replication mode: async (last writer wins) or strong (MRSC).")
@click.option("--regions", default=",".join(DEFAULT_REGIONS), show_default=True,
              help="Comma-separated replica regions; clients are spread over them.")
@click.option("--witness", default=None,
              help="MRSC witness region (holds only the journal), instead of a third replica.")
@click.option("--workload", default="register", show_default=True, cls=RegistryHelpOption,
              lead="Workload:", names=lambda: registry_names("workloads"))
@click.option("--nemesis", default="none", show_default=True, cls=RegistryHelpOption,
              lead="Comma-separated fault packages, composed and taking turns, or none:",
              names=lambda: registry_names("nemeses"))
@click.option("--nemesis-interval", type=float, default=5.0, show_default=True,
              help="Seconds between fault operations.")
@click.option("--nemesis-latency-ms", type=float, default=None,
              help="Size of the slow and latency faults: extra one-way ms per link  "
                   "[default: slow 300, latency 50].")
@click.option("--nemesis-timing", type=click.Choice(NEMESIS_TIMINGS), default="grid",
              show_default=True,
              help="Fault timing: grid (fixed turns), random (seeded times around "
                   "--nemesis-interval), end-in-fault (random, and the main phase ends "
                   "inside a fault).")
@click.option("--emulator-bug", "emulator_bugs", default="none", show_default=True,
              metavar="NAME[,NAME]",
              help="Plant mistakes in the embedded emulator (emulator/README.md, 'Bug "
                   "switches'): " + bug_help())
@click.option("--time-limit", type=float, default=30.0, show_default=True,
              help="Seconds of the main phase (the final heal and reads come after).")
@click.option("--concurrency", type=int, default=None,
              help="Client threads in total  [default: 2 per region].")
@click.option("--rate", type=float, default=50.0, show_default=True,
              help="Target client operations per second, over all threads.")
@click.option("--keys", type=int, default=8, show_default=True,
              help="Number of distinct item keys the workload uses.")
@click.option("--hot-keys", type=int, default=2, show_default=True,
              help="Keys in play at a time; they rotate over --keys every 100 operations "
                   "per key (0: every key at once, uniformly).")
@click.option("--latency-scale", type=float, default=1.0, show_default=True,
              help="Scale of the emulator's inter-region latency (0.1 = ten times faster).")
@click.option("--op-timeout", type=float, default=5.0, show_default=True,
              help="Seconds before an operation is recorded as info (timeout).")
@click.option("--final-wait", type=float, default=1.0, show_default=True,
              help="Seconds to wait after the final heal before the final reads.")
@click.option("--seed", type=int, default=None,
              help="Seed for every random choice  [default: a fresh random seed, printed].")
@click.option("--store", "store_root", default="store", show_default=True,
              type=click.Path(file_okay=False),
              help="Run store directory; each run goes to STORE/<test>/<timestamp>/.")
@click.option("--name", default=None,
              help="Test name (the store sub-directory)  [default: workload-mode-nemesis].")
@click.option("--nemesis-schedule", "schedule_path", default=None, metavar="FILE",
              help="Replay fixed fault operations instead of --nemesis: a JSON list of "
                   "{\"at\": seconds, \"f\": action, \"value\": target} (every run writes "
                   "its own as nemesis-schedule.json).")
@click.option("--test-count", type=click.IntRange(1, 10_000), default=1, show_default=True,
              help="Repeat the test with fresh seeds (from --seed) until one is not valid "
                   "or this many passed; the exit status is the worst verdict.")
@click.option("--yes", is_flag=True,
              help="aws target: create the planned tables without asking.")
@click.option("--max-requests", type=int, default=None,
              help="aws target: hard stop after N data-plane requests (the run stops "
                   "early; final reads use a reserve).")
@click.option("--fis-role-arn", default=None,
              help="aws target: IAM role FIS assumes for --nemesis fis-pause-replication.")
@click.option("--hosts", "hosts", default=None, type=click.Path(dir_okay=False),
              help="Hosts file (YAML): run each region's clients on its hosts over SSH, "
                   "as `gtcheck worker` processes (see README, Remote hosts).")
@click.option("--ssh-accept-new", is_flag=True,
              help="Trust an SSH host key not yet in known_hosts and add it there "
                   "(OpenSSH's accept-new); a changed key is still refused.")
def run(target, mode, regions, witness, workload, nemesis, nemesis_interval,
        nemesis_latency_ms, nemesis_timing, emulator_bugs, time_limit,
        concurrency, rate, keys, hot_keys, latency_scale, op_timeout, final_wait, seed,
        store_root, name, schedule_path, test_count, yes, max_requests, fis_role_arn,
        hosts, ssh_accept_new):
    """Run a test: clients and faults against a global table, then judge the history.

    Prints a progress line while it runs and, at the end, the verdict, anomalies by kind
    and the run directory (test.json, history.jsonl, results.json, report).
    """
    region_list = parse_list(regions)
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    test = Test(workload=workload, target=target, mode=mode, regions=region_list,
                witness=witness, nemesis=parse_list(nemesis), seed=seed,
                time_limit=time_limit,
                concurrency=concurrency if concurrency is not None else 2 * len(region_list),
                rate=rate, keys=keys, hot_keys=hot_keys, latency_scale=latency_scale,
                nemesis_interval=nemesis_interval, op_timeout=op_timeout,
                final_wait=final_wait, name=name or "", hosts=hosts,
                ssh_accept_new=ssh_accept_new,
                nemesis_schedule=read_schedule(schedule_path) if schedule_path else (),
                target_options={k: v for k, v in (("yes", yes), ("max_requests", max_requests),
                                                  ("fis_role_arn", fis_role_arn))
                                if v not in (None, False)},
                nemesis_latency_ms=nemesis_latency_ms, nemesis_timing=nemesis_timing,
                emulator_bugs=parse_list(emulator_bugs),
                ).stamped(argv=tuple(sys.argv))
    stop, abort = threading.Event(), threading.Event()

    def run_one(t: Test) -> core.RunResult:
        with core.stop_on_signals(stop, abort, log=_stderr):
            result = core.run_test(t, store=Store(store_root), stop=stop, abort=abort,
                                   log=_stderr, progress=_stderr)
        for line in after_run(result, t):  # the demos' tables; report.html
            click.echo(line)
        click.echo(core.summary(result, t))
        return result

    if test_count == 1:
        return exit_code(run_one(test).valid)
    done = run_series(test, test_count, run_one, _stderr)
    text, valid = series_summary(done, test_count)
    click.echo(text)
    return exit_code(valid)


@main.command()
@click.argument("run_dir", type=click.Path())
def analyze(run_dir):
    """Re-run the checkers on a stored run's history; rewrite results.json and report.html.

    RUN_DIR is a run directory (STORE/<test>/<timestamp>) or STORE/latest. The checker
    set is that of the workload named in its test.json.
    """
    result = core.analyze_run(run_dir)
    test = Test.from_json(result.run_dir.read_test())
    for line in after_run(result, test):  # the demos' tables; report.html
        click.echo(line)
    click.echo(core.summary(result, test))
    return exit_code(result.valid)


@main.command()
@click.option("--model", default=None,
              help="Linearizability model (register, cas-register, counter, set, kv), "
                   "or a transactional model checked Elle's way (list-append, "
                   "rw-register), or bank (Jepsen's bank rule); without it the files are "
                   "only validated.")
@click.option("--format", "fmt", type=click.Choice(FORMATS + ("elle-json",)),
              default="jsonl", show_default=True,
              help="History file format (elle-json: elle-cli's JSON, for list-append "
                   "and rw-register).")
@click.option("--consistency-model", "consistency_models", multiple=True,
              metavar="MODEL",
              help="For list-append / rw-register: a model the history must satisfy "
                   "(read-committed, snapshot-isolation, serializable, "
                   "strict-serializable (default), or any Elle model name); repeatable.")
@click.option("--initial", "initial_json", default=None, metavar="JSON",
              help="The model's initial state, as JSON (e.g. 0 or null).")
@click.option("--timeout", type=float, default=None, metavar="S",
              help="Give up on a file after S seconds (its verdict is unknown).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object per file instead of tab-separated lines.")
@click.argument("files", nargs=-1, required=True, type=click.Path())
def check(model, fmt, initial_json, timeout, as_json, files, consistency_models):
    """Check history files: FILE<TAB>true|false|unknown<TAB>SECONDS per file.

    Exit status: 0 all valid, 1 any invalid, 2 any unknown and none invalid, 3 bad input
    (the message names the file and line).
    """
    def emit(v):
        if v.error is not None:
            _stderr(f"gtcheck: error: {v.error}")
        if as_json:
            click.echo(json.dumps(v.to_json(), default=str))
        elif v.error is None:
            click.echo(v.line())

    return check_files(list(files), fmt=fmt, model=model, initial_json=initial_json,
                       timeout=timeout, emit=emit,
                       consistency_models=list(consistency_models) or None)


# Command groups that live beside the parts they drive.
from emulator.cli import emulator as _emulator_group  # noqa: E402
from results.report_cli import report_command, serve_command  # noqa: E402
from suite.validate import validate_command  # noqa: E402
from suite.test_all_cmd import test_all as _test_all_command  # noqa: E402

main.add_command(_emulator_group, name="emulator")
main.add_command(report_command, name="report")
main.add_command(serve_command, name="serve")
from suite.aws_cmd import aws as _aws_group  # noqa: E402

main.add_command(_aws_group, name="aws")
from suite.conform import conform as _conform_command  # noqa: E402

main.add_command(_conform_command, name="conform")
from suite.remote.worker import worker_command  # noqa: E402

main.add_command(worker_command, name="worker")
main.add_command(validate_command, name="validate")
main.add_command(_test_all_command, name="test-all")


if __name__ == "__main__":
    main()
