"""`gtcheck emulator ...`: serve the emulator and drive its fault API from the shell.

`serve` starts a `Deployment` (emulator/deployment.py), prints one JSON line with every
region's endpoint and the admin URL, writes the same to the state file (default
`.gtcheck/emulator.json`) and runs until interrupted. `fault ACTION ...` reads the state
file, sends the action to the admin API and prints one JSON line: the action done and the faults now in force (`status` prints
everything); a bad
argument or an unreachable emulator exits non-zero with a clear message. The commands are
thin: all logic lives in the library.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any, Mapping, Sequence

import click

from emulator.bugs import help_text as bug_help
from gtcheck.errors import GtcheckError

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
@click.option("--endpoint-port", type=int, default=None,
              help="Port of the one endpoint that serves every region, picking the region from "
                   "each request's SigV4 credential scope (default: after the admin API; set "
                   "AWS_ENDPOINT_URL to it).")
@click.option("--control-delay-ms", type=float, default=0.0, show_default=True,
              help="How long a replica, witness or table stays CREATING / DELETING (the table "
                   "UPDATING meanwhile), as on AWS; 0 completes changes at once.")
@click.option("--control-plane-scale", type=float, default=1.0, show_default=True,
              help="The AWS-like control plane (emulator/README.md): DescribeTable eventually "
                   "consistent, replicas unlisted then CREATING, ResourceInUseException, FIS "
                   "states, each delay seeded and times this factor (0.02: fifty times faster, "
                   "same order of events); 0 makes every change instant.")
@click.option("--control-plane-limit", type=int, default=None,
              help="Simultaneous table operations before LimitExceededException (default "
                   "AWS's 500; needs --control-plane-scale > 0).")
@click.option("--iam-deny", default="", metavar="ACTION[,ACTION]",
              help="IAM actions the IAM stand-in's SimulatePrincipalPolicy denies (to see "
                   "`gtcheck aws preflight` catch a missing permission).")
@click.option("--state-file", default=DEFAULT_STATE_FILE, show_default=True,
              help="Where to write the endpoints of every region and of the admin API.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random choice.")
@click.option("--copy-lag-ms", type=float, default=None,
              help="Lag of the last in-region follower copy (default 4 ms x latency scale).")
@click.option("--region", "own_region", default=None,
              help="Serve only this region, one process per region (async mode): the other "
                   "regions' processes are its --peer's (emulator/region_process.py).")
@click.option("--peer", "peers", multiple=True, metavar="REGION=HOST:PORT",
              help="With --region: another region's process and its peer port (repeat).")
@click.option("--peer-port", type=int, default=0, show_default=True,
              help="With --region: the port the peers reach this process on (0: a free one).")
@click.option("--bug", "bugs", default="none", show_default=True, metavar="NAME[,NAME]",
              help="Switch on planted replication mistakes (emulator/README.md, 'Bug "
                   "switches'), to see whether a test catches them: " + bug_help())
@click.option("--stream-empty-pages", type=click.FloatRange(0.0, 1.0), default=None,
              metavar="RATE",
              help="Chance that GetRecords serves a run of empty pages (NextShardIterator "
                   "at the same position) before records that follow, as AWS documents "
                   "it may (emulator/README.md; default 0.05, 0 for none).")
def serve(mode: str, regions: str, witness: str | None, latency_scale: float, host: str,
          port: int, admin_port: int | None, endpoint_port: int | None,
          control_delay_ms: float, control_plane_scale: float,
          control_plane_limit: int | None, iam_deny: str, state_file: str, seed: int,
          copy_lag_ms: float | None, own_region: str | None, peers: tuple[str, ...],
          peer_port: int, bugs: str, stream_empty_pages: float | None) -> None:
    """Start one DynamoDB endpoint per region, one endpoint for all regions (the region
    from the SigV4 credential scope, as moto and LocalStack do) and the admin API, until
    interrupted. The state file records them all ("regions", "endpoint", "admin").
    With --region, serve only that region, its peers in other processes."""
    from emulator.deployment import Deployment
    from emulator.mrsc_setup import check_participants

    if mode == "strong":  # M01: three participants in one region set, before starting
        try:
            check_participants(_regions(regions), witness)
        except Exception as e:  # noqa: BLE001 -- the emulator's ValidationException
            raise click.BadParameter(getattr(e, "message", None) or str(e),
                                     param_hint="--regions") from None
    try:
        if own_region is not None:
            from emulator.region_process import RegionDeployment, parse_peer
            d = RegionDeployment(own_region, dict(parse_peer(p) for p in peers),
                                 peer_port=peer_port, regions=_regions(regions), mode=mode,
                                 witness=witness, latency_scale=latency_scale, host=host,
                                 port=port, admin_port=admin_port, state_file=state_file,
                                 seed=seed, copy_lag_ms=copy_lag_ms, bugs=bugs)
        else:
            d = Deployment(_regions(regions), mode=mode, witness=witness,
                           latency_scale=latency_scale, host=host, port=port,
                           admin_port=admin_port, endpoint_port=endpoint_port,
                           control_delay_ms=control_delay_ms, state_file=state_file,
                           seed=seed, copy_lag_ms=copy_lag_ms, bugs=bugs,
                           stream_empty_pages=stream_empty_pages,
                           control_plane_scale=control_plane_scale,
                           control_plane_limit=control_plane_limit,
                           iam_denied=[a.strip() for a in iam_deny.split(",") if a.strip()])
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
    """Inject or heal a fault: isolate R | cut A B | cut-oneway A B | delay A B MS | delay-oneway A B MS |
    slow R MS | lag-copy [R] MS | unlag-copy [R] | pause R | resume [R] | heal | pause-replication [R] | resume-replication [R] |
    stop R | start R | skew-clock R MS | status
    """
    from emulator.admin import TOKEN_HEADER
    from emulator.deployment import FAULT_ACTIONS

    if action not in FAULT_ACTIONS:
        raise click.UsageError(f"unknown action {action!r}; actions: {', '.join(FAULT_ACTIONS)}")
    try:
        state = json.loads(Path(state_file).read_text())
        admin = state["admin"]
        token = state.get("admin_token") or ""
    except FileNotFoundError:
        raise click.ClickException(f"no emulator state file at {state_file}; start one with "
                                   "`gtcheck emulator serve`") from None
    except (ValueError, KeyError, TypeError):
        raise click.ClickException(f"{state_file} is not an emulator state file") from None
    import urllib.error  # here: `gtcheck emulator --help` need not import http and ssl
    import urllib.request
    body = json.dumps({"action": action, "args": list(args)}).encode()
    req = urllib.request.Request(f"{admin}/fault", data=body, method="POST",
                                 headers={"Content-Type": "application/json",
                                          TOKEN_HEADER: token})
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
    click.echo(json.dumps(answer if action == "status" else fault_answer(action, args, answer)))


def fault_answer(action: str, args: Sequence[str], answer: Mapping[str, Any]) -> dict:
    """What a fault action answers: the action done and the faults now in force (cut and
    delayed links, isolated and stopped regions, paused replication, clock skew); `status`
    gives everything else (endpoints, latencies, tables)."""
    status = answer.get("status") if isinstance(answer.get("status"), Mapping) else answer
    wan = status.get("wan") if isinstance(status.get("wan"), Mapping) else {}
    in_force = {k: wan[k] for k in ("isolated", "stopped", "cut", "extra_delay_ms")
                if wan.get(k)}
    in_force.update({k: status[k] for k in ("replication_paused", "clock_skew_ms",
                                            "copy_lag_ms") if status.get(k)})
    return {"ok": bool(answer.get("ok", True)), "action": action, "args": list(args),
            "faults_in_force": in_force}
