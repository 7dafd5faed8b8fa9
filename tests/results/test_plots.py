"""Issue 13, finding 19: matplotlib draws PNG plots into the run directory."""

from __future__ import annotations

from results.plots import write_plots
from tests.results.fixtures import make_run

PNG = b"\x89PNG\r\n\x1a\n"


def test_latency_and_availability_pngs_are_written(tmp_path):
    run = make_run(tmp_path, seed=3, mode="strong", valid=False)
    paths = write_plots(run)
    assert [p.name for p in paths] == ["latency.png", "availability.png"]
    for p in paths:
        data = p.read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000, (p, len(data))
    # a run whose history holds no client operation gets no plots, and no error
    empty = tmp_path / "empty" / "20261130T000000"
    empty.mkdir(parents=True)
    (empty / "history.jsonl").write_text("")
    assert write_plots(empty) == []
