"""The `gtcheck` command line: thin click commands over `suite.core` and `suite.check_cmd`.

Exit statuses are the same everywhere: 0 valid, 1 invalid, 2 unknown, 3 bad input or a
set-up failure. Every deliberate error (`GtcheckError`) and every usage error becomes a
one-line message on stderr and status 3, never a traceback. Other command groups
(`emulator`, `report`, `serve`) live in their own modules and are added to `main` with
`main.add_command(...)`.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

import click

from results.formats import FORMATS
from suite.config import (DEFAULT_REGIONS, MODES, NEMESIS_TIMINGS, Test, check_hot_keys,
                          parse_list)
from suite.errors import GtcheckError
from suite.verdicts import EXIT_BAD_INPUT, exit_code

# Start-up: `gtcheck check` must not pay for what it does not use (boto3, the emulator,
# the report's templates). Commands import what they need when they run, and command
# groups from other modules are registered lazily (`add_lazy_command`): their module is
# imported only when the command is looked up.


class _LazyCommands(dict):
    """name -> command, where a value may be a "module:attribute" still to import."""

    def _load(self, name: str, value):
        if isinstance(value, str):
            module, attr = value.split(":")
            value = getattr(importlib.import_module(module), attr)
            dict.__setitem__(self, name, value)
        return value

    def __getitem__(self, name):
        return self._load(name, dict.__getitem__(self, name))

    def get(self, name, default=None):
        return self[name] if name in self else default

    def items(self):
        return [(k, self[k]) for k in list(self.keys())]

    def values(self):
        return [self[k] for k in list(self.keys())]


# What every --model means, in one place: `check --help` shows it and README's `--model`
# row says the same (tests/suite/test_docs_agree.py).
MODEL_HELP = (
    "Linearizability models: register, cas-register, counter, set, kv. Transactional, "
    "checked Elle's way: list-append, rw-register; and bank (Jepsen's bank rule on "
    "Jepsen's histories, the region-aware rule on a gtcheck bank run). Jepsen's own "
    "checkers as elle-cli runs them: set-full, long-fork, and counter / set on --format "
    "edn or elle-json, where they mean Jepsen's counter and set checkers, not "
    "linearizability (aliases jepsen-counter, jepsen-set). Without --model the files are "
    "only validated: `unknown` (exit 2), since nothing was judged.")


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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.commands = _LazyCommands(self.commands)

    def add_lazy_command(self, name: str, target: str, short_help: str) -> None:
        """Register the command `target` ("module:attribute") under `name`, imported
        only when it is looked up (its help, or running it). `short_help` is its
        docstring's first sentence, which `gtcheck --help` lists without importing it
        (tests/suite/test_startup.py holds the two equal)."""
        dict.__setitem__(self.commands, name, target)
        self.lazy_short_help[name] = short_help

    @property
    def lazy_short_help(self) -> dict[str, str]:
        if "_lazy_short_help" not in self.__dict__:
            self._lazy_short_help: dict[str, str] = {}
        return self._lazy_short_help

    def format_commands(self, ctx, formatter) -> None:
        """click's list of commands, taking a lazy command's short help from its
        registration instead of importing its module (`gtcheck --help` stays fast)."""
        rows = []
        for name in self.list_commands(ctx):
            value = dict.get(self.commands, name)
            if isinstance(value, str) and name in self.lazy_short_help:
                rows.append((name, click.Command(name, help=self.lazy_short_help[name])))
                continue
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, c.get_short_help_str(limit)) for name, c in rows])

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             exit_fast=False, **extra):
        try:
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                              standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
        except click.exceptions.NoArgsIsHelpError as e:  # bare `gtcheck`: help, status 0
            click.echo(e.ctx.get_help())
            code = 0
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
            if exit_fast and _TEARDOWN_NEEDLESS:
                # `gtcheck check` as a program: its output is written and flushed, it
                # leaves no child, thread or open file behind, and freeing a million-
                # operation history object by object costs CPU seconds for nothing
                # (issue 23: whole-process time): end the process without that.
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
            # The interpreter's shutdown collects every object a run left (histories,
            # plots, boto3's models): most of a second on a loaded machine, for nothing.
            import gc
            gc.freeze()
            sys.exit(code)
        return code


class RegistryHelpOption(click.Option):
    """An option whose help lists the names registered for it (workloads, nemeses, bug
    switches) with their descriptions, from the static table `suite.help_choices` (held
    equal to the registry by tests/suite/test_help_choices.py), so `run --help` names
    everything a run accepts and imports none of the modules that register them."""

    def __init__(self, *args, lead: str = "", names=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._lead, self._names = lead, names

    def get_help_record(self, ctx):
        entries = self._names() if self._names else []
        self.help = " ".join([self._lead] + [f"{n} ({d});" if d else f"{n};"
                                             for n, d in entries]).rstrip(";") + "."
        return super().get_help_record(ctx)


def help_choices(kind: str) -> tuple[tuple[str, str], ...]:
    """(name, description) of every workload, nemesis or emulator bug switch a run
    accepts: "WORKLOADS", "NEMESES" or "EMULATOR_BUGS" of `suite.help_choices`."""
    from suite import help_choices
    return getattr(help_choices, kind)


# Set by a command after which ending the process at once loses nothing (`check`).
_TEARDOWN_NEEDLESS = False


def program() -> None:
    """The `gtcheck` program (the console script): `main`, ending the process without
    freeing what `check` read (GtcheckGroup.main, `exit_fast`). In-process callers
    (tests' CliRunner) call `main` and get an ordinary exit."""
    main.main(prog_name="gtcheck", exit_fast=True)


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
              lead="Workload:", names=lambda: help_choices("WORKLOADS"))
