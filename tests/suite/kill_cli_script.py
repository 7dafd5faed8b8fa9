"""Subprocess body of the SIGTERM/SIGINT tests: `gtcheck` with the fake target, workload
and nemesis registered, so the whole run pipeline runs and can be interrupted."""

from suite.cli import main
from tests.suite.runner_fakes import register_fakes

if __name__ == "__main__":
    register_fakes()
    main()
