"""Nemeses: the faults a run injects, one fault family per `--nemesis` name.

Families (nemesis/faults.py): isolate, link, pause-replication, outage, latency, clock.
Each is registered with the harness (suite.registry) under its name as a package factory
(nemesis/packages.py); `package(names, regions=..., witness=..., interval_s=..., seed=...)`
composes several for library use. The nemesis (nemesis/core.py) performs fault operations
through the target's fault API; they are recorded as `process = "nemesis"` operations.
"""

from nemesis.core import FaultNemesis
from nemesis.faults import (ALL_FAMILIES, FAMILIES, FaultOptions, Topology,
                            parse_nemesis_names)
from nemesis.packages import DEFAULT_INTERVAL_S, family_package, package, registry_factory
from suite.registry import register_nemesis

NEMESIS_NAMES = tuple(ALL_FAMILIES)

for _name in NEMESIS_NAMES:
    register_nemesis(_name, registry_factory(_name),
                     description=ALL_FAMILIES[_name].description,
                     targets=ALL_FAMILIES[_name].targets)

__all__ = ["DEFAULT_INTERVAL_S", "FAMILIES", "FaultNemesis", "FaultOptions",
           "NEMESIS_NAMES", "Topology", "family_package", "package", "parse_nemesis_names"]