@click.option("--nemesis", default="none", show_default=True, cls=RegistryHelpOption,
              lead="Comma-separated fault packages, composed and taking turns, or none:",
              names=lambda: help_choices("NEMESES"))
@click.option("--nemesis-interval", type=float, default=5.0, show_default=True,
              help="Seconds between fault operations (shortened, with a warning, when "
                   "composed packages would not all act within --time-limit).")
@click.option("--nemesis-latency-ms", type=float, default=None,
              help="Size of the slow and latency faults: extra one-way ms per link  "
                   "[default: slow 300, latency 50].")
@click.option("--nemesis-timing", type=click.Choice(NEMESIS_TIMINGS), default="grid",
              show_default=True,
              help="Fault timing: grid (fixed turns), random (seeded times around "
                   "--nemesis-interval), end-in-fault (random, and the main phase ends "
                   "inside a fault).")
@click.option("--emulator-bug", "emulator_bugs", default="none", show_default=True,
              metavar="NAME[,NAME]", cls=RegistryHelpOption,
              lead="Plant mistakes in the embedded emulator (emulator/README.md, 'Bug "
                   "switches'):", names=lambda: help_choices("EMULATOR_BUGS"))
@click.option("--quiet-reads/--no-quiet-reads", "quiet_reads", default=None,
              help="After each heal, hold the clients until replication settles, then "
                   "read every key in every region (a quiet round, judged like the final "
                   "reads)  [default: on in async mode with a nemesis].")
@click.option("--gsi-reads", "gsi_reads", is_flag=True,
              help="register workload: some EC reads go through a global secondary index "
                   "(eventually consistent in both modes), judged beside the table's "
                   "promises (checker gsi-reads).")
@click.option("--time-limit", type=float, default=30.0, show_default=True,
              help="Seconds of the main phase: nothing starts after it, and what is in "
                   "flight gets at most 1 s more, then is recorded info (time-limit); the "
                   "final heal and reads come after.")
@click.option("--pace", type=float, default=None, metavar="OPS",
              help="Count the fault schedule and --time-limit in client operations: a "
                   "second of them lasts until OPS client operations completed, never "
                   "less than a second, never more than six (the run's operation budget "
                   "is OPS x --time-limit)  [default: off: seconds].")
@click.option("--stop-on-violation", is_flag=True,
              help="End the main phase at the first violation the checking while the "
                   "run goes finds (heal, no final reads); the verdict is still the "
                   "full check of the history.")
