"""The `report` and `serve` commands (click); the main CLI registers them.

    gtcheck report RUN_DIR                        write RUN_DIR/report.html
    gtcheck report --compare RUN_A RUN_B [--out]  write a side-by-side page, print a table
    gtcheck serve [--store DIR] [--host 127.0.0.1] [--port 8080]

The commands are thin: they call `results.report.write_report`, `results.compare` and
`results.serve`. A BadInput (not a run directory, a port in use, ...) is printed as one
line and exits with status 3, never a traceback.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from checkers.core import merge_valid
from gtcheck.errors import BadInput
from suite.verdicts import exit_code

EXIT_BAD_INPUT = 3


def _clear_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BadInput as e:
            click.echo(f"gtcheck: error: {e}", err=True)
            sys.exit(EXIT_BAD_INPUT)
    return wrapper


@click.command("report")
@click.argument("run_dirs", nargs=-1, required=True, metavar="RUN_DIR | --compare RUN_A RUN_B")
@click.option("--compare", is_flag=True, help="Compare two runs side by side.")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Where to write the page (default: RUN_DIR/report.html; for --compare, "
                   "RUN_B/compare.html).")
@_clear_errors
def report_command(run_dirs: tuple[str, ...], compare: bool, out: str | None) -> int:
    """Write the self-contained HTML report of a run (or compare two runs).

    Exit status is the run's verdict (0 valid, 1 invalid, 2 unknown; with --compare the
    worse of the two), 3 for bad input.
    """
    if compare:
        if len(run_dirs) != 2:
            raise BadInput(f"--compare takes two run directories, got {len(run_dirs)}")
        from results.compare import compare_runs, compare_text, write_compare
        data = compare_runs(*run_dirs)
        path = write_compare(run_dirs[0], run_dirs[1],
                             out or Path(run_dirs[1]) / "compare.html")
        click.echo(compare_text(data))
        click.echo(f"comparison written to {path}")
        return exit_code(merge_valid([_recorded_verdict(d) for d in run_dirs]))
    if len(run_dirs) != 1:
        raise BadInput(f"report takes one run directory (or --compare RUN_A RUN_B), "
                       f"got {len(run_dirs)}")
    from results.report import write_report
    path = write_report(run_dirs[0], out=out)
    valid = _recorded_verdict(run_dirs[0])
    click.echo(f"report written to {path} (verdict: "
               f"{ {True: 'VALID', False: 'INVALID'}.get(valid, 'UNKNOWN')})")
    return exit_code(valid)


def _recorded_verdict(run_dir: str) -> object:
    """The verdict results.json records ("unknown" when there is none)."""
    from results.report import load_run
    valid = load_run(run_dir, with_history=False).valid
    return "unknown" if valid is None else valid


@click.command("serve")
@click.option("--store", default="store", show_default=True,
              type=click.Path(file_okay=False), help="The run store to serve.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind (localhost unless told otherwise).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port to listen on (0 picks a free one).")
@_clear_errors
def serve_command(store: str, host: str, port: int) -> None:
    """Serve the web UI over a run store (list of runs, reports, histories, logs)."""
    from results.serve import make_server
    server = make_server(store, host, port)
    h, p = server.server_address[:2]
    click.echo(f"serving {Path(store).resolve()} at http://{h}:{p}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.server_close()
