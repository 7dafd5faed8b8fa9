"""The bank: transfers between accounts must never create or destroy money.

Jepsen's bank test (jepsen.tests.bank): every committed read of all accounts must show
the same total (else "wrong-total") and no negative balance (else "negative-value");
the total is the one the test set up, or, when not given, the first read's. `check_reads`
is that checker over plain (op index, {account: balance}) reads, and agrees with elle-cli's
stored Jepsen results.

For a gtcheck run on a global table, regions matter (SEMANTICS.md A11): transfers run in
one region (the writing region), where each is ACID, so every read there must show the
total conserved; another region receives a transfer item by item and may read one
account before the other is updated: a torn transfer, allowed and reported with the
transfer it caught half-applied (`torn_transfer`); after the final heal every region must
read the same balances and the same total (`bank_run_check`).

On a strong (MRSC) table transfers are rejected (M14) and the workload runs its
single-item form: one PutItem per account to set up, one SC GetItem per account to read.
`single_item_txns` turns those into one-item rw-register transactions, so the run gets
the strict-serializability cycle check list-append and rw-register get in strong mode
(an SC read must reflect every write acknowledged before it, M06).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from checkers.elle.txn import INFO, OK, Txn
from results.history import pair


def check_reads(reads: Sequence[tuple[int, Mapping]], total: int | None = None, *,
                negative_ok: bool = False) -> dict:
    """Jepsen's bank checker over (index, balances) reads."""
    errors: dict[str, list] = {}
    for index, balances in reads:
        values = [v for v in balances.values() if v is not None]
        s = sum(values)
        if total is None:
            total = s
        if s != total:
            errors.setdefault("wrong-total", []).append(
                {"type": "wrong-total", "total": s, "expected": total, "op": index})
        neg = [v for v in values if v < 0]
        if neg and not negative_ok:
            errors.setdefault("negative-value", []).append(
                {"type": "negative-value", "negative": neg, "op": index})
    count = sum(len(v) for v in errors.values())
    return {"valid": count == 0, "read-count": len(reads), "error-count": count,
            "total": total, "errors": errors}


def jepsen_reads(records: Sequence[Mapping]) -> list[tuple[int, dict]]:
    """ok :read ops of a Jepsen bank history (EDN or JSON shapes) -> (index, balances)."""
    out = []
    for r in records:
        if r.get("type") == "ok" and r.get("f") == "read" and isinstance(r.get("value"), dict):
            out.append((r.get("index"), {str(k): v for k, v in r["value"].items()}))
    return out


def torn_transfer(read: Mapping[str, int], read_end: int, initial: Mapping[str, int],
                  moves: Sequence[Mapping], starts: Sequence[int]) -> int | None:
    """The position of a transfer the read shows half applied, or None.

    Replication applies each account's updates in order (A04), so a remote read shows,
    per account, the balance after some prefix of the transfers touching it. For each
    account take the latest such prefix whose balance matches the read and whose last
    transfer began before the read ended; a transfer in one account's prefix and not in
    the other's is torn (the earliest is named)."""
    seqs: dict[str, list[tuple[int, int]]] = {a: [] for a in initial}
    bal = dict(initial)
    for j, t in enumerate(moves):
        for acct, delta in ((t["from"], -t["amount"]), (t["to"], t["amount"])):
            bal[acct] = bal.get(acct, 0) + delta
            seqs.setdefault(acct, []).append((j, bal[acct]))
    applied: dict[str, set[int]] = {}
    for acct, seq in seqs.items():
        best = 0
        if read.get(acct) != initial.get(acct):
            best = -1
        for p, (j, after) in enumerate(seq, start=1):
            if after == read.get(acct) and starts[j] <= read_end:
                best = p
        if best < 0:
            return None  # no prefix explains this balance: not a torn transfer we can name
        applied[acct] = {j for j, _ in seq[:best]}
    torn = [j for j, t in enumerate(moves)
            if (j in applied.get(t["from"], ())) != (j in applied.get(t["to"], ()))]
    return min(torn) if torn else None


