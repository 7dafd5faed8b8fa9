"""Composition of nemesis packages: `--nemesis isolate,link` runs both fault families.

A composed nemesis routes each operation to the nemesis whose `fs()` names its `f`;
"heal" (which ends every fault) goes to every nemesis that handles it, and succeeds only
if all of them did. The schedules run side by side (the soonest operation first) and the
final generators one after another, so every family heals its own faults; identical
final generators (every fault family's is the one `heal`) run once.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from suite import generator as gen
from suite.errors import BadInput
from suite.protocols import Nemesis, NemesisPackage

HEAL = "heal"


class ComposedNemesis:
    def __init__(self, nemeses: Sequence[Nemesis]):
        self.nemeses = list(nemeses)
        owners: dict[str, Nemesis] = {}
        for n in self.nemeses:
            for f in n.fs():
                if f != HEAL and f in owners:
                    raise BadInput(f"two nemeses both handle {f!r}; they cannot be composed")
                owners[f] = n
        self._owners = owners

    def setup(self, test: Any) -> "ComposedNemesis":
        return ComposedNemesis([n.setup(test) for n in self.nemeses])

    def invoke(self, test: Any, op: Mapping[str, Any]) -> Mapping[str, Any]:
        f = op["f"]
        if f == HEAL:
            results = [n.invoke(test, op) for n in self.nemeses if HEAL in n.fs()]
            failed = [r for r in results if r.get("type") != "ok"]
            if failed:
                return {**failed[0]}
            return {"type": "ok", "value": op.get("value")}
        owner = self._owners.get(f)
        if owner is None:
            return {"type": "fail", "error": f"no nemesis handles {f!r}"}
        return owner.invoke(test, op)

    def teardown(self, test: Any) -> None:
        errors = []
        for n in self.nemeses:
            try:
                n.teardown(test)
            except Exception as e:  # noqa: BLE001 -- collected and re-raised below
                errors.append(f"{type(e).__name__}: {e}")
        if errors:
            raise RuntimeError("nemesis teardown failed: " + "; ".join(errors))

    def fs(self) -> set[str]:
        return set(self._owners)


def compose_packages(packages: Sequence[NemesisPackage]) -> NemesisPackage:
    """One package from several; the empty sequence gives the no-fault package."""
    real = [p for p in packages if p.nemesis is not None]
    if not real:
        return NemesisPackage(None, name="none")
    if len(real) == 1:
        return real[0]
    schedules = [p.generator for p in real if p.generator is not None]
    finals: list = []
    for p in real:  # one `heal` ends every fault: the same final heal runs once, not k times
        if p.final_generator is not None and p.final_generator not in finals:
            finals.append(p.final_generator)
    return NemesisPackage(
        nemesis=ComposedNemesis([p.nemesis for p in real]),
        generator=gen.any_of(*schedules) if schedules else None,
        final_generator=list(finals) if finals else None,
        name="+".join(p.name for p in real))