@click.option("--concurrency", type=int, default=None,
              help="Client threads in total  [default: 2 per region].")
@click.option("--rate", type=float, default=50.0, show_default=True,
              help="Target client operations per second, over all threads.")
@click.option("--keys", type=int, default=8, show_default=True,
              help="Number of distinct item keys the workload uses.")
@click.option("--hot-keys", type=int, default=2, show_default=True,
              help="Keys in play at a time; they rotate over --keys every 100 operations "
                   "per key (0: every key at once, uniformly; more than --keys is refused).")
@click.option("--latency-scale", type=float, default=1.0, show_default=True,
              help="Scale of the emulator's inter-region latency (0.1 = ten times faster).")
@click.option("--op-timeout", type=float, default=5.0, show_default=True,
              help="Seconds before an operation is recorded as info (timeout).")
@click.option("--final-wait", type=float, default=1.0, show_default=True,
              help="Seconds to wait after the final heal before the final reads.")
@click.option("--final-deadline", type=float, default=10.0, show_default=True,
              help="Seconds after the final reads begin during which they are made again, "
                   "in rounds, while the regions disagree (a write replicated late may "
                   "still land); 0: one round.")
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
@click.option("--control-plane-scale", type=float, default=None,
              help="emulator target: AWS's slow, eventually consistent control plane, its "
                   "delays times this factor (emulator/README.md)  [default: instant].")
@click.option("--hosts", "hosts", default=None, type=click.Path(dir_okay=False),
              help="Hosts file (YAML): run each region's clients on its hosts over SSH, "
                   "as `gtcheck worker` processes (see README, Remote hosts).")
@click.option("--ssh-accept-new", is_flag=True,
              help="Trust an SSH host key not yet in known_hosts and add it there "
                   "(OpenSSH's accept-new); a changed key is still refused.")
def run(target, mode, regions, witness, workload, nemesis, nemesis_interval,
        nemesis_latency_ms, nemesis_timing, emulator_bugs, time_limit,
        concurrency, rate, keys, hot_keys, latency_scale, op_timeout, final_wait,
        final_deadline, seed,
        store_root, name, schedule_path, test_count, yes, max_requests, fis_role_arn,
        control_plane_scale, hosts, ssh_accept_new, quiet_reads, stop_on_violation,
        gsi_reads, pace):
    """Run a test: clients and faults against a global table, then judge the history.

    Prints a progress line while it runs and, at the end, the verdict, anomalies by kind
    and the run directory (test.json, history.jsonl, results.json, report).
    """
    from results.store import Store
    from suite import core
    from suite.repeat import run_series, series_summary
    from suite.schedule_file import read_schedule
    from workloads.after_run import after_run, plot_lines
    region_list = parse_list(regions)
    if click.get_current_context().get_parameter_source("hot_keys") \
            is click.core.ParameterSource.COMMANDLINE:
        check_hot_keys(hot_keys, keys)
    if seed is None:
        import random
        seed = random.SystemRandom().randrange(2**31)
    test = Test(workload=workload, target=target, mode=mode, regions=region_list,
                witness=witness, nemesis=parse_list(nemesis), seed=seed,
                time_limit=time_limit,
                concurrency=concurrency if concurrency is not None else 2 * len(region_list),
                rate=rate, keys=keys, hot_keys=hot_keys, latency_scale=latency_scale,
                nemesis_interval=nemesis_interval, op_timeout=op_timeout,
                final_wait=final_wait, final_deadline=final_deadline, name=name or "",
                hosts=hosts,
                ssh_accept_new=ssh_accept_new,
                nemesis_schedule=read_schedule(schedule_path) if schedule_path else (),
                target_options={k: v for k, v in (("yes", yes), ("max_requests", max_requests),
                                                  ("fis_role_arn", fis_role_arn),
                                                  ("control_plane_scale",
                                                   control_plane_scale))
                                if v not in (None, False)},
                nemesis_latency_ms=nemesis_latency_ms, nemesis_timing=nemesis_timing,
                emulator_bugs=parse_list(emulator_bugs),
                quiet_reads=quiet_reads, stop_on_violation=stop_on_violation,
                gsi_reads=gsi_reads, pace=pace,
                ).stamped(argv=tuple(sys.argv))
    import threading
    from results.durable import BackgroundSync
    from results.plot_worker import PlotWorker
    stop, abort = threading.Event(), threading.Event()
    # The run's files are fsynced by a thread while the run goes on (results/durable.py),
    # and are all on disk before this command returns.
    durable = BackgroundSync()
    # The plots are drawn by a child process that imports matplotlib on the other core
    # while the run goes, and draws while this process writes the report.
    plotter = PlotWorker()

    def run_one(t: Test, *, last: bool = False) -> core.RunResult:
        with core.stop_on_signals(stop, abort, log=_stderr):
            # the plots are drawn while the history is judged and the report written
            result = core.run_test(t, store=Store(store_root, sync=durable), stop=stop,
                                   abort=abort, log=_stderr, progress=_stderr,
                                   on_history=plotter.request)
        for line in after_run(result, t):  # the demos' tables; report.html
            click.echo(line)
        click.echo(core.summary(result, t))
        # after the verdict; the command's last run does not wait for the plots (they
        # are not part of the verdict or the report): the line says where they appear
        for line in plot_lines(result, plotter, wait=not last):
            click.echo(line)
        synced()
        return result

    def synced() -> None:
        for problem in durable.wait():
            _stderr(f"gtcheck: warning: not written to disk durably: {problem}")

    try:
        if test_count == 1:
            return exit_code(run_one(test, last=True).valid)
        done = run_series(test, test_count, run_one, _stderr)
    finally:
        plotter.close()
        synced()  # a run that failed part way too
    text, valid = series_summary(done, test_count)
    click.echo(text)
    return exit_code(valid)


