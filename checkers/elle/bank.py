"""The bank: transfers between accounts must never create or destroy money.

Jepsen's bank test (jepsen.tests.bank): every committed read of all accounts is checked
by `check-op`, a `cond` giving at most one error per read: `:nil-balance` (an account
read as nil), else `:wrong-total` (not the total), else `:negative-value`; the total is
the one the test set up, or, when not given, the first complete read's. `check_reads` is
that checker over plain (op index, {account: balance}) reads, and agrees with elle-cli's
stored Jepsen results.

For a gtcheck run on a global table, regions matter (SEMANTICS.md A11): transfers run in
one region (the writing region), where each is ACID, so every read there begun after the
set-up was acknowledged gets `check-op` (A01, A11); another region receives the set-up
and each transfer item by item and may read an account not there yet (allowed,
"set-up-not-replicated") or one account before the other is updated: a torn transfer,
allowed and reported with the transfer it caught half-applied (`torn_transfer`); but an
account it had shown may not vanish again (A05), and after the final heal every region
must read every account, the same balances and the same total (`bank_run_check`).

On a strong (MRSC) table transfers are rejected (M14) and the workload runs its
single-item form: one PutItem per account to set up, one SC GetItem per account to read
(the history says so: the init's `consistent` is False). No money can move, so every
read begun after the set-up was acknowledged must show every account (:nil-balance) with
its initial balance and the set-up total (:wrong-total; "failed-transfer-visible" names
a rejected transfer whose effect a read shows: Jepsen's :fail did not happen), M06.
`single_item_txns` turns those accesses into one-item rw-register transactions, so the
run also gets the strict-serializability cycle check list-append and rw-register get in
strong mode.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from checkers.elle.txn import INFO, OK, Txn
from results.history import pair


def read_error(balances: Mapping, total: int, *, negative_ok: bool = False) -> dict | None:
    """Jepsen's `check-op` on one read: the first of :nil-balance (an account read as nil:
    the read is missing it), :wrong-total, :negative-value that applies, or None (a
    `cond`: one error per read, in that order). Without a `total` the caller passes the
    read's own sum."""
    nils = sorted((str(a) for a, v in balances.items() if v is None), key=str)
    if nils:
        return {"type": "nil-balance", "nils": nils}
    s = sum(balances.values())
    if s != total:
        return {"type": "wrong-total", "total": s, "expected": total}
    neg = [v for v in balances.values() if v < 0]
    if neg and not negative_ok:
        return {"type": "negative-value", "negative": neg}
    return None


def check_reads(reads: Sequence[tuple[int, Mapping]], total: int | None = None, *,
                negative_ok: bool = False) -> dict:
    """Jepsen's bank checker over (index, balances) reads (jepsen.tests.bank `checker`:
    every ok read checked by `check-op`; errors grouped by type)."""
    errors: dict[str, list] = {}
    for index, balances in reads:
        if total is None and None not in balances.values():
            total = sum(balances.values())  # the first complete read's total
        err = read_error(balances, total if total is not None else 0,
                         negative_ok=negative_ok)
        if err is not None:
            errors.setdefault(err["type"], []).append({**err, "op": index})
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


def _anomaly(kind: str, expected: bool, op: Any, explanation: str,
             more: Sequence[int] = ()) -> dict:
    return {"kind": kind, "expected": expected, "region": op.region, "key": None,
            "ops": [op.index, *more], "explanation": explanation}


def _transfers(history: Sequence[Any]) -> list:
    """Every completed-or-open transfer pair, in completion order (open ones last)."""
    return sorted((p for p in pair(history) if p.invoke.f == "transfer"
                   and p.invoke.process != "nemesis"),
                  key=lambda p: (p.complete is None,
                                 p.complete.time if p.complete is not None else 0))


def strong_mode(history: Sequence[Any]) -> bool:
    """Whether a gtcheck bank history ran in its strong (MRSC) single-item form: the
    workload marks it by setting up the accounts with `consistent` False (one PutItem
    each, M14) instead of one TransactWriteItems."""
    init = next((op for op in history if op.f == "init" and op.type == "invoke"), None)
    return init is not None and init.consistent is False


