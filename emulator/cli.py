"""`gtcheck emulator ...`: serve the emulator and drive its fault API from the shell.

`serve` starts a `Deployment` (emulator/deployment.py), prints one JSON line with every
region's endpoint and the admin URL, writes the same to the state file (default
`.gtcheck/emulator.json`) and runs until interrupted. `fault ACTION ...` reads the state
file, sends the action to the admin API and prints its JSON answer on one line; a bad
argument or an unreachable emulator exits non-zero with a clear message. The commands are
thin: all logic lives in the library.
"""

from __future__ import annotations

import json
import signal
import threading
import urllib.error
import urllib.request
from pathlib import Path

import click

from emulator.bugs import help_text as bug_help
from suite.errors import GtcheckError

DEFAULT_STATE_FILE = ".gtcheck/emulator.json"
FAULT_TIMEOUT_S = 10.0


@click.group(name="emulator")
def emulator() -> None:
    """Run the bundled DynamoDB global-tables emulator and inject faults into it."""


def _regions(value: str) -> list[str]:
    regions = [r.strip() for r in value.split(",") if r.strip()]
    if not regions:
        raise click.BadParameter("give at least one region, comma-separated")
    return regions


@emulator.command()
@click.option("--mode", type=click.Choice(["async", "strong"]), default="async", show_default=True,
              help="Replication mode the deployment is meant for (tables choose theirs with "
                   "UpdateTable MultiRegionConsistency).")
@click.option("--regions", default="us-east-1,us-east-2,us-west-2", show_default=True,
              help="Comma-separated replica regions, one endpoint each.")
@click.option("--witness", default=None, help="Witness region (strong mode): journal only, no endpoint.")
@click.option("--latency-scale", type=float, default=1.0, show_default=True,
              help="Multiplier on the WAN latency matrix; 0 adds no delay.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address every endpoint binds (localhost unless told otherwise).")
@click.option("--port", type=int, default=0, show_default=True,
              help="First region's port (the others follow, then the admin API); 0 picks free ports.")
@click.option("--admin-port", type=int, default=None, help="Admin API port (default: after the regions).")
@click.option("--state-file", default=DEFAULT_STATE_FILE, show_default=True,
              help="Where to write the endpoints of every region and of the admin API.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random choice.")
@click.option("--copy-lag-ms", type=float, default=None,
              help="Lag of the last in-region follower copy (default 4 ms x latency scale).")
@click.option("--bug", "bugs", default="none", show_default=True, metavar="NAME[,NAME]",
              help="Switch on planted replication mistakes (emulator/README.md, 'Bug "
                   "switches'), to see whether a test catches them: " + bug_help())
def serve(mode: str, regions: str, witness: str | None, latency_scale: float, host: str,
          port: int, admin_port: int | None, state_file: str, seed: int,
          copy_lag_ms: float | None, bugs: str) -> None:
    """Start one DynamoDB endpoint per region plus the admin API, until interrupted."""
    from emulator.deployment import Deployment

    try:
        d = Deployment(_regions(regions), mode=mode, witness=witness, latency_scale=latency_scale,
                       host=host, port=port, admin_port=admin_port, state_file=state_file,
                       seed=seed, copy_lag_ms=copy_lag_ms, bugs=bugs)
        d.start()
    except GtcheckError as e:
        raise click.ClickException(str(e)) from None
    click.echo(json.dumps(d.state()), nl=True)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    try:
        done.wait()
    finally:
        d.stop()  # also removes the state file it wrote


@emulator.command(context_settings={"ignore_unknown_options": True})
@click.option("--state-file", default=DEFAULT_STATE_FILE, show_default=True,
              help="The state file `serve` wrote (endpoints and admin API).")
@click.argument("action")
@click.argument("args", nargs=-1)
def fault(state_file: str, action: str, args: tuple[str, ...]) -> None:
    """Inject or heal a fault: isolate R | cut A B | cut-oneway A B | delay A B MS |
    slow R MS | pause R | resume [R] | heal | pause-replication [R] | resume-replication [R] |
    stop R | start R | skew-clock R MS | status
    """
    from emulator.deployment import FAULT_ACTIONS

    if action not in FAULT_ACTIONS:
        raise click.UsageError(f"unknown action {action!r}; actions: {', '.join(FAULT_ACTIONS)}")
    try:
        state = json.loads(Path(state_file).read_text())
        admin = state["admin"]
    except FileNotFoundError:
        raise click.ClickException(f"no emulator state file at {state_file}; start one with "
                                   "`gtcheck emulator serve`") from None
    except (ValueError, KeyError, TypeError):
        raise click.ClickException(f"{state_file} is not an emulator state file") from None
    body = json.dumps({"action": action, "args": list(args)}).encode()
    req = urllib.request.Request(f"{admin}/fault", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=FAULT_TIMEOUT_S) as resp:
            answer = json.loads(resp.read())
    except urllib.error.HTTPError as e:
        try:
            msg = json.loads(e.read()).get("error", str(e))
        except ValueError:
            msg = str(e)
        raise click.ClickException(f"{action}: {msg}") from None
    except (urllib.error.URLError, OSError) as e:
        raise click.ClickException(f"cannot reach the emulator's admin API at {admin}: {e}") from None
    click.echo(json.dumps(answer))
