"""The bank workload: transfers between accounts with TransactWriteItems, reads of every
account with TransactGetItems in every region (Jepsen's bank test on a global table).

The accounts are set up once (one TransactWriteItems of every account, `init`), in the
writing region (the first region); an attempt that failed or timed out is made again
before any transfer, in strong mode in the next region in turn (`BankOps.init_region`).
Transfers run only in the writing region: a TransactWriteItems of two Updates, the
source's with the balance condition `b >= :amount` (a failed condition is a definite
`fail`). Every region reads all accounts in one TransactGetItems, a snapshot of
that region. In the writing region every read must show the total conserved (A11: ACID
in-region); elsewhere a read may catch a transfer half replicated (a torn transfer,
allowed, named by the checker); after the final heal all regions read the same
balances. In strong (MRSC) mode transactions are rejected (M14): the workload still
attempts transfers, expecting ValidationException, and sets up and reads accounts item by
item (PutItem set-up; SC BatchGetItem reads), whose reads must all show the initial
balances.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any

from suite.generator import PENDING, Generator, each_thread, gen_op
from workloads.base import Workload, WorkloadOptions, paced, region_of_thread
from workloads.client import KEY, OpView, RegionClient
from workloads.dynamo import Unprocessed, num, parse_num
from workloads.generators import UntilAnswered

NAME = "bank"
ATTR = "b"
INITIAL_BALANCE = 10


def _k(key: str) -> dict:
    return {KEY: {"S": str(key)}}


def bank_init(c: Any, table: str, op: OpView) -> Any:
    items = [{"TableName": table, "Item": {**_k(a), ATTR: num(b)}} for a, b in op.value.items()]
    if op.consistent is False:  # strong mode: no transactions (M14), one PutItem each
        for it in items:
            c.put_item(**it)
    else:
        c.transact_write_items(TransactItems=[{"Put": it} for it in items])
    return op.value


def bank_transfer(c: Any, table: str, op: OpView) -> Any:
    """One TransactWriteItems of the two Updates, in account order (as a client that
    orders its keys would), so the conditioned debit is the first item in some transfers
    and the last in others: a transfer must be all or nothing whichever of its items
    fails its condition (A11; issue 21: with the debit always first, a service that
    applied items one by one and stopped at the first failed condition was never caught,
    since nothing came before the failing item)."""
    v = op.value
    amount = {":a": num(v["amount"])}
    debit = {"Update": {"TableName": table, "Key": _k(v["from"]),
                        "UpdateExpression": "SET #b = #b - :a",
                        "ConditionExpression": "#b >= :a",
                        "ExpressionAttributeNames": {"#b": ATTR},
                        "ExpressionAttributeValues": amount}}
    credit = {"Update": {"TableName": table, "Key": _k(v["to"]),
                         "UpdateExpression": "SET #b = #b + :a",
                         "ExpressionAttributeNames": {"#b": ATTR},
                         "ExpressionAttributeValues": amount}}
    items = [debit, credit] if str(v["from"]) < str(v["to"]) else [credit, debit]
    c.transact_write_items(TransactItems=items)
    return v


def bank_read(c: Any, table: str, op: OpView) -> Any:
    accounts = list(op.value)
    if op.path == ITEM_READ_PATH:
        # strong mode (M14: no TransactGetItems): one SC BatchGetItem of every account
        # (M06: each item fenced) in one request. Eight SC GetItems one after another
        # outlasted the quick battery's 1 s operation timeout at load 30, and healthy
        # regions looked unavailable (issue 21, test-all --quick --mode strong seeds 3, 7)
        resp = c.batch_get_item(RequestItems={table: {
            "Keys": [_k(a) for a in accounts], "ConsistentRead": True}})
        if resp.get("UnprocessedKeys"):
            raise Unprocessed("BatchGetItem left accounts unprocessed")
        by_key = {it[KEY]["S"]: it for it in resp.get("Responses", {}).get(table, [])}
        got = [by_key.get(str(a)) for a in accounts]
    elif op.consistent is False:  # histories before issue 21: one SC GetItem per account
        got = [c.get_item(TableName=table, Key=_k(a), ConsistentRead=True).get("Item")
               for a in accounts]
    else:
        resp = c.transact_get_items(TransactItems=[
            {"Get": {"TableName": table, "Key": _k(a)}} for a in accounts])
        got = [r.get("Item") for r in resp["Responses"]]
    return {a: parse_num((it or {}).get(ATTR)) for a, it in zip(accounts, got)}


OPS = {"init": bank_init, "transfer": bank_transfer, "read": bank_read}
ITEM_READ_PATH = "BatchGetItem"


def read_op(accounts: Any, mode: str) -> dict:
    """A read of every account. Both modes' reads are strongly consistent (a
    TransactGetItems snapshot; in strong mode one SC BatchGetItem), so `consistent`
    is True and the availability checker counts them as the SC reads they are (M06/M10;
    issue 21: marked False, strong reads were left out as EC reads and a quick run's
    availability had nothing to judge); strong mode's reads record their `path`."""
    op = {"f": "read", "value": {a: None for a in accounts}, "consistent": True}
    if mode == "strong":
        op["path"] = ITEM_READ_PATH
    return op


