"""`gtcheck conform`: judge any DynamoDB-compatible endpoint set against SEMANTICS.md.

This is "verify emulator correctness" for emulators other than ours (moto, LocalStack, a
new build of the bundled one) and a first look at real regions: every claim of
SEMANTICS.md a client can observe from outside is tried through boto3, the way a user's
program would see it, and judged pass, fail, or "not observable here" (the endpoint set
offers no way to see it: no fault API for a pause, no replicas to compare). Nothing here
reads an emulator's internals.

What is tried (claim IDs are SEMANTICS.md's; `API-*` are its "API facts"):
- control plane: replicas are added with UpdateTable ReplicaUpdates and become ACTIVE in
  their own regions; a Create for the table's own region, MultiRegionConsistency without
  Create actions, MRSC with two participants, and MRSC on a non-empty table are rejected;
  DescribeTable's global-table fields;
- async (MREC) on every region: reads and writes everywhere (G1), read-your-writes in
  region (A01), convergence after concurrent writes and last writer wins after
  sequential ones (A06), per-item order as seen from another region (A04, A05), a
  dropped stale write leaving no stream record (A07, where the target can isolate a
  region), and a
  replication pause that holds writes back and then catches up (A13, only where the
  target offers a pause: the emulator's fault API or FIS), and -- where the target can
  cut a link -- a replicated write is not relayed through a third region (A10);
- MRSC with a witness (two replicas + the third region as witness): set-up in one call
  (M01), no table in the witness region, the witness alone cannot be removed, an SC read
  sees a write acknowledged in the other region (M06; where the target has a fault API,
  with the reading region slowed so it learns of the commit late and only a read fence
  can make the read current), conflicting concurrent writes get
  ReplicatedWriteConflictException (M08), both replicas' streams show a key's concurrent
  writes in one order (M13), transactions are rejected (M14), and -- where
  the target can isolate a region -- the isolated replica serves no writes and no SC
  reads while EC reads and the majority side go on (M10).

A claim that AWS's documents do not settle is "inconclusive" with the evidence, never
"fail": the exact error a transaction on an MRSC table gets (AWS says they are not
supported, not which error), and M08's conflict, which concurrent writes make likely
but not certain.

Tables are named `gtcheck-conform-...`, tagged `gtcheck:run`, and deleted at the end.
Results: a printed table (claim / what was tried / verdict / evidence), `conform.json` and
`conform.html` in the output directory; exit status 1 when any claim fails.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import click
from botocore.exceptions import ClientError

from suite.errors import BadInput, GtcheckError
from suite.targets.aws import RUN_TAG, delete_tagged_table
from suite.targets.aws_cleanup import lifecycle_tags
from suite.targets.base import GlobalTableProvisioner, KEY_ATTRIBUTE
from workloads.dynamo import one_attempt_config

PASS, FAIL, UNOBSERVABLE = "pass", "fail", "not observable here"
INCONCLUSIVE = "inconclusive"
CONVERGE_S = 15.0
RELAY_LOOK_S = 2.0  # A10: how long the cut-off region is watched once the third has the write
M06_SLOW_MS = 200.0  # M06: extra one-way delay on the reading region's links


@dataclass(frozen=True)
class Claim:
    id: str
    claim: str
    tried: str
    verdict: str
    evidence: str


class Conformance:
    """The endpoint set under judgement: control and data clients per region, tables."""

    def __init__(self, control: Callable[[str], Any], data: Callable[[str], Any],
                 regions: Sequence[str], witness: str, *, pause: Callable[[str], None] | None,
                 resume: Callable[[str], None] | None,
                 isolate: Callable[[str], None] | None = None,
                 heal: Callable[[], None] | None = None, pause_may_lag: bool = False,
                 cut: Callable[[str, str], None] | None = None,
                 slow: Callable[[str, float], None] | None = None,
                 poll_s: float = 0.05,
                 timeout_s: float = 120.0, say: Callable[[str], None] = lambda s: None,
                 streams: Callable[[str], Any] | None = None):
        self.control, self.data = control, data
        self.streams = streams  # region -> boto3 dynamodbstreams client (None: not offered)
        self.regions, self.witness = tuple(regions), witness
        self.pause, self.resume = pause, resume
        self.isolate, self.heal = isolate, heal
        self.cut, self.slow = cut, slow
        # AWS: replication may go on for up to 5 minutes after an FIS pause starts
        # (SEMANTICS.md, "FIS action"), so a write that gets through is no violation.
        self.pause_may_lag = pause_may_lag
        self.poll_s, self.timeout_s, self.say = poll_s, timeout_s, say
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d%H%M%S")
        self.async_table = f"gtcheck-conform-async-{stamp}"
        self.strong_table = f"gtcheck-conform-mrsc-{stamp}"
        self.probe_table = f"gtcheck-conform-probe-{stamp}"
        self.async_error: str | None = None
        self.strong_error: str | None = None
        self.claims: list[Claim] = []

    # ---- helpers ---------------------------------------------------------------------
    def record(self, id_: str, claim: str, tried: str, verdict: str, evidence: str) -> None:
        self.claims.append(Claim(id_, claim, tried, verdict, evidence))
        self.say(f"{id_:<14} {verdict:<19} {claim}")

    def provisioner(self, mode: str, regions: Sequence[str], witness: str | None = None,
                    table: str = "") -> GlobalTableProvisioner:
        return GlobalTableProvisioner(self.control, mode, tuple(regions), witness,
                                      poll_s=self.poll_s, timeout_s=self.timeout_s,
                                      tags=lifecycle_tags(table, time.time()) if table
                                      else None,
                                      missing_grace_s=3.0)

    def put(self, region: str, table: str, key: str, value: int) -> None:
        self.data(region).put_item(TableName=table, Item={KEY_ATTRIBUTE: {"S": key},
                                                          "v": {"N": str(value)}})

    def read(self, region: str, table: str, key: str, *, sc: bool = True) -> int | None:
        item = self.data(region).get_item(TableName=table, Key={KEY_ATTRIBUTE: {"S": key}},
                                          ConsistentRead=sc).get("Item")
        return None if item is None or "v" not in item else int(item["v"]["N"])

    def wait_all(self, table: str, key: str, regions: Sequence[str], want: Callable,
                 within_s: float = CONVERGE_S) -> dict[str, Any]:
        """Poll SC reads of `key` in `regions` until `want(values)`; the last values."""
        deadline = time.monotonic() + within_s
        while True:
            values = {r: self.read(r, table, key) for r in regions}
            if want(values) or time.monotonic() >= deadline:
                return values
            time.sleep(0.02)

    def rejected(self, fn: Callable[[], Any], code: str = "ValidationException"
                 ) -> tuple[bool, str]:
        try:
            fn()
        except ClientError as e:
            got = e.response.get("Error", {}).get("Code")
            message = clip_words(e.response.get("Error", {}).get("Message", ""), 300)
            return got == code, f"{got}: {message}"
        return False, "accepted"

    # ---- stages ----------------------------------------------------------------------
    def run(self) -> list[Claim]:
        try:
            self.control_plane()
            self.async_claims()
            self.strong_claims()
        finally:
            for table in (self.probe_table, self.async_table, self.strong_table):
                try:
                    delete_tagged_table(self.control, self.regions[0], table,
                                        poll_s=self.poll_s, timeout_s=self.timeout_s,
                                        require_tag=True)
                except Exception as e:  # noqa: BLE001 -- reported; `gtcheck aws cleanup`
                    self.say(f"could not delete {table}: {e}")
        return self.claims

    def control_plane(self) -> None:
        home, second = self.regions[0], self.regions[1]
        try:
            self.provisioner("async", self.regions, table=self.async_table).create(
                self.async_table)
            self.record("API-replicas", "UpdateTable ReplicaUpdates Create adds replicas that "
                        "become ACTIVE, each in its own region",
                        f"CreateTable in {home}; ReplicaUpdates Create for each other "
                        "region; DescribeTable in every region", PASS,
                        f"{', '.join(self.regions)} ACTIVE")
        except GtcheckError as e:
            self.async_error = str(e)
            self.record("API-replicas", "UpdateTable ReplicaUpdates Create adds replicas that "
                        "become ACTIVE, each in its own region",
                        f"CreateTable in {home}; ReplicaUpdates Create for each other region",
                        FAIL, self.async_error)
        c = self.control(home)
        ok, got = self.rejected(lambda: c.update_table(
            TableName=self.async_table, ReplicaUpdates=[{"Create": {"RegionName": home}}]))
        self.record("API-own-region", "a replica Create for the table's own region is rejected",
                    f"UpdateTable ReplicaUpdates Create {home} in {home}",
                    PASS if ok else FAIL, got)
        if self.async_error is None:
            t = c.describe_table(TableName=self.async_table)["Table"]
            shape_ok = (t.get("GlobalTableVersion") == "2019.11.21"
                        and all({"RegionName", "ReplicaStatus"} <= set(r)
                                for r in t.get("Replicas", []))
                        and {r["RegionName"] for r in t.get("Replicas", [])}
                        == set(self.regions[1:])
                        and t.get("MultiRegionConsistency") in ("EVENTUAL", None))
            self.record("API-describe", "DescribeTable shows GlobalTableVersion 2019.11.21 and "
                        "Replicas[] (RegionName, ReplicaStatus)", f"DescribeTable in {home}",
                        PASS if shape_ok else FAIL,
                        f"GlobalTableVersion={t.get('GlobalTableVersion')!r}, Replicas="
                        f"{t.get('Replicas')}, MultiRegionConsistency="
                        f"{t.get('MultiRegionConsistency')!r}")
        else:
            self.record("API-describe", "DescribeTable shows GlobalTableVersion 2019.11.21 and "
                        "Replicas[] (RegionName, ReplicaStatus)", f"DescribeTable in {home}",
                        UNOBSERVABLE, "no global table to describe")
        ok, got = self.rejected(lambda: c.update_table(
            TableName=self.async_table, MultiRegionConsistency="STRONG"))
        self.record("API-consistency", "MultiRegionConsistency is valid only with Create "
                    "actions", "UpdateTable MultiRegionConsistency=STRONG alone",
                    PASS if ok else FAIL, got)
        # MRSC set-up rules, on a fresh single-region table
        probe = self.probe_table
        try:
            self.provisioner("async", (home,), table=probe).create(probe)
        except GtcheckError as e:
            self.record("API-mrsc-three", "MRSC with two participants is rejected",
                        "CreateTable", FAIL, f"could not create a table: {e}")
            return
        ok, got = self.rejected(lambda: c.update_table(
            TableName=probe, ReplicaUpdates=[{"Create": {"RegionName": second}}],
            MultiRegionConsistency="STRONG"))
        self.record("API-mrsc-three", "MRSC needs exactly three participants (two are "
                    "rejected)", f"UpdateTable on an empty table: Create {second}, "
                    "MultiRegionConsistency=STRONG, no witness", PASS if ok else FAIL, got)
        if not ok:  # the probe table changed shape; the next rule needs it single-region
            self.record("API-mrsc-empty", "MRSC set-up needs an empty source table", "-",
                        UNOBSERVABLE, "the two-participant MRSC set-up was accepted")
            return
        self.put(home, probe, "item", 1)
        ok, got = self.rejected(lambda: c.update_table(
            TableName=probe, ReplicaUpdates=[{"Create": {"RegionName": second}}],
            GlobalTableWitnessUpdates=[{"Create": {"RegionName": self.witness}}],
            MultiRegionConsistency="STRONG"))
        self.record("API-mrsc-empty", "MRSC set-up needs an empty source table",
                    f"one item, then UpdateTable: Create {second}, witness {self.witness}, "
                    "STRONG", PASS if ok else FAIL, got)

    def async_claims(self) -> None:
        t, regions = self.async_table, self.regions
        needs = "no replicas: " + (self.async_error or "")
        if self.async_error is not None:
            self.read_your_writes(t, regions[:1])  # the home table is there to try
            for id_, claim in (
                    ("G1", "every replica region accepts reads and writes"),
                    ("A06-converge", "replicas converge after concurrent writes"),
                    ("A06-lww", "the last writer wins"),
                    ("A04/A05", "per-item order: another region never sees an item go back"),
                    ("A13", "paused replication holds writes back, then catches up"),
                    ("A10", "a replicated write is not relayed through a third region "
                            "while a link is cut"),
                    ("A07", "a replicated write dropped as stale leaves no stream record")):
                self.record(id_, claim, "-", UNOBSERVABLE, needs)
            return
        wrote = self.read_your_writes(t, regions)
        self.record("G1", "every replica region accepts reads and writes",
                    f"PutItem + GetItem in each of {', '.join(regions)}",
                    PASS if len(wrote) == len(regions) else FAIL,
                    f"wrote in {', '.join(wrote) or 'none'}")
        # A06: concurrent writes converge
        threads = [threading.Thread(target=self.put, args=(r, t, "conv", 200 + i))
                   for i, r in enumerate(regions)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        values = self.wait_all(t, "conv", regions, lambda v: len(set(v.values())) == 1
                               and None not in v.values())
        agreed = len(set(values.values())) == 1 and None not in values.values()
        self.record("A06-converge", "replicas converge after concurrent writes to one item",
                    f"{len(regions)} concurrent PutItems (one per region), then SC reads "
                    f"everywhere for up to {CONVERGE_S:g}s", PASS if agreed else FAIL,
                    f"final values {values}")
        # A06: sequential writes from different regions: the later one wins
        bad = []
        for i in range(3):
            first, last = regions[i % len(regions)], regions[(i + 1) % len(regions)]
            self.put(first, t, f"lww{i}", 1)
            time.sleep(0.05)
            self.put(last, t, f"lww{i}", 2)
            v = self.wait_all(t, f"lww{i}", regions, lambda v: set(v.values()) == {2})
            if set(v.values()) != {2}:
                bad.append(f"lww{i}: {first} wrote 1, then {last} wrote 2; final {v}")
        self.record("A06-lww", "the last writer wins: all regions end on the later write",
                    "3 keys: write 1 in one region, 50 ms after its ack write 2 in another",
                    PASS if not bad else FAIL, "; ".join(bad) or "every region ended on 2")
        self.per_item_order(t, regions)
        self.stream_drop_claim(t, regions)
        self.pause_claim(t, regions)
        self.relay_claim(t, regions)

    def relay_claim(self, t: str, regions: Sequence[str]) -> None:
        """A10: replicators use direct links only; a write from A does not reach B through
        C while the A-B link is cut, and does reach B once it heals."""
        claim = "a replicated write is not relayed through a third region while a link is cut"
        if self.cut is None or self.heal is None or len(regions) < 3:
            self.record("A10", claim, "-", UNOBSERVABLE,
                        "this target offers no way to cut a link between two regions")
            return
        a, b, c = regions[0], regions[1], regions[2]
        before = self.read(b, t, "relay")
        self.cut(a, b)
        try:
            self.put(a, t, "relay", 10)
            third = self.wait_all(t, "relay", [c], lambda v: v[c] == 10)
            held = self.wait_all(t, "relay", [b], lambda v: v[b] == 10, within_s=RELAY_LOOK_S)
        finally:
            self.heal()
        after = self.wait_all(t, "relay", [b], lambda v: v[b] == 10)
        tried = (f"cut {a}-{b}; PutItem in {a}; once {c} has it, SC reads in {b} for "
                 f"{RELAY_LOOK_S:g}s; heal; SC read in {b}")
        evidence = (f"{c} read {third[c]}; {b} read {held[b]} during the cut (before: "
                    f"{before}), {after[b]} after the heal")
        if third[c] != 10:
            self.record("A10", claim, tried, INCONCLUSIVE,
                        evidence + "; the write never reached the third region")
        elif held[b] == 10:
            self.record("A10", claim, tried, FAIL, evidence + ": relayed through " + c)
        else:
            self.record("A10", claim, tried, PASS if after[b] == 10 else FAIL, evidence)

    def read_your_writes(self, t: str, regions: Sequence[str]) -> list[str]:
        """A01 in each of `regions`: PutItem, then at once an SC GetItem there. The regions
        where the write was accepted."""
        wrote, misses = [], []
        for i, r in enumerate(regions):
            try:
                self.put(r, t, f"ryw-{r}", 100 + i)
                wrote.append(r)
                got = self.read(r, t, f"ryw-{r}")
                if got != 100 + i:
                    misses.append(f"{r} read {got} after writing {100 + i}")
            except ClientError as e:
                misses.append(f"{r}: {e.response['Error']['Code']}")
        self.record("A01", "an SC read in the writing region sees the write at once",
                    f"PutItem, then at once an SC GetItem, in {', '.join(regions)}",
                    PASS if not misses else FAIL, "; ".join(misses) or "every read saw its write")
        return wrote

    def per_item_order(self, t: str, regions: Sequence[str]) -> None:
        writer, reader = regions[0], regions[1]
        seen: list[int] = []
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                v = self.read(reader, t, "order")
                if v is not None and (not seen or seen[-1] != v):
                    seen.append(v)
        th = threading.Thread(target=watch)
        th.start()
        for v in range(1, 31):
            self.put(writer, t, "order", v)
        final = self.wait_all(t, "order", [reader], lambda x: x[reader] == 30)
        done.set()
        th.join()
        back = [(a, b) for a, b in zip(seen, seen[1:]) if b < a]
        ok = not back and final[reader] == 30
        self.record("A04/A05", "per-item order: another region sees an item's writes in "
                    "order and never goes back", f"30 PutItems of 1..30 in {writer}; SC "
                    f"reads in {reader} meanwhile", PASS if ok else FAIL,
                    f"{len(seen)} distinct values seen, ending {final[reader]}"
                    + (f"; went back {back[:3]}" if back else ""))

    def stream_records(self, region: str, t: str, key: str) -> list[tuple]:
        """(event, old v, new v) of `key`'s records in `region`'s stream, in order."""
        from workloads.streams import read_all
        recs = read_all(self.streams(region), self.data(region), t)  # type: ignore[misc]
        return [(r["event"], (r["old"] or {}).get("v"), (r["new"] or {}).get("v"))
                for r in recs if (r["keys"] or {}).get(KEY_ATTRIBUTE) == key]

    def stream_drop_claim(self, t: str, regions: Sequence[str]) -> None:
        """A07: with B cut off, an older write in A and a newer one in B; after the heal
        B's stream has no record of A's write (dropped as stale), A's shows both."""
        claim = "a replicated write dropped as stale leaves no stream record"
        if self.streams is None:
            self.record("A07", claim, "-", UNOBSERVABLE, "this target serves no streams")
            return
        if self.isolate is None or self.heal is None:
            self.record("A07", claim, "-", UNOBSERVABLE, "this target offers no way to hold "
                        "replication back long enough to make a write stale")
            return
        a, b = regions[0], regions[1]
        self.isolate(b)
        try:
            self.put(a, t, "a07", 1)
            time.sleep(0.05)
            self.put(b, t, "a07", 2)
        finally:
            self.heal()
        final = self.wait_all(t, "a07", regions, lambda v: set(v.values()) == {2})
        time.sleep(0.5)  # A's write reaches B and is dropped there
        try:
            in_a, in_b = self.stream_records(a, t, "a07"), self.stream_records(b, t, "a07")
        except ClientError as e:
            self.record("A07", claim, "read both streams", FAIL,
                        f"{e.response.get('Error', {}).get('Code')}: reading the stream failed")
            return
        ok = (set(final.values()) == {2} and in_b == [("INSERT", None, 2)]
              and in_a == [("INSERT", None, 1), ("MODIFY", 1, 2)])
        self.record("A07", claim, f"isolate {b}; PutItem 1 in {a}, 50 ms later PutItem 2 in "
                    f"{b}; heal; read both streams", PASS if ok else FAIL,
                    f"{a}'s stream {in_a}; {b}'s stream {in_b}; final {final}")

    def stream_order_claim(self, t: str, a: str, b: str) -> None:
        """M13: after concurrent writes to one key from both replicas, both streams show
        the key's records identically, in one order."""
        claim = "every region's stream shows a key's writes in the same order"
        if self.streams is None:
            self.record("M13", claim, "-", UNOBSERVABLE, "this target serves no streams")
            return
        for rnd in range(5):
            ths = [threading.Thread(target=self._try_put, args=(r, t, "m13", rnd * 10 + j))
                   for j, r in enumerate((a, b, a, b))]
            for th in ths:
                th.start()
            for th in ths:
                th.join()
        deadline = time.monotonic() + CONVERGE_S
        while True:
            try:
                sa, sb = self.stream_records(a, t, "m13"), self.stream_records(b, t, "m13")
            except ClientError as e:
                self.record("M13", claim, "read both streams", FAIL,
                            f"{e.response.get('Error', {}).get('Code')}: reading the stream "
                            "failed")
                return
            if (sa == sb and sa) or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        self.record("M13", claim, f"5 rounds of 4 concurrent PutItems to one item from {a} "
                    f"and {b}; both streams read", PASS if sa == sb and sa else FAIL,
                    f"{len(sa)} records in {a}, {len(sb)} in {b}"
                    + ("" if sa == sb else f"; {a}: {sa[:6]} vs {b}: {sb[:6]}"))

    def _try_put(self, region: str, t: str, key: str, value: int) -> None:
        try:
            self.put(region, t, key, value)
        except ClientError as e:  # a conflict loses its write: it is not in any stream
            if e.response.get("Error", {}).get("Code") != "ReplicatedWriteConflictException":
                raise

    def pause_claim(self, t: str, regions: Sequence[str]) -> None:
        claim = "paused replication holds writes back, then catches up"
        if self.pause is None or self.resume is None:
            self.record("A13", claim, "-", UNOBSERVABLE, "this target offers no way to pause "
                        "replication (no fault API, no FIS role)")
            return
        src, dst = regions[0], regions[1]
        before = self.read(dst, t, "paused")
        self.pause(dst)
        try:
            self.put(src, t, "paused", 7)
            held = self.wait_all(t, "paused", [dst], lambda v: v[dst] == 7, within_s=1.0)
        finally:
            self.resume(dst)
        after = self.wait_all(t, "paused", [dst], lambda v: v[dst] == 7)
        ok = held[dst] == before and after[dst] == 7
        verdict = PASS if ok else FAIL
        evidence = f"during the pause {dst} read {held[dst]}, after it {after[dst]}"
        if not ok and after[dst] == 7 and self.pause_may_lag:
            verdict = UNOBSERVABLE
            evidence += ("; replication may go on for up to 5 minutes after an FIS pause "
                         "starts, so a 1 s look cannot tell")
        self.record("A13", claim, f"pause {dst}; PutItem in {src}; SC read in {dst} for 1 s; "
                    "resume; SC read", verdict, evidence)

    def strong_claims(self) -> None:
        a, b, w = self.regions[0], self.regions[1], self.witness
        t = self.strong_table
        setup = (f"CreateTable in {a}; one UpdateTable: Create {b}, witness {w}, "
                 "MultiRegionConsistency=STRONG")
        try:
            self.provisioner("strong", (a, b), w, table=t).create(t)
            d = self.control(a).describe_table(TableName=t)["Table"]
            ok = (d.get("MultiRegionConsistency") == "STRONG"
                  and [x.get("RegionName") for x in d.get("GlobalTableWitnesses", [])] == [w])
            self.record("M01", "MRSC: two replicas and a witness, set up in one call",
                        setup, PASS if ok else FAIL,
                        f"MultiRegionConsistency={d.get('MultiRegionConsistency')!r}, "
                        f"GlobalTableWitnesses={d.get('GlobalTableWitnesses')}")
        except GtcheckError as e:
            self.strong_error = str(e)
            self.record("M01", "MRSC: two replicas and a witness, set up in one call", setup,
                        FAIL, self.strong_error)
        if self.strong_error is not None:
            for id_, claim in (("M01-witness", "the witness region holds no table"),
                               ("M01-removal", "the witness alone cannot be removed"),
                               ("M06", "an SC read sees a write acknowledged in another region"),
                               ("M08", "conflicting concurrent writes get "
                                       "ReplicatedWriteConflictException"),
                               ("M14", "transactions are rejected on MRSC tables"),
                               ("M13", "every region's stream shows a key's writes in the "
                                       "same order"),
                               ("M10", "an isolated MRSC region serves no writes and no SC "
                                       "reads")):
                self.record(id_, claim, "-", UNOBSERVABLE, "no MRSC table: " + self.strong_error)
            return
        ok, got = self.rejected(lambda: self.control(w).describe_table(TableName=t),
                                "ResourceNotFoundException")
        self.record("M01-witness", "the witness region holds no table",
                    f"DescribeTable in {w}", PASS if ok else FAIL, got)
        ok, got = self.rejected(lambda: self.control(a).update_table(
            TableName=t, GlobalTableWitnessUpdates=[{"Delete": {"RegionName": w}}]))
        self.record("M01-removal", "the witness alone cannot be removed",
                    f"UpdateTable GlobalTableWitnessUpdates Delete {w}", PASS if ok else FAIL,
                    got)
        self.sc_read_claim(t, a, b)
        self.conflicts(t, a, b)
        self.stream_order_claim(t, a, b)
        self.isolation(t, a, b)
        ok1, got1 = self.rejected(lambda: self.data(a).transact_write_items(TransactItems=[
            {"Put": {"TableName": t, "Item": {KEY_ATTRIBUTE: {"S": "txn"}, "v": {"N": "1"}}}}]))
        ok2, got2 = self.rejected(lambda: self.data(a).transact_get_items(TransactItems=[
            {"Get": {"TableName": t, "Key": {KEY_ATTRIBUTE: {"S": "txn"}}}}]))
        accepted = [what for what, got in (("TransactWriteItems", got1),
                                           ("TransactGetItems", got2)) if got == "accepted"]
        # AWS says MRSC tables do not support transactions, not which error a client gets:
        # a rejection with another error is inconclusive; an accepted one fails.
        verdict = PASS if ok1 and ok2 else FAIL if accepted else INCONCLUSIVE
        self.record("M14", "transactions are rejected on MRSC tables (ValidationException)",
                    "TransactWriteItems and TransactGetItems", verdict,
                    f"write: {got1}; get: {got2}" + (
                        "; rejected, with an error AWS's documents do not name"
                        if verdict == INCONCLUSIVE else ""))

    def sc_read_claim(self, t: str, a: str, b: str) -> None:
        """M06: an SC read in B sees every write acknowledged in A before it began. Where
        the target can slow a region, B's links are slowed first, so B learns of each
        commit late and only its read fence can make the read current."""
        stale = []
        slowed = self.slow is not None and self.heal is not None
        if slowed:
            self.slow(b, M06_SLOW_MS)
        try:
            for i in range(10):
                self.put(a, t, "sc", i)
                got_v = self.read(b, t, "sc")
                if got_v != i:
                    stale.append(f"wrote {i} in {a}, SC read in {b} saw {got_v}")
        finally:
            if slowed:
                self.heal()
        how = f" (links of {b} slowed by {M06_SLOW_MS:g} ms)" if slowed else ""
        self.record("M06", "an SC read sees a write acknowledged in another region",
                    f"10 times: PutItem in {a}, then at once an SC GetItem in {b}{how}",
                    PASS if not stale else FAIL,
                    "; ".join(stale[:3]) or f"10 of 10 saw it{how}")

    def isolation(self, t: str, a: str, b: str) -> None:
        claim = ("an isolated MRSC region serves no writes and no SC reads, EC reads stay; "
                 "the others keep working")
        if self.isolate is None or self.heal is None:
            self.record("M10", claim, "-", UNOBSERVABLE,
                        "this target offers no way to isolate a region")
            return
        self.put(a, t, "iso", 1)
        self.wait_all(t, "iso", [b], lambda v: v[b] == 1)
        refused, served = [], []
        self.isolate(b)
        try:
            for what, call in (("PutItem", lambda: self.put(b, t, "iso", 2)),
                               ("SC GetItem", lambda: self.read(b, t, "iso"))):
                try:
                    call()
                    served.append(f"{what} in {b} answered")
                except ClientError as e:
                    refused.append(f"{what} in {b}: {e.response['Error']['Code']}")
                except Exception as e:  # noqa: BLE001 -- a timeout or dropped connection
                    refused.append(f"{what} in {b}: {type(e).__name__}")
            ec = self.read(b, t, "iso", sc=False)
            self.put(a, t, "iso", 3)  # the majority side keeps serving
            other = self.read(a, t, "iso")
        finally:
            self.heal()
        ok = not served and ec == 1 and other == 3
        self.record("M10", claim, f"isolate {b}: PutItem and SC GetItem there, an EC GetItem "
                    f"there, a PutItem + SC GetItem in {a}; heal", PASS if ok else FAIL,
                    "; ".join(refused + served) + f"; EC read in {b}: {ec}; {a} read {other}")

    def conflicts(self, t: str, a: str, b: str) -> None:
        outcomes: dict[str, int] = {}
        lock = threading.Lock()

        def write(region: str, v: int) -> None:
            try:
                self.put(region, t, "conflict", v)
                code = "ok"
            except ClientError as e:
                code = e.response["Error"]["Code"]
            with lock:
                outcomes[code] = outcomes.get(code, 0) + 1
        rounds = 0
        for rounds in range(1, 31):
            ths = [threading.Thread(target=write, args=(r, rounds * 10 + j))
                   for r in (a, b) for j in range(2)]
            for th in ths:
                th.start()
            for th in ths:
                th.join()
            if outcomes.get("ReplicatedWriteConflictException"):
                break
        ok = bool(outcomes.get("ReplicatedWriteConflictException"))
        odd = sorted(set(outcomes) - {"ok", "ReplicatedWriteConflictException"})
        # A conflict is likely, not certain (AWS documents when it may happen, not that
        # a given race produces one): none seen is inconclusive, an unexpected error fails.
        verdict = FAIL if odd else PASS if ok else INCONCLUSIVE
        self.record("M08", "conflicting concurrent writes get ReplicatedWriteConflictException",
                    f"rounds of 4 concurrent PutItems to one item from {a} and {b}",
                    verdict, f"{rounds} round(s): {outcomes}"
                    + ("" if ok or odd else "; no conflict arose, which AWS's documents "
                       "allow"))