def bank_run_check(history: Sequence[Any], *, writing_region: str | None = None,
                   mode: str | None = None) -> dict:
    """The bank promises of a gtcheck run (module docstring), from gtcheck ops: `init`
    and `transfer` in the writing region, `read` everywhere (final reads marked).

    `mode` "strong" or "async"; None reads it from the history (`strong_mode`).
    `writing_region` None is the init's region."""
    ok = [op for op in history if op.type == "ok" and op.process != "nemesis"]
    init = next((op for op in ok if op.f == "init"), None)
    if init is None:
        return _set_up_unacknowledged(history, mode)
    strong = mode == "strong" if mode is not None else strong_mode(history)
    if writing_region is None:
        writing_region = init.region
    initial = {str(k): v for k, v in init.value.items()}
    total = sum(initial.values())
    inits = [p for p in pair(history) if p.invoke.f == "init" and p.type == "ok"]
    init_ack = inits[0].complete.time
    tries = _transfers(history)
    done = [p for p in tries if p.type == "ok"]
    transfers = [p.complete for p in done]
    starts = [p.invoke.time for p in done]
    moves = [{"from": str(op.value["from"]), "to": str(op.value["to"]),
              "amount": op.value["amount"]} for op in transfers]
    read_pairs = [p for p in pair(history) if p.type == "ok" and p.invoke.f == "read"
                  and p.invoke.process != "nemesis"]
    anomalies: list[dict] = []
    if strong:
        judged, not_judged = _strong_reads(read_pairs, init_ack, initial, tries, anomalies)
        home: list = []
        torn = 0
    else:
        home, torn = _async_reads(read_pairs, init_ack, writing_region, initial, total,
                                  moves, transfers, starts, anomalies)
        judged, not_judged = len(read_pairs), 0
    finals = {op.region: op.value for op in ok if op.f == "read"
              and (op.extra or {}).get("final")}
    anomalies += _divergence(finals, total)
    counts = _tally(anomalies)
    violated = any(not a["expected"] for a in anomalies)
    conserved = not any(a["kind"] in ("wrong-total", "nil-balance", "negative-value",
                                      "failed-transfer-visible") and not a["expected"]
                        for a in anomalies)
    valid: Any = False if violated else (True if finals and judged else "unknown")
    out = {"valid": valid, "mode": "strong" if strong else "async",
           "total": total, "transfers": len(transfers),
           "writing_region": writing_region, "totals_conserved": conserved,
           "writing_region_reads": len(home), "torn_reads": torn,
           "reads_judged": judged, "reads_not_judged": not_judged,
           "final_regions": sorted(finals), "anomalies": anomalies,
           "anomaly_counts": counts}
    if valid == "unknown":
        out["reason"] = ("no final read after the heal" if not finals else
                         "no read could be judged")
    return out


def _divergence(finals: dict, total: Any) -> list[dict]:
    """The regions' final reads after the heal must agree (convergence) and, when `total`
    is given and no account is missing, hold the total."""
    if len({repr(sorted(v.items())) for v in finals.values()}) > 1 or (
            total is not None and any(sum(v.values()) != total for v in finals.values()
                                      if None not in v.values())):
        return [{"kind": "divergence", "expected": False, "region": None, "key": None,
                 "ops": [], "explanation": f"after the final heal the regions read {finals}"}]
    return []