@main.command()
@click.argument("run_dir", type=click.Path(), required=False)
@click.option("--store", "store_root", default="store", show_default=True,
              type=click.Path(file_okay=False),
              help="The run store whose latest run is analysed when RUN_DIR is not given.")
def analyze(run_dir, store_root):
    """Re-run the checkers on a stored run's history; rewrite results.json and report.html.

    RUN_DIR is a run directory (STORE/<test>/<timestamp>), STORE/latest or
    STORE/<test>/latest; without it, the store's latest run (as Jepsen's analyze takes
    the latest test). The checker set is that of the workload named in its test.json.
    """
    from suite import core
    if run_dir is None:
        from results.store import Store
        latest = Store(store_root).latest()
        if latest is None:
            raise click.UsageError(f"no RUN_DIR given and {store_root}/latest names no run")
        run_dir = latest.path
    from workloads.after_run import after_run, plot_lines
    result = core.analyze_run(run_dir)
    test = Test.from_json(result.run_dir.read_test())
    for line in after_run(result, test):  # the demos' tables; report.html
        click.echo(line)
    click.echo(core.summary(result, test))
    for line in plot_lines(result):  # after the verdict
        click.echo(line)
    return exit_code(result.valid)


@main.command()
@click.option("--model", default=None, help=MODEL_HELP)
@click.option("--format", "fmt", type=click.Choice(FORMATS + ("elle-json",)),
              default="jsonl", show_default=True,
              help="History file format (elle-json: elle-cli's JSON, for list-append, "
                   "rw-register, bank, counter, set, set-full, long-fork).")
@click.option("--group-size", type=int, default=None, metavar="N",
              help="For --model long-fork: keys each read reads (Jepsen's group size; "
                   "default 2, as jepsen.tests.long-fork's workload).")
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
@click.option("--mode", type=click.Choice(MODES), default=None,
              help="Judge a gtcheck history by the checker set `gtcheck analyze` runs "
                   "for this mode (default when a test.json lies beside the file: its "
                   "mode).")
@click.option("--include-ec-reads", is_flag=True,
              help="With --model on a gtcheck history: also linearize EC reads "
                   "(\"consistent\": false), which no mode promises; left out by default.")
@click.option("--linearizable-keys", is_flag=True,
              help="For --model rw-register: assume each key is linearizable and infer "
                   "versions from real-time order (Elle's :linearizable-keys?).")
