"""Nemeses: the faults a run injects, one fault family per `--nemesis` name.

Families (nemesis/faults.py): isolate, link, pause-replication, outage, latency, clock.
`package(names, regions=..., witness=..., interval_s=..., seed=...)` (nemesis/packages.py)
composes them into one package {nemesis, generator, final_generator}; the nemesis
(nemesis/core.py) performs fault operations through the target's fault API and records them
as `process = "nemesis"` operations.
"""

from nemesis.core import FaultNemesis
from nemesis.faults import FAMILIES, FaultOptions, Topology, parse_nemesis_names
from nemesis.packages import DEFAULT_INTERVAL_S, NemesisPackage, package

NEMESIS_NAMES = tuple(FAMILIES)

__all__ = ["DEFAULT_INTERVAL_S", "FAMILIES", "FaultNemesis", "FaultOptions",
           "NEMESIS_NAMES", "NemesisPackage", "Topology", "package", "parse_nemesis_names"]
