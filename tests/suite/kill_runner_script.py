"""Subprocess body of the SIGKILL test: a runner over the fake client that prints the index
and type of every operation right after the HistoryWriter recorded it (and flushed)."""

import sys

from results.history import HistoryWriter
from suite import generator as g
from suite.runner import Runner
from tests.suite.runner_fakes import FakeClient, FakeDB, FakeNemesis, client_generator, \
    final_reads, nemesis_schedule


def main(path: str) -> None:
    def on_record(op):
        print(op.index, op.type, flush=True)

    writer = HistoryWriter(path)
    runner = Runner(None, client=FakeClient(FakeDB(), latency_s=0.002), nemesis=FakeNemesis(),
                    history=writer, regions=["us-east-1", "us-east-2", "us-west-2"],
                    concurrency=4, op_timeout_s=2.0, on_record=on_record)
    runner.run(g.clients_and_nemesis(client_generator(seed=1, rate_per_s=2000),
                                     nemesis_schedule(0.01)),
               g.phases(g.nemesis({"f": "heal"}), g.clients(final_reads())),
               time_limit_s=120)


if __name__ == "__main__":
    main(sys.argv[1])