def _tally(anomalies: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for a in anomalies:
        counts[a["kind"]] = counts.get(a["kind"], 0) + 1
    return counts


def _set_up_unacknowledged(history: Sequence[Any], mode: str | None) -> dict:
    """No set-up was acknowledged: under faults on the writing region (an outage, a cut
    link) every attempt of a short run may fail or time out. An attempt that timed out
    (`info`) may still have happened, at any time after its invocation (Jepsen's :info),
    and the workload sends no transfer before a set-up is acknowledged (workloads/bank.py),
    so every account of every read is either absent (the set-up not there yet) or holds
    its set-up balance; any other balance, or any balance at all when every attempt of
    an async (transactional, all-or-nothing) set-up definitely failed (:fail did not
    happen), is money no operation wrote
    ("unwritten-balance"), and the regions' final reads must agree ("divergence").
    Judged only when some read showed a balance; with no attempt, or no balance ever
    read, nothing is judged: unknown."""
    tried = [p for p in pair(history) if p.invoke.f == "init"
             and p.invoke.process != "nemesis"]
    strong = mode == "strong" if mode is not None else strong_mode(history)
    if not tried:
        return {"valid": "unknown", "error": "the accounts were never set up"}
    # Every attempt definitely failed: async's one TransactWriteItems wrote nothing. A
    # strong set-up is one PutItem per account, so a failed one may have done the first
    # few (single_item_txns): its balances may be there all the same.
    maybe = strong or any(p.type != "fail" for p in tried)
    initial = {str(k): v for k, v in tried[0].invoke.value.items()}
    reads = [p.complete for p in pair(history) if p.type == "ok" and p.invoke.f == "read"
             and p.invoke.process != "nemesis" and isinstance(p.complete.value, Mapping)]
    anomalies = []
    judged = 0
    for op in reads:
        balances = {str(k): v for k, v in op.value.items()}
        if all(v is None for v in balances.values()):
            continue
        judged += 1
        wrong = {a: v for a, v in balances.items()
                 if v is not None and not (maybe and v == initial.get(a))}
        if wrong:
            what = (f"the only writes were the set-up's "
                    f"{ {a: initial.get(a) for a in sorted(wrong)} } (never acknowledged)"
                    if maybe else "every set-up attempt definitely failed")
            anomalies.append(_anomaly(
                "unwritten-balance", False, op,
                f"op {op.index}: {op.region} read balances {dict(sorted(wrong.items()))}, "
                f"but {what} and no transfer was sent"))
    final_pairs = [p for p in pair(history) if p.type == "ok" and p.invoke.f == "read"
                   and p.invoke.process != "nemesis" and (p.complete.extra or {}).get("final")
                   and isinstance(p.complete.value, Mapping)]
    finals = {p.complete.region: p.complete.value for p in final_pairs}
    in_flight = any(p.type != "fail" for p in tried)  # ok, info or open: may land late
    late = _late_set_up(final_pairs, initial, strong) if in_flight else None
    if late is None:
        anomalies += _divergence(finals, None)
    else:
        anomalies += late
    counts = _tally(anomalies)
    valid: Any = False if anomalies else (True if judged and finals else "unknown")
    out = {"valid": valid, "mode": "strong" if strong else "async",
           "total": sum(initial.values()), "transfers": 0, "set_up": "unacknowledged",
           "writing_region": tried[0].invoke.region, "reads_judged": judged,
           "final_regions": sorted(finals), "anomalies": anomalies,
           "anomaly_counts": counts}
    if valid == "unknown":
        out["error"] = ("the accounts were never set up" if not judged else
                        "no final read after the heal")
    return out


def _late_set_up(final_pairs: Sequence[Any], initial: Mapping[str, Any],
                 strong: bool) -> list[dict] | None:
    """Final reads after a set-up that was never acknowledged but may have happened: each
    attempt that timed out (Jepsen's :info) may take effect at any later time, even
    between two regions' final reads (test-all --quick --mode strong --seed 4, bank x
    isolate: k7's PutItem timed out at 1.69 s and landed at about 2.87 s, after one
    region's final read). Regions that differ only by an account absent in one and at its
    set-up balance in another are what such a late write leaves: not divergence. Under
    MRSC every final read is strongly consistent (M06: it reflects every write that
    completed before it began, and a linearizable register never goes back), so an
    absent account in a final read begun after another final read had shown it is still
    a violation. None when the regions differ in any other way (the plain divergence
    rule judges them)."""
    by_account: dict[str, set] = {}
    for p in final_pairs:
        for a, v in p.complete.value.items():
            by_account.setdefault(str(a), set()).add(v)
    split = [a for a, vs in by_account.items() if len(vs) > 1]
    if any(vs - {None, initial.get(a)} for a, vs in ((a, by_account[a]) for a in split)):
        return None
    out: list[dict] = []
    if not strong:
        return out
    seen_by = {a: min(p.complete.time for p in final_pairs
                      if p.complete.value.get(a) is not None) for a in split}
    for p in final_pairs:
        back = sorted(a for a in split
                      if p.complete.value.get(a) is None and p.invoke.time > seen_by[a])
        if back:
            out.append(_anomaly(
                "divergence", False, p.complete,
                f"op {p.complete.index}: {p.complete.region}'s final SC read, begun after "
                f"another final read had shown accounts {back}, read them absent (M06: an "
                f"SC read reflects every write visible before it began)"))
    return out


def _async_reads(read_pairs: Sequence, init_ack: int, writing_region: str,
                 initial: Mapping[str, int], total: int, moves: Sequence[Mapping],
                 transfers: Sequence[Any], starts: Sequence[int],
                 anomalies: list[dict]) -> tuple[list, int]:
    """Async (MREC) reads. Writing region (A11: transactions are ACID there; A01: an SC
    read there sees what was acknowledged): every read begun after the set-up was
    acknowledged gets Jepsen's `check-op` against the set-up total (:nil-balance,
    :wrong-total, :negative-value). Elsewhere (A03, A11): an account not yet replicated
    (nil) or a transfer half replicated is allowed, reported as expected; but a region
    whose earlier read (completed before this one began) showed an account may not read
    it as nil again (A05: reads of an item never go back in time), and a final read
    after the heal must hold every account (A08)."""
    home = []
    torn = 0
    held_since: dict[tuple[str, str], int] = {}  # (region, account) -> end of 1st sighting
    for p in sorted(read_pairs, key=lambda p: p.start):
        op, inv = p.complete, p.invoke
        balances = {str(k): v for k, v in op.value.items()}
        final = bool((op.extra or {}).get("final"))
        if op.region == writing_region:
            home.append(op)
            if inv.time < init_ack:
                continue  # concurrent with the set-up: it may see part of it
            err = read_error(balances, total)
            if err is not None:
                what = {"nil-balance": f"no balance for {', '.join(err.get('nils', []))}",
                        "wrong-total": f"a total of {err.get('total')}",
                        "negative-value": f"negative balances {err.get('negative')}"}
                anomalies.append(_anomaly(
                    err["type"], False, op,
                    f"op {op.index}: a read in the writing region {writing_region}, begun "
                    f"after the set-up was acknowledged, saw {what[err['type']]}, not a "
                    f"conserved total of {total} (A01, A11; Jepsen's bank "
                    f":{err['type']})"))
            continue
        nils = sorted(a for a, v in balances.items() if v is None)
        went_back = [a for a in nils if held_since.get((op.region, a), inv.time) < inv.time]
        for a, v in balances.items():
            if v is not None and (op.region, a) not in held_since:
                held_since[(op.region, a)] = op.time
        if nils:
            if went_back or final:
                why = (f"an earlier read there had shown {', '.join(went_back)} (A05: "
                       f"reads never go back in time)" if went_back else
                       "a final read after the heal must hold every account (A08)")
                anomalies.append(_anomaly(
                    "nil-balance", False, op,
                    f"op {op.index}: {op.region} read no balance for {', '.join(nils)}; "
                    f"{why} (Jepsen's bank :nil-balance)"))
            else:
                anomalies.append(_anomaly(
                    "set-up-not-replicated", True, op,
                    f"op {op.index}: {op.region} read no balance yet for "
                    f"{', '.join(nils)}: the set-up had not replicated there (A03, "
                    f"allowed)"))
            continue
        if len(balances) == len(initial) and sum(balances.values()) != total:
            torn += 1
            j = torn_transfer(balances, op.time, initial, moves, starts)
            name = (f"transfer op {transfers[j].index} ({moves[j]['amount']} from "
                    f"{moves[j]['from']} to {moves[j]['to']})") if j is not None \
                else "a transfer in flight"
            anomalies.append(_anomaly(
                "torn-transfer", True, op,
                f"op {op.index}: {op.region} read a total of {sum(balances.values())}, "
                f"not {total}: it saw {name} half replicated (A11, allowed)",
                [transfers[j].index] if j is not None else []))
    return home, torn


def _strong_reads(read_pairs: Sequence, init_ack: int, initial: Mapping[str, int],
                  tries: Sequence, anomalies: list[dict]) -> tuple[int, int]:
    """Strong (MRSC) reads: one SC GetItem per account (M06: each reflects every write
    acknowledged anywhere before it), transfers rejected (M14: MRSC rejects every
    TransactWriteItems, whatever answer its client got; Jepsen's :fail means it did not
    happen). So a read begun after the set-up was acknowledged must hold every account
    (:nil-balance), and an account no accepted transfer could have touched holds its
    initial balance (else "failed-transfer-visible", naming a rejected transfer
    whose amount explains it) and the total (:wrong-total). A transfer that timed out
    (:info) or was still open is judged as rejected: had it taken effect, MRSC would have
    accepted a transaction, itself a violation of M14, so a read showing it is invalid
    either way (issue 21: one :info transfer in a strong bank x outage run left every
    later read, the final ones too, unjudged, and the run unknown). A read that an
    accepted (`ok`) transfer may have touched is not judged (its GetItems are separate:
    it may see the transfer on one account only); that transfer is itself the violation
    `transactions-rejected` reports. Returns (reads judged, reads not judged)."""
    total = sum(initial.values())
    maybe = [p for p in tries if p.type == "ok"]     # accepted: M14's violation already
    failed = [p for p in tries if p.type != "ok"]    # fail, info or open: rejected (M14)
    judged = not_judged = 0
    for p in read_pairs:
        op, inv = p.complete, p.invoke
        if inv.time < init_ack:
            not_judged += 1  # concurrent with the set-up: it may see part of it
            continue
        balances = {str(k): v for k, v in op.value.items()}
        touched = {str(t.invoke.value[side]) for t in maybe if t.invoke.time < op.time
                   for side in ("from", "to")}
        if touched & set(balances):
            not_judged += 1
            continue
        judged += 1
        err = read_error(balances, total)
        if err is not None and err["type"] == "nil-balance":
            anomalies.append(_anomaly(
                "nil-balance", False, op,
                f"op {op.index}: an SC read in {op.region} begun after the set-up was "
                f"acknowledged read no balance for {', '.join(err['nils'])} (M06; Jepsen's "
                f"bank :nil-balance)"))
            continue
        changed = {a: v for a, v in balances.items() if v != initial.get(a)}
        if changed:
            blame = [t for t in failed if t.invoke.time < op.time
                     and any(changed.get(str(t.invoke.value[side])) ==
                             initial.get(str(t.invoke.value[side])) + sign *
                             t.invoke.value["amount"]
                             for side, sign in (("from", -1), ("to", 1)))]
            who = (f"; rejected transfer op {blame[0].invoke.index} "
                   f"({blame[0].invoke.value['amount']} from {blame[0].invoke.value['from']}"
                   f" to {blame[0].invoke.value['to']}) explains it" if blame else "")
            anomalies.append(_anomaly(
                "failed-transfer-visible", False, op,
                f"op {op.index}: an SC read in {op.region} saw balances "
                f"{dict(sorted(changed.items()))}, not the set-up's "
                f"{ {a: initial.get(a) for a in sorted(changed)} }, though no transfer "
                f"begun before it was accepted (M14: MRSC rejects every transaction; M06; "
                f"Jepsen: :fail did not happen){who}",
                [t.complete.index for t in blame[:1] if t.complete is not None]))
        if err is not None:
            anomalies.append(_anomaly(
                err["type"], False, op,
                f"op {op.index}: an SC read in {op.region} saw "
                f"{err.get('total', err.get('negative'))}, not the set-up total of "
                f"{total}, though no transfer could have moved money (M14, M06; Jepsen's "
                f"bank :{err['type']})"))
    return judged, not_judged


def single_item_txns(history: Sequence[Any]) -> list[Txn]:
    """A strong-mode bank history's accesses as one-item rw-register transactions.

    `init` did one PutItem per account: each becomes `[w account balance]` in the init's
    time window. One init op is several independent writes, so a failed init may have
    done some of them: its pieces are indeterminate (Jepsen's :info), never "did not
    happen". Each ok `read` did one SC GetItem per account: `[r account balance]` in the
    read's window. Transfers are left out: MRSC rejects them (M14), and one accepted is a
    violation `transfers_rejected` reports.

    Set-up attempts (the workload retries one that failed or timed out) write the same
    balance to an account again: one write, as Elle needs each value written once per
    key. Nothing else writes an account (no deletes, transfers rejected), so what the
    reads can see is the account absent, then its balance from the first attempt that
    took effect on: one write from the earliest attempt's invocation, done by the
    earliest acknowledged attempt's end (indeterminate if none was acknowledged)."""
    out: list[Txn] = []
    setup: dict[tuple[str, Any], Txn] = {}  # (account, balance) -> its one write
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
            if mop[0] == "w" and (mop[1], mop[2]) in setup:
                first = setup[(mop[1], mop[2])]
                first.invoke_time = min(first.invoke_time, inv.time)
                if typ == OK and (first.type != OK or end < first.complete_time):
                    first.type, first.complete_time = OK, end
                continue
            t = Txn(len(out), index, inv.process, typ, [mop], inv.time, end, inv.region,
                    inv.index)
            if mop[0] == "w":
                setup[(mop[1], mop[2])] = t
            out.append(t)
    out.sort(key=lambda t: (t.complete_time is None, t.complete_time or 0, t.id))
    for i, t in enumerate(out):
        t.id = i
    return out
