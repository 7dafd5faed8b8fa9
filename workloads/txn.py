"""Transactional workloads: list-append and rw-register over DynamoDB transactions.

Elle's two workloads (Kingsbury & Alvaro, VLDB 2020) as DynamoDB can run them. A
transaction is 1-4 micro-ops on distinct keys (one item each), either all writes or all
reads, because DynamoDB keeps the two apart: several appends go through
TransactWriteItems (`SET l = list_append(if_not_exists(l, :empty), :v)` per item),
several reads through TransactGetItems; a single-op transaction is a plain UpdateItem /
PutItem or GetItem (SC or EC, recorded in `consistent`; SC only in strong mode, whose
promise covers SC reads). Every appended / written value is
unique per key (one counter for the run), so a read names its writers.

Regions: client threads of every region run at once. In async (MREC) mode each key has a
writing region (key i belongs to region i mod the number of regions) and a thread only
writes its own region's keys, reading any: that makes "serializable in the writing
region" the promise to check (SEMANTICS.md A11: a transaction is ACID in its region), while
a remote region may observe a transaction half replicated (allowed, reported). In strong
(MRSC) mode DynamoDB rejects transactions (M14): the workload still attempts some
multi-item transactions, expecting the ValidationException, and otherwise runs the
single-item form, which must be strictly serializable.

Final phase: after the heal every region reads every key (TransactGetItems in async mode,
GetItem per key in strong mode), marked final, for the convergence check.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Sequence

from suite.generator import PENDING, Generator, each_thread, gen_op
from workloads.base import Workload, WorkloadOptions, paced, region_of_thread
from workloads.client import KEY, OpView, RegionClient
from workloads.dynamo import num, parse_num
from workloads.generators import UntilAnswered

LIST_ATTR = "l"
REGISTER_ATTR = "val"
NAMES = ("list-append", "rw-register")
MULTI_ATTEMPT_STRONG = 0.15   # share of strong-mode transactions tried as multi-item (M14)


def _k(key: str) -> dict:
    return {KEY: {"S": str(key)}}


def _parse_list(attr: Any) -> list:
    if attr is None:
        return []
    if "L" not in attr:
        raise ValueError(f"expected a list attribute, got {attr!r}")
    return [parse_num(x) for x in attr["L"]]


def _append_update(table: str, key: str, value: int) -> dict:
    return {"TableName": table, "Key": _k(key),
            "UpdateExpression": "SET #l = list_append(if_not_exists(#l, :empty), :v)",
            "ExpressionAttributeNames": {"#l": LIST_ATTR},
            "ExpressionAttributeValues": {":empty": {"L": []}, ":v": {"L": [num(value)]}}}


def _txn(c: Any, table: str, op: OpView, parse, single_write, multi_write) -> Any:
    """One transaction: all reads (GetItem, or TransactGetItems for several) or all
    writes (`single_write(k, v)`, or one TransactWriteItems of `multi_write(k, v)`)."""
    mops = [list(m) for m in op.value]
    if mops[0][0] == "r":
        keys = [m[1] for m in mops]
        if len(keys) == 1:
            resp = c.get_item(TableName=table, Key=_k(keys[0]),
                              ConsistentRead=bool(op.consistent))
            items = [resp.get("Item")]
        else:
            resp = c.transact_get_items(TransactItems=[
                {"Get": {"TableName": table, "Key": _k(k)}} for k in keys])
            items = [r.get("Item") for r in resp["Responses"]]
        return [["r", k, parse(it or {})] for k, it in zip(keys, items)]
    if len(mops) == 1:
        single_write(mops[0][1], mops[0][2])
    else:
        c.transact_write_items(TransactItems=[multi_write(k, v) for _, k, v in mops])
    return mops


def list_append_txn(c: Any, table: str, op: OpView) -> Any:
    return _txn(c, table, op, lambda it: _parse_list(it.get(LIST_ATTR)),
                lambda k, v: c.update_item(**_append_update(table, k, v)),
                lambda k, v: {"Update": _append_update(table, k, v)})


def rw_register_txn(c: Any, table: str, op: OpView) -> Any:
    def item(k, v):
        return {"TableName": table, "Item": {**_k(k), REGISTER_ATTR: num(v)}}
    return _txn(c, table, op, lambda it: parse_num(it.get(REGISTER_ATTR)),
                lambda k, v: c.put_item(**item(k, v)), lambda k, v: {"Put": item(k, v)})


OPS = {"list-append": {"txn": list_append_txn}, "rw-register": {"txn": rw_register_txn}}


def owner(key_index: int, regions: Sequence[str]) -> str:
    """The writing region of key `key_index` (async mode)."""
    return regions[key_index % len(regions)]


@dataclass(frozen=True)
class TxnOps(Generator):
    """Seeded transactions; the free thread is chosen first, so a write transaction
    touches only its region's keys (async) -- `next_value` keeps written values unique."""

    name: str
    keys: tuple
    regions: tuple
    mode: str
    seed: int
    next_value: int = 1

    def op(self, test, ctx):
        free = [t for t in ctx.free() if isinstance(t, int)]
        if not free:
            return PENDING
        thread = free[0]
        rng = random.Random(self.seed)
        region = region_of_thread(thread, self.regions)
        write = rng.random() < 0.5
        n = rng.randint(1, 4)
        multi_ok = self.mode == "async" or rng.random() < MULTI_ATTEMPT_STRONG
        if not multi_ok:
            n = 1
        if write and self.mode == "async":
            pool = [k for i, k in enumerate(self.keys) if owner(i, self.regions) == region]
        else:
            pool = list(self.keys)
        ks = rng.sample(pool, min(n, len(pool)))
        nv = self.next_value
        if write:
            f = "append" if self.name == "list-append" else "w"
            mops = [[f, k, nv + i] for i, k in enumerate(ks)]
            nv += len(ks)
        else:
            mops = [["r", k, None] for k in ks]
        # MRSC promises linearizability to SC reads only: strong mode reads SC
        consistent = len(ks) > 1 or write or self.mode == "strong" or rng.random() < 0.7
        op = {"f": "txn", "value": mops, "process": ctx.process_of(thread),
              "consistent": consistent}
        res = gen_op(op, test, ctx)
        if res is None or res is PENDING:
            return res
        return res[0], TxnOps(self.name, self.keys, self.regions, self.mode,
                              rng.getrandbits(64), nv)