# ---- output ------------------------------------------------------------------------

def clip_words(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with "…" when cut
    (issue 25: evidence was cut mid-word)."""
    text = str(text)
    if len(text) <= limit:
        return text
    head = text[:limit - 1]
    space = head.rfind(" ")
    return (head[:space] if space > limit // 2 else head).rstrip(" ,;:") + "…"


def table_lines(claims: Sequence[Claim]) -> list[str]:
    w_id = max([5] + [len(c.id) for c in claims])
    w_v = max(len(UNOBSERVABLE), 12)
    out = [f"{'claim':<{w_id}}  {'verdict':<{w_v}}  what was tried / evidence"]
    for c in claims:
        out.append(f"{c.id:<{w_id}}  {c.verdict:<{w_v}}  {c.claim}")
        out.append(f"{'':<{w_id}}  {'':<{w_v}}    tried: {c.tried}")
        out.append(f"{'':<{w_id}}  {'':<{w_v}}    evidence: {c.evidence}")
    counts = {v: sum(c.verdict == v for c in claims)
              for v in (PASS, FAIL, INCONCLUSIVE, UNOBSERVABLE)}
    out.append(f"{counts[PASS]} pass, {counts[FAIL]} fail, {counts[INCONCLUSIVE]} "
               f"inconclusive, {counts[UNOBSERVABLE]} not observable here")
    return out


def write_outputs(out_dir: Path, target: str, claims: Sequence[Claim]) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = {"target": target, "time": _dt.datetime.now(_dt.timezone.utc).isoformat(
        timespec="seconds"), "claims": [asdict(c) for c in claims],
        "valid": not any(c.verdict == FAIL for c in claims)}
    j = out_dir / "conform.json"
    j.write_text(json.dumps(doc, indent=2) + "\n")
    colour = {PASS: "#1a7f37", FAIL: "#cf222e", INCONCLUSIVE: "#9a6700",
              UNOBSERVABLE: "#6e7781"}
    rows = "\n".join(
        f"<tr><td>{html.escape(c.id)}</td><td>{html.escape(c.claim)}</td>"
        f"<td>{html.escape(c.tried)}</td><td style='color:{colour[c.verdict]};"
        f"font-weight:bold'>{html.escape(c.verdict)}</td><td>{html.escape(c.evidence)}</td></tr>"
        for c in claims)
    page = (f"<!doctype html><meta charset=utf-8><title>gtcheck conform: {html.escape(target)}"
            "</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:"
            "collapse}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;"
            "text-align:left;overflow-wrap:break-word;max-width:40em}</style>"
            f"<h1>gtcheck conform: {html.escape(target)}</h1><p>{html.escape(doc['time'])}; "
            "claim IDs are SEMANTICS.md's.</p><table><tr><th>claim</th><th>what it says</th>"
            f"<th>what was tried</th><th>verdict</th><th>evidence</th></tr>{rows}</table>")
    h = out_dir / "conform.html"
    h.write_text(page)
    return j, h


# ---- the command ---------------------------------------------------------------------

def run_conform(target_spec: str, regions: str, out_dir: str | None, yes: bool,
                fis_role_arn: str | None) -> int:
    """`gtcheck conform` (its options: suite/conform_cmd.py): judge the endpoint set,
    print the table, write conform.json and conform.html; 1 if any claim fails."""
    from suite.config import parse_list
    from suite.targets import make_target

    region_list = parse_list(regions)
    if len(region_list) != 3 or len(set(region_list)) != 3:
        raise BadInput("--regions: give three distinct regions of one region set")
    replicas, witness = region_list, region_list[2]
    say = lambda line: click.echo(line, err=True)  # noqa: E731 -- progress on stderr
    if target_spec == "aws":
        target = make_target("aws", mode="async", regions=replicas, yes=yes,
                             fis_role_arn=fis_role_arn)
        target.say = say
        say(f"plan: create 3 small on-demand tables gtcheck-conform-* (tagged {RUN_TAG}) in "
            f"{', '.join(replicas)}, a few hundred requests (well under $0.01), delete them")
        target.ask_go_ahead()
    elif target_spec == "emulator":
        target = make_target("emulator", mode="async", regions=replicas, latency_scale=0.1)
    else:
        target = make_target(target_spec, mode="async", regions=replicas)
    target.setup(None)
    pause = resume = None
    if target_spec == "aws" and fis_role_arn:
        pause = lambda r: target.fault("fis-pause-replication", {"region": r})  # noqa: E731
        resume = lambda r: target.fault("fis-resume-replication", {"region": r})  # noqa: E731
    isolate = heal = cut = slow = None
    if getattr(target, "has_faults", False) and target_spec != "aws":
        pause = lambda r: target.fault("pause-replication", {"region": r})  # noqa: E731
        resume = lambda r: target.fault("resume-replication", {"region": r})  # noqa: E731
        isolate = lambda r: target.fault("isolate", {"region": r})  # noqa: E731
        heal = lambda: target.fault("heal", None)  # noqa: E731
        cut = lambda a, b: target.fault("cut", {"a": a, "b": b})  # noqa: E731
        slow = lambda r, ms: target.fault("slow", {"region": r, "ms": ms})  # noqa: E731
    data_clients: dict[str, Any] = {}

    def data(region: str) -> Any:
        if region not in data_clients:
            data_clients[region] = target.client(region, config=one_attempt_config(
                read_timeout_s=10.0, max_pool_connections=8))
        return data_clients[region]
    stream_clients: dict[str, Any] = {}

    def streams(region: str) -> Any:
        from workloads.streams import streams_client
        if region not in stream_clients:
            stream_clients[region] = streams_client(target, region, one_attempt_config(
                read_timeout_s=10.0, max_pool_connections=8))
        return stream_clients[region]
    try:
        c = Conformance(target._control_client, data, replicas, witness, pause=pause,
                        resume=resume, isolate=isolate, heal=heal, cut=cut, slow=slow,
                        pause_may_lag=target_spec == "aws", poll_s=2.0 if target_spec == "aws" else 0.05,
                        timeout_s=1800.0 if target_spec == "aws" else 60.0, say=say,
                        streams=streams)
        if target_spec == "aws":  # FIS pauses only a table the target calls its own
            target.adopt(c.async_table)
        claims = c.run()
    finally:
        target.teardown(None)
    for line in table_lines(claims):
        click.echo(line)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    j, h = write_outputs(Path(out_dir or Path("store") / "conform" / stamp), target_spec, claims)
    click.echo(f"written: {j} and {h}")
    return 1 if any(cl.verdict == FAIL for cl in claims) else 0