def bank_run_check(history: Sequence[Any], *, writing_region: str | None) -> dict:
    """The bank promises of an async run (module docstring), from gtcheck ops: `init`
    and `transfer` in the writing region, `read` everywhere (final reads marked)."""
    ok = [op for op in history if op.type == "ok" and op.process != "nemesis"]
    init = next((op for op in ok if op.f == "init"), None)
    if init is None:
        return {"valid": "unknown", "error": "the accounts were never set up"}
    initial = {str(k): v for k, v in init.value.items()}
    total = sum(initial.values())
    done = sorted((p for p in pair(history) if p.type == "ok" and p.invoke.f == "transfer"),
                  key=lambda p: p.complete.time)
    transfers = [p.complete for p in done]
    starts = [p.invoke.time for p in done]
    moves = [{"from": str(op.value["from"]), "to": str(op.value["to"]),
              "amount": op.value["amount"]} for op in transfers]
    anomalies: list[dict] = []
    home = [op for op in ok if op.f == "read" and op.region == writing_region]
    home_check = check_reads([(op.index, op.value) for op in home], total)
    for errs in home_check["errors"].values():
        for e in errs:
            anomalies.append({"kind": e["type"], "expected": False, "region": writing_region,
                              "key": None, "ops": [e["op"]],
                              "explanation": f"op {e['op']}: a read in the writing region "
                                             f"{writing_region} saw "
                                             f"{e.get('total', e.get('negative'))}, not a "
                                             f"conserved total of {total}"})
    torn = 0
    for op in ok:
        if op.f != "read" or op.region == writing_region:
            continue
        values = {k: v for k, v in op.value.items() if v is not None}
        if len(values) == len(initial) and sum(values.values()) != total:
            torn += 1
            j = torn_transfer(values, op.time, initial, moves, starts)
            name = (f"transfer op {transfers[j].index} ({moves[j]['amount']} from "
                    f"{moves[j]['from']} to {moves[j]['to']})") if j is not None \
                else "a transfer in flight"
            anomalies.append({"kind": "torn-transfer", "expected": True, "region": op.region,
                              "key": None, "ops": [op.index] + ([transfers[j].index]
                                                                if j is not None else []),
                              "explanation": f"op {op.index}: {op.region} read a total of "
                                             f"{sum(values.values())}, not {total}: it saw "
                                             f"{name} half replicated (A11, allowed)"})
    finals = {op.region: op.value for op in ok if op.f == "read"
              and (op.extra or {}).get("final")}
    if len({repr(sorted(v.items())) for v in finals.values()}) > 1 or \
            any(sum(v.values()) != total for v in finals.values() if None not in v.values()):
        anomalies.append({"kind": "divergence", "expected": False, "region": None,
                          "key": None, "ops": [],
                          "explanation": f"after the final heal the regions read {finals}"})
    counts: dict[str, int] = {}
    for a in anomalies:
        counts[a["kind"]] = counts.get(a["kind"], 0) + 1
    return {"valid": not any(not a["expected"] for a in anomalies) if finals else "unknown",
            "total": total, "transfers": len(transfers),
            "writing_region": writing_region, "totals_conserved": home_check["valid"],
            "writing_region_reads": len(home), "torn_reads": torn,
            "final_regions": sorted(finals), "anomalies": anomalies,
            "anomaly_counts": counts}


def single_item_txns(history: Sequence[Any]) -> list[Txn]:
    """A strong-mode bank history's accesses as one-item rw-register transactions.

    `init` did one PutItem per account: each becomes `[w account balance]` in the init's
    time window. One init op is several independent writes, so a failed init may have
    done some of them: its pieces are indeterminate (Jepsen's :info), never "did not
    happen". Each ok `read` did one SC GetItem per account: `[r account balance]` in the
    read's window. Transfers are left out: MRSC rejects them (M14), and one accepted is a
    violation `transfers_rejected` reports."""
    out: list[Txn] = []
    for p in pair(history):
        inv, done = p.invoke, p.complete
        if inv.process == "nemesis" or inv.f not in ("init", "read"):
            continue
        typ = p.type
        if inv.f == "read":
            if typ != OK:
                continue  # a read that failed or never answered observed nothing
            items = [("r", str(a), v) for a, v in (done.value or {}).items()]
        else:
            typ = OK if typ == OK else INFO
            items = [("w", str(a), v) for a, v in (inv.value or {}).items()]
        end = done.time if done is not None and typ == OK else None
        index = done.index if done is not None else inv.index
        for mop in items:
            out.append(Txn(len(out), index, inv.process, typ, [mop], inv.time, end,
                           inv.region, inv.index))
    out.sort(key=lambda t: (t.complete_time is None, t.complete_time or 0, t.id))
    for i, t in enumerate(out):
        t.id = i
    return out
