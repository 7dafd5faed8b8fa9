"""Set reads as bitmasks of per-key element ids, built once per history.

A long set run's reads repeat every element added before them: at 1.15M operations the
reads held 148M elements (issue 23), and every set check that built each read's
`frozenset` (or kept one per read) paid for all of them, several times over. The checks
only ask membership questions of a read (does it hold every element acknowledged before
it began, every element its region already held, nothing never added), so here each key's
elements get dense ids in order of first appearance, and each ok read becomes one Python
int whose bit i says whether it holds element i: a subset test or a difference is a few
word operations in C, and the whole index is one int per read. The masks are built in one
pass, each read as the delta against the previous read of its key in its region (set
differences in C, Python work only per element that changed), and a read whose value is
the very list object of an earlier one (`results.history` shares equal lists) reuses that
read's mask. The checkers of `checkers.set` test masks and build a read's elements only
when a test fails (an anomaly to explain).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from checkers import observe as ob
from checkers.observe import Pair
from results.history import OK


def elements(v: Any) -> frozenset:
    """A set read's elements (no item reads as the empty set). Built in C when the
    elements are hashable already (strings, numbers), the usual case."""
    if v is None:
        return frozenset()
    if isinstance(v, list | tuple | set | frozenset):
        try:
            return frozenset(v)
        except TypeError:
            return frozenset(ob.freeze(x) for x in v)
    raise ValueError(f"set read value is not a collection: {v!r}")


def bit_positions(mask: int) -> list[int]:
    """The set bits of `mask`, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


class KeyElements:
    """One key's elements and their ids: `ids[e]` is e's bit, `elements[i]` the element
    of bit i. Ids are given in order of first appearance (`bit` gives a new one)."""

    __slots__ = ("ids", "elements")

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}
        self.elements: list[Any] = []

    def bit(self, e: Any) -> int:
        i = self.ids.get(e)
        if i is None:
            i = self.ids[e] = len(self.elements)
            self.elements.append(e)
        return 1 << i

    def mask(self, es: Iterable[Any]) -> int:
        m = 0
        for e in es:
            m |= self.bit(e)
        return m

    def decode(self, mask: int) -> list[Any]:
        """The elements of `mask`, in id order."""
        els = self.elements
        return [els[i] for i in bit_positions(mask)]

    def has(self, mask: int, e: Any) -> bool:
        i = self.ids.get(e)
        return i is not None and bool(mask >> i & 1)


class SetReads:
    """Every ok read's elements as a mask (`mask(p)`), and each key's `KeyElements`."""

    def __init__(self, pairs: Iterable[Pair]):
        self.keys: dict[Any, KeyElements] = {}
        reads = [p for p in pairs if p.type == OK and p.invoke.f == "read"]
        # each read's mask in a list at its invocation's index, when those are distinct
        # small ints (a validated file's are): at 1M operations a dict keyed by id(pair)
        # took about 60 MB with the ids and the pairs kept for them; else by id(pair)
        idx = [p.invoke.index for p in reads]
        self._by_index = (all(type(i) is int for i in idx)
                          and (not idx or 0 <= min(idx) and max(idx) < 4 * len(idx) + 4096)
                          and len(set(idx)) == len(idx))
        del idx
        self._masks: list[int | None] | dict[int, int]
        if self._by_index:
            self._masks = [None] * (max((p.invoke.index for p in reads), default=-1) + 1)
        else:
            self._masks = {}  # id(pair) -> mask
            self._pairs = reads  # kept referenced, so no id is reused
        # (key, id(value list)) -> its mask: the reader shares equal lists, across keys too
        by_list: dict[tuple[Any, int], int] = {}
        # (key, region) -> the previous read's value and mask: its elements are built
        # again when needed, not kept (a frozenset of 575 strings takes 32 KB, and at 1M
        # operations 3,000 of them were 100 MB of the peak)
        last: dict[tuple, tuple[Any, int]] = {}
        masks, by_index = self._masks, self._by_index
        for p in reads:
            key = p.invoke.key
            ke = self.keys.get(key)
            if ke is None:
                ke = self.keys[key] = KeyElements()
            value = ob.read_value(p)
            m = by_list.get((key, id(value))) if type(value) is list else None
            if m is None:
                present = elements(value)
                where = (key, ob.region_of(p))
                prev = last.get(where)
                if prev is None:
                    m = ke.mask(present)
                else:
                    before, m = prev
                    for e in present.symmetric_difference(elements(before)):  # toggled
                        m ^= ke.bit(e)
                last[where] = (value, m)
                if type(value) is list:
                    by_list[(key, id(value))] = m
            masks[p.invoke.index if by_index else id(p)] = m

    def key(self, key: Any) -> KeyElements:
        ke = self.keys.get(key)
        if ke is None:
            ke = self.keys[key] = KeyElements()
        return ke

    def mask(self, p: Pair) -> int:
        m = self._masks[p.invoke.index if self._by_index else id(p)]
        if m is None:
            raise KeyError(f"op {p.invoke.index} is not an ok read of this index")
        return m


def set_reads(pairs: Sequence[Pair]) -> SetReads:
    """The index of `pairs`' reads, built once per history (`observe.memo`)."""
    return ob.memo(pairs, "set_reads", lambda: SetReads(pairs))
