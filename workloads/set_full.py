"""The set-full workload: every element its own item, written once, read everywhere, often.

In the manner of Jepsen's set-full: each add writes one new element as its own item
(PutItem of `pk = "e<N>"`) in the region of the client that makes it, and every read is a
scan of the whole table (`Scan`, paginated, projecting only the key) in its client's
region, SC (`ConsistentRead=True`) or EC. So every read shows, for every element, whether
it is visible in that region at that moment, and `checkers.set_full` can say per element
and per region whether it was lost, stale (for how long) or never read, and measure the
replication lag between every ordered pair of regions on the way.

Why a scan: the table's key schema is a hash key only (suite/targets/base.py), so no
Query returns many elements; a scan is one request per page of PAGE_ITEMS elements (one
read fence a page on MRSC, where an SC BatchGetItem would fence per item; issue 21: pages
so that paging is exercised), works the same on real AWS, and reads
every element, old and new, which the "never goes back in time" check needs. Its cost
grows with the number of elements (a 30 s run at 50 ops/s adds about 300), which is why
adds are a fifth of the mix (MIX); reads are the rest so that each region is read often
and the lag figures are sharp.

All operations carry `key` "set-full" (one logical set); an add's `value` is its element
(unique in the run), a read's completion value the sorted list of elements it saw.

Deletes (issue 21): a few adds are replaced by a delete (`f` "delete", `value` the
element) of an element whose add was acknowledged, made in the region that added it
(`DeleteAcked`), through DeleteItem, a BatchWriteItem DeleteRequest or (async tables
only, M14) a TransactWriteItems Delete (`path`). In the add's own region the delete is
stamped above the add's version (emulator/store.py RegionClock.stamp), so by
last-writer-wins it wins everywhere whatever the clocks' skew: once it is acknowledged the
element must stay absent in that region and, after the heal, everywhere; an element that
shows again is resurrected (A06, A12; checkers/set_full.py).

TTL (issue 21, A12): against the emulator in async mode some adds carry an expiry already
past (`ttl`: true; attribute `exp`, with the table's TTL switched on), so the TTL sweeper
of the adding region deletes them after its bounded delay (emulator/ttl.py) and the
delete replicates; the checker treats such an element as one that may be deleted any time
after its add began, and convergence demands that every region agree once the final reads
come.

TTL extensions (issue 21, A12): some expiring elements acknowledged in a region get their
expiry moved an hour into the future soon after, in the same region (`f` "extend",
`value` the element: UpdateItem of `exp` on condition that the item still exists, so an
extension that comes after the TTL delete fails and writes nothing). TTL deletes only an
item whose expiry has passed when it is deleted: an element whose extension was
acknowledged was never deleted by TTL, and must then be read like any element added and
never deleted (checkers/set_full.py). The sweeper finds an expired item and deletes it a
little later; an extension that lands in between is the case a sweeper that deletes what
it found without looking again gets wrong.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from suite.generator import _Wrapper, gen_update

from workloads.base import Workload, WorkloadOptions, paced
from workloads.client import KEY, OpView, RegionClient
from workloads.generators import FINAL, UniqueOps, UntilAnswered, _field, pick, read
from workloads.register import paths_for

NAME = "set-full"
SET_KEY = "set-full"
ELEMENT_PREFIX = "e"

# Adds a fifth, reads the rest: each region is read about four times per add. The lag
# figures come from SC reads under async and from EC reads under MRSC (an MRSC SC read
# fences, checkers/set_full.py), so MRSC reads are split evenly between the two kinds.
MIX = {"async": (("add", 0.2), ("read-sc", 0.6), ("read-ec", 0.2)),
       "strong": (("add", 0.2), ("read-sc", 0.4), ("read-ec", 0.4))}


def element_item_key(element: int) -> dict:
    return {KEY: {"S": f"{ELEMENT_PREFIX}{int(element)}"}}


def add_element(c: Any, table: str, op: OpView) -> Any:
    """PutItem of the element's own item: written once, never updated. An expiring
    element (`ttl`) carries an expiry an hour in the past, so the TTL sweeper deletes it
    soon (the table's TTL is switched on first, once per table)."""
    item = element_item_key(op.value)
    if op.ttl:
        enable_ttl(c, table)
        item[TTL_ATTR] = {"N": str(int(time.time()) - 3600)}
    c.put_item(TableName=table, Item=item)
    return op.value


TTL_ATTR = "exp"
_ttl_enabled: set[str] = set()
_ttl_lock = threading.Lock()


def enable_ttl(c: Any, table: str) -> None:
    """UpdateTimeToLive on `exp`, once per table in this process (the emulator keeps the
    setting per global table)."""
    with _ttl_lock:
        if table in _ttl_enabled:
            return
        c.update_time_to_live(TableName=table, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": TTL_ATTR})
        _ttl_enabled.add(table)


# A scan asks for pages of this many items (`Limit`) and follows LastEvaluatedKey: a
# page of the default size (1 MB) holds a whole run's elements, and a paging mistake (a
# LastEvaluatedKey that skips an item) was never exercised (issue 21). Each element is
# still observed within the read's interval, which is all the checker assumes.
PAGE_ITEMS = 16


def read_elements(c: Any, table: str, op: OpView) -> Any:
    """Scan every element item visible in this region (all pages), SC or EC."""
    found: list[int] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": bool(op.consistent),
                              "Limit": PAGE_ITEMS, "ProjectionExpression": "#k",
                              "ExpressionAttributeNames": {"#k": KEY}}
    while True:
        resp = c.scan(**kwargs)
        for item in resp.get("Items", []):
            name = item.get(KEY, {}).get("S", "")
            if name.startswith(ELEMENT_PREFIX) and name[len(ELEMENT_PREFIX):].isdigit():
                found.append(int(name[len(ELEMENT_PREFIX):]))
        last = resp.get("LastEvaluatedKey")
        if not last:
            return sorted(found)
        kwargs["ExclusiveStartKey"] = last


def delete_element(c: Any, table: str, op: OpView) -> Any:
    """Delete the element's item through `op.path` (DeleteItem when absent)."""
    from workloads.client import register_delete
    register_delete(c, table, OpView({"key": f"{ELEMENT_PREFIX}{int(op.value)}",
                                      "path": op.path}))
    return op.value


def extend_element(c: Any, table: str, op: OpView) -> Any:
    """Move an expiring element's expiry an hour into the future, if its item is still
    there (ConditionalCheckFailed, a definite `fail`, when TTL deleted it first)."""
    c.update_item(TableName=table, Key=element_item_key(op.value),
                  UpdateExpression="SET #x = :later", ConditionExpression="attribute_exists(#k)",
                  ExpressionAttributeNames={"#x": TTL_ATTR, "#k": KEY},
                  ExpressionAttributeValues={":later": {"N": str(int(time.time()) + 3600)}})
    return op.value


OPS = {"add": add_element, "read": read_elements, "delete": delete_element,
       "extend": extend_element}

DELETE_FRACTION = 0.25  # of the adds, once some element of the thread's region is acked
EXTEND_FRACTION = 0.5   # of the adds, while an expiring element of the region awaits one


@dataclass(frozen=True)
class DeleteAcked(_Wrapper):
    """Replaces some adds by deletes of elements acknowledged in the same region (the
    module paragraph says why the same region); each element is deleted at most once.
    Expiring elements acknowledged in a region are extended there, each at most once, by
    one of the region's next adds (EXTEND_FRACTION of them), so the extension comes soon
    after the add, while the TTL sweeper may have found the element expired."""

    gen: Any
    regions: tuple
    delete_paths: tuple
    seed: int
    acked: Mapping[str, tuple] = field(default_factory=dict)   # region -> elements
    region_of: Mapping[int, str] = field(default_factory=dict)  # add in flight -> region
    expiring: Mapping[str, tuple] = field(default_factory=dict)  # region -> to extend
    ttl_in_flight: frozenset = frozenset()                       # expiring adds in flight

    def step(self, ctx, op, nxt):
        me = dataclasses.replace(self, gen=nxt)
        t = ctx.thread_of(op.get("process"))
        if op.get("f") != "add" or not isinstance(t, int):
            return op, me
        region = self.regions[t % len(self.regions)]
        rng = random.Random(self.seed)
        me = dataclasses.replace(me, seed=rng.getrandbits(64))
        waiting = self.expiring.get(region, ())
        if waiting and rng.random() < EXTEND_FRACTION:
            e = waiting[-1]
            return ({**{k: v for k, v in op.items() if k != "ttl"}, "f": "extend",
                     "value": e},
                    dataclasses.replace(me, expiring={**self.expiring,
                                                      region: waiting[:-1]}))
        mine = self.acked.get(region, ())
        if mine and rng.random() < DELETE_FRACTION:
            e = mine[rng.randrange(len(mine))]
            acked = {**self.acked, region: tuple(x for x in mine if x != e)}
            return ({**op, "f": "delete", "value": e, "path": rng.choice(self.delete_paths)},
                    dataclasses.replace(me, acked=acked))
        ttl = self.ttl_in_flight | {op["value"]} if op.get("ttl") else self.ttl_in_flight
        return op, dataclasses.replace(me, region_of={**self.region_of,
                                                      op["value"]: region},
                                       ttl_in_flight=ttl)

    def update(self, test, ctx, event):
        me = dataclasses.replace(self, gen=gen_update(self.gen, test, ctx, event))
        if _field(event, "f") != "add" or _field(event, "type") == "invoke":
            return me
        e = _field(event, "value")
        region = self.region_of.get(e)
        if region is None:
            return me
        rest = {k: v for k, v in self.region_of.items() if k != e}
        acked, expiring = self.acked, self.expiring
        if _field(event, "type") == "ok":
            acked = {**acked, region: acked.get(region, ()) + (e,)}
            if e in self.ttl_in_flight:
                expiring = {**expiring, region: expiring.get(region, ()) + (e,)}
        return dataclasses.replace(me, acked=acked, region_of=rest, expiring=expiring,
                                   ttl_in_flight=self.ttl_in_flight - {e})


TTL_FRACTION = 0.15  # of the adds: expiring elements (async on the emulator only)


def expiring_adds(opts: WorkloadOptions) -> bool:
    """Whether the run makes expiring elements: MRSC has no TTL (M14), and only the
    emulator bounds how late a TTL delete comes (emulator/ttl.py), which the final and
    quiet reads' agreement relies on (AWS: "typically within two days")."""
    return opts.mode == "async" and opts.target == "emulator"


def chooser(mode: str, ttl: bool = False):
    mix = MIX.get(mode, MIX["async"])

    def choose(rng: random.Random, next_value: int, last: Mapping[str, int]):
        kind = pick(rng, mix)
        if kind == "add":
            op = {"f": "add", "key": SET_KEY, "value": next_value}
            if ttl and rng.random() < TTL_FRACTION:
                op["ttl"] = True
            return op, True
        return read(SET_KEY, kind), False
    return choose


def final_reads() -> Any:
    """Every client thread scans once with an SC read after the final heal, retried
    until answered (workloads.generators.UntilAnswered)."""
    from suite.generator import each_thread
    return each_thread([UntilAnswered({"f": "read", "key": SET_KEY, "consistent": True,
                                       FINAL: True})])


def workload(opts: WorkloadOptions) -> Workload:
    return Workload(
        name=NAME,
        client=RegionClient(opts.table, OPS, connect_timeout_s=opts.connect_timeout_s,
                            read_timeout_s=opts.read_timeout_s,
                            pool_size=max(4, opts.concurrency)),
        generator=paced(opts, DeleteAcked(UniqueOps(chooser(opts.mode, expiring_adds(opts)),
                                                    opts.seed),
                                          tuple(opts.regions), paths_for(opts.mode)[1],
                                          opts.seed + 2)),
        final_generator=final_reads(),
        checkers=checker_set(opts.mode),
        table=opts.table, keys=(SET_KEY,), min_concurrency=len(opts.regions),
        summarize=lambda history: summarize(history, opts.mode))


def checker_set(mode: str) -> dict[str, Any]:
    """The set-full checkers of `mode` (checkers.set_full.checkers_for)."""
    from checkers.set_full import checkers_for
    return checkers_for(mode)


def summarize(history, mode: str) -> str:
    """The replication lag per ordered pair, printed after the run."""
    from checkers.set_full import lag_check, lag_summary
    res = lag_check({"mode": mode}, history, {})
    lines = lag_summary(res)
    if not lines:
        return ""
    return (f"replication lag (acknowledged in A -> first {res['reads']} read in B):\n"
            + "\n".join(lines))
