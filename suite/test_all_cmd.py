"""The `gtcheck test-all` command: a thin click layer over `suite.battery`.

It parses the options, runs the battery with Ctrl-C handled as `gtcheck run` handles it
(`suite.core.stop_on_signals`: the first signal lets the run in progress heal and read,
and skips the rest), prints one line per run while it goes and the table at the end, and
writes the table and a JSON summary to the store.
"""

from __future__ import annotations

import random
import sys
import threading

import click

# `test-all --help` imports only click: the battery (and through it the runner, the
# checkers and multiprocessing) is imported when the command runs. "both" is
# suite.battery.BOTH (tests/suite/test_startup.py holds the two equal).
MODE_CHOICES = ("async", "strong", "both")


@click.command(name="test-all")
@click.option("--mode", type=click.Choice(MODE_CHOICES), default="strong", show_default=True,
              help="Replication mode of every run: async, strong (MRSC), or both.")
@click.option("--time-limit", type=float, default=None,
              help="Seconds of each run's main phase  [default: 20, or 1 with --quick].")
@click.option("--quick", is_flag=True,
              help="Smoke battery: 1 s runs at latency scale 0.1, faults every 0.15 s, "
                   "paced at 200 client operations a second (a slow machine's runs last "
                   "until they made them, up to 6 s; the whole battery in about two "
                   "minutes on a machine that keeps the rate).")
@click.option("--workloads", default=None, metavar="W[,W]",
              help="Only these workloads  [default: every registered workload].")
@click.option("--nemeses", default=None, metavar="N[,N]",
              help="Only these nemesis packages; 'none' is the no-fault run  "
                   "[default: none plus every registered package].")
@click.option("--jobs", type=int, default=None,
              help="Runs at a time, each in its own process  [default: 3 with --quick, "
                   "else 1].")
@click.option("--target", default="emulator", show_default=True,
              help="Where the tables live (as for gtcheck run): emulator, endpoints:FILE, aws.")
@click.option("--seed", type=int, default=None,
              help="Seed of every run  [default: a fresh random seed, printed].")
@click.option("--store", "store_root", default="store", show_default=True,
              type=click.Path(file_okay=False),
              help="Run store; the runs and STORE/test-all/<timestamp>.txt|.json go there.")
def test_all(mode, time_limit, quick, workloads, nemeses, jobs, target, seed,
             store_root):
    """Run every workload against every nemesis package (and with no fault); one table.

    Exit status: 1 if any run is invalid; else 3 if any run could not be set up; else 2
    if any run is unknown or the battery was interrupted; else 0.
    """
    from results.store import Store
    from suite import battery, core
    settings = battery.settings_for(quick=quick, time_limit=time_limit)
    jobs = battery.jobs_for(jobs, quick=quick)
    plan = battery.plans(battery.modes_for(mode), battery.parse_names(workloads),
                         battery.parse_names(nemeses), target=target, quick=quick)
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    store = Store(store_root)
    click.echo(f"gtcheck test-all: {len(plan)} runs, seed {seed}, "
               f"{settings['time_limit']:g} s each{' (quick)' if quick else ''}, "
               f"{jobs} at a time", err=True)
    stop, abort = threading.Event(), threading.Event()
    with core.stop_on_signals(stop, abort, log=lambda m: click.echo(m, err=True)):
        result = battery.run_battery(plan, store=store, seed=seed, settings=settings,
                                     target=target, quick=quick, stop=stop, abort=abort,
                                     progress=lambda m: click.echo(m, err=True),
                                     argv=tuple(sys.argv), jobs=jobs)
    click.echo(battery.table(result))
    js, txt = battery.write_summary(store, result)
    click.echo(f"summary: {txt} ({js.name})")
    return result.exit_code