def final_reads(keys: Sequence[str], mode: str) -> Any:
    """Every thread reads every key after the heal (final): one TransactGetItems of up to
    100 keys at a time in async mode, one GetItem per key in strong mode (M14); each read
    retried until answered (workloads.generators.UntilAnswered, issue 21)."""
    if mode == "strong":
        ops = [{"f": "txn", "value": [["r", k, None]], "consistent": True, "final": True}
               for k in keys]
    else:
        ops = [{"f": "txn", "value": [["r", k, None] for k in keys[i:i + 100]],
                "consistent": True, "final": True} for i in range(0, len(keys), 100)]
    return each_thread([UntilAnswered(op) for op in ops])


def workload(name: str, opts: WorkloadOptions) -> Workload:
    from checkers.elle.run import txn_checkers
    from checkers.observe import freeze
    from suite.final_rounds import txn_view
    keys = opts.key_names()
    if opts.mode == "async" and len(keys) < len(opts.regions):
        keys = tuple(f"k{i}" for i in range(len(opts.regions)))
    return Workload(
        name=name,
        client=RegionClient(opts.table, OPS[name], connect_timeout_s=opts.connect_timeout_s,
                            read_timeout_s=opts.read_timeout_s,
                            pool_size=max(4, opts.concurrency)),
        generator=paced(opts, TxnOps(name, keys, tuple(opts.regions), opts.mode, opts.seed)),
        final_generator=final_reads(keys, opts.mode),
        final_view=txn_view(freeze),
        checkers=txn_checkers(opts.mode, name),
        table=opts.table, keys=keys, min_concurrency=len(opts.regions))