@dataclass(frozen=True)
class BankOps(Generator):
    """Set-up first (writing region), then transfers there and reads everywhere."""

    accounts: tuple
    regions: tuple
    mode: str
    seed: int
    initialized: bool = False
    init_sent: bool = False
    init_attempt: int = 0  # set-up attempts that failed or timed out so far

    def init_region(self) -> str:
        """Where the next set-up attempt goes. Async: the writing region, always (its
        transfers run there, and a timed-out attempt landing late in another region would
        overwrite them item by item). Strong: the next region in turn after each attempt
        that failed or timed out -- a stopped or isolated region serves no writes (M10)
        while the other two do, and a strong set-up is idempotent (the same balances, and
        no transfer can move them, M14), so an earlier attempt landing late changes
        nothing (issue 21: strong bank x outage was "unknown", its writing region stopped
        before the set-up was acknowledged, in seed 7 of the quick battery)."""
        if self.mode != "strong":
            return self.regions[0]
        return self.regions[self.init_attempt % len(self.regions)]

    def _next(self, **changes) -> "BankOps":
        return dataclasses.replace(self, **changes)

    def op(self, test, ctx):
        free = [t for t in ctx.free() if isinstance(t, int)]
        home = [t for t in free if region_of_thread(t, self.regions) == self.regions[0]]
        rng = random.Random(self.seed)
        transactional = self.mode != "strong"
        if not self.init_sent:
            there = [t for t in free
                     if region_of_thread(t, self.regions) == self.init_region()]
            if not there:
                return PENDING
            op = {"f": "init", "value": {a: INITIAL_BALANCE for a in self.accounts},
                  "process": ctx.process_of(there[0]), "consistent": transactional}
            nxt = self._next(initialized=False, init_sent=True)
        elif not self.initialized:
            # The writing region's threads wait for the set-up; the other regions read
            # meanwhile (nothing there yet, or part of it: allowed, and judged so), so a
            # run whose writing region is out for a long time still shows the others
            # serving (availability) and what they hold.
            away = [t for t in free if t not in home]
            if not away:
                return PENDING
            thread = rng.choice(away)
            op = {**read_op(self.accounts, self.mode), "process": ctx.process_of(thread)}
            nxt = self._next(seed=rng.getrandbits(64))
        else:
            if not free:
                return PENDING
            thread = rng.choice(free)
            if thread in home and rng.random() < 0.6:
                a, b = rng.sample(self.accounts, 2)
                op = {"f": "transfer", "value": {"from": a, "to": b,
                                                 "amount": rng.randint(1, 5)}}
            else:
                op = read_op(self.accounts, self.mode)
            op["process"] = ctx.process_of(thread)
            nxt = self._next(seed=rng.getrandbits(64))
        res = gen_op(op, test, ctx)
        if res is None or res is PENDING:
            return res
        return res[0], nxt

    def update(self, test, ctx, event):
        get = event.get if isinstance(event, dict) else (lambda k: getattr(event, k, None))
        if get("f") == "init" and get("type") == "ok" and not self.initialized:
            return self._next(initialized=True, init_sent=True)
        if get("f") == "init" and get("type") in ("fail", "info") and not self.initialized:
            return self._next(init_sent=False, init_attempt=self.init_attempt + 1)
        return self


def workload(opts: WorkloadOptions) -> Workload:
    from checkers.elle.run import bank_checkers
    accounts = opts.key_names()
    final = each_thread([UntilAnswered({**read_op(accounts, opts.mode), "final": True})])
    return Workload(
        name=NAME,
        client=RegionClient(opts.table, OPS, connect_timeout_s=opts.connect_timeout_s,
                            read_timeout_s=opts.read_timeout_s,
                            pool_size=max(4, opts.concurrency)),
        generator=paced(opts, BankOps(accounts, tuple(opts.regions), opts.mode, opts.seed)),
        final_generator=final,
        checkers=bank_checkers(opts.mode, tuple(opts.regions)),
        table=opts.table, keys=accounts, min_concurrency=len(opts.regions))