@click.option("--sequential-keys", is_flag=True,
              help="For --model rw-register: assume each key is sequentially consistent "
                   "and infer versions from each process's order (Elle's "
                   ":sequential-keys?).")
@click.argument("files", nargs=-1, required=True, type=click.Path())
def check(model, fmt, initial_json, timeout, as_json, mode, include_ec_reads, files,
          consistency_models, group_size, linearizable_keys, sequential_keys):
    """Check history files: FILE<TAB>true|false|unknown<TAB>SECONDS per file.

    \b
    What fail, info and nil mean follows the format's own tool (--json shows it as
    "rules" in each result):
    - edn (Jepsen, Knossos's rules): :fail did not happen (removed, whatever its f);
      :info may or may not have happened (open to the end); a nil read is an unknown
      value (matches any state) in register and cas-register; a process id reused
      after :info is bad input (Jepsen gives a crashed process a fresh id).
    - porcupine-etcd / porcupine-kv (Porcupine's rules): a failed cas observed that
      the compare did not match; a nil read means the register is empty.
    - jsonl (gtcheck's own, DynamoDB's rules): a cas failed ConditionalCheckFailed
      observed the item; any other definite failure is a non-event; nil = absent.

    \b
    On gtcheck's own histories: --mode (or a test.json beside the file, read
    automatically when no --model is given) runs the checker set of `gtcheck analyze`
    for that mode, so both always agree; with --model, EC reads are left out unless
    --include-ec-reads (the output says how many).

    Exit status: 0 all valid, 1 any invalid, 2 any unknown and none invalid, 3 bad input
    (the message names the file and line; an empty file is bad input: "no operations").
    """
    from suite.check_cmd import check_files

    def emit(v):
        if v.error is not None:
            _stderr(f"gtcheck: error: {v.error}")
        if v.note is not None:
            _stderr(f"gtcheck: note: {v.note}")
        if as_json:
            click.echo(json.dumps(v.to_json(), default=str))
        elif v.error is None:
            click.echo(v.line())

    global _TEARDOWN_NEEDLESS
    _TEARDOWN_NEEDLESS = True
    return check_files(list(files), fmt=fmt, model=model, initial_json=initial_json,
                       timeout=timeout, emit=emit, mode=mode,
                       include_ec_reads=include_ec_reads,
                       every_counterexample=as_json,
                       consistency_models=list(consistency_models) or None,
                       group_size=group_size, linearizable_keys=linearizable_keys,
                       sequential_keys=sequential_keys)


# Command groups that live beside the parts they drive (imported when used).
main.add_lazy_command("emulator", "emulator.cli:emulator",
                      "Run the bundled DynamoDB global-tables emulator and inject faults "
                      "into it.")
main.add_lazy_command("report", "results.report_cli:report_command",
                      "Write the self-contained HTML report of a run (or compare two runs).")
main.add_lazy_command("serve", "results.report_cli:serve_command",
                      "Serve the web UI over a run store (list of runs, reports, histories, "
                      "logs).")
main.add_lazy_command("aws", "suite.aws_cmd:aws",
                      "Housekeeping for the aws target (real DynamoDB global tables).")
main.add_lazy_command("conform", "suite.conform_cmd:conform",
                      "Judge a DynamoDB-compatible endpoint set against SEMANTICS.md's "
                      "observable claims.")
main.add_lazy_command("worker", "suite.remote.worker:worker_command",
                      "Run one host's client operations for a remote run (started by the "
                      "control node).")
main.add_lazy_command("validate", "suite.validate:validate_command",
                      "Measure detection power: run every planted emulator bug with the "
                      "workload, nemesis and schedule that should expose it, for N seeds, "
                      "plus N runs without bugs, and print the detection matrix (bug, claim "
                      "broken, seeds detected of N, median seconds to the first anomalous "
                      "operation, anomalies named).")
main.add_lazy_command("test-all", "suite.test_all_cmd:test_all",
                      "Run every workload against every nemesis package (and with no "
                      "fault); one table.")

if __name__ == "__main__":
    program()
