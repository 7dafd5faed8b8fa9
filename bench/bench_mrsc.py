"""Benchmark: what MRSC costs over asynchronous replication, through boto3 (issue 4).

Two figures, each measured against a baseline taken in the same run:

1. Overhead at `--latency-scale 0`: the median latency of an MRSC PutItem and of an SC
   GetItem (read fence through the journal) minus the median of an async-mode PutItem,
   per region, from one client thread. The calls to the async and strong deployments are
   interleaved so both see the same machine load. Bar: at most 2 ms.
2. At latency scale 1: the median MRSC write latency per region against the round trip to
   that region's nearest quorum member (from the WAN model's one-way latencies) plus the
   overhead measured in (1), on top of what a plain write costs on this machine right now:
   an async-mode PutItem at scale 1 (a local write: no WAN wait), interleaved call by call
   with the MRSC writes so both see the same load. expected = RTT + async put + overhead.
   Bar: within 20%. Shown for three replicas and for two replicas plus a witness.

Run: python bench/bench_mrsc.py [--n 400] [--n-wan 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulator import testing  # noqa: E402
from emulator.deployment import Deployment  # noqa: E402

US = ("us-east-1", "us-east-2", "us-west-2")
OVERHEAD_MS_MAX = 2.0
WAN_TOLERANCE = 0.20


def client(d: Deployment, region: str):
    return testing.client(d.endpoints[region], region)  # boto3, retries off


def make_table(d: Deployment, strong: bool) -> None:
    testing.create_global_table(d, "bench", mode="STRONG" if strong else "EVENTUAL",
                                witness=d.witness)


def timed_ms(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def put(ddb, k: str, i: int):
    return lambda: ddb.put_item(TableName="bench",
                                Item={"pk": {"S": k}, "n": {"N": str(i)}})


def sc_get(ddb, k: str):
    return lambda: ddb.get_item(TableName="bench", Key={"pk": {"S": k}}, ConsistentRead=True)


def overhead_at_scale_0(n: int) -> dict[str, tuple[float, float]]:
    """Per region: (MRSC put median, MRSC put minus async put) at scale 0, in ms."""
    print(f"== 1. latency scale 0: median of {n} calls per region, one client thread ==")
    print(f"{'region':<11} {'async put':>10} {'MRSC put':>10} {'SC get':>10} "
          f"{'put +':>8} {'SC get +':>9}  (ms; bar +{OVERHEAD_MS_MAX} ms)")
    overhead = {}
    ok = True
    with Deployment(list(US), mode="async", latency_scale=0) as a, \
            Deployment(list(US), mode="strong", latency_scale=0) as s:
        make_table(a, strong=False)
        make_table(s, strong=True)
        for region in US:
            ca, cs = client(a, region), client(s, region)
            k = f"k-{region}"
            for i in range(30):  # warm up connections and code paths
                put(ca, k, i)(), put(cs, k, i)(), sc_get(cs, k)()
            samples: dict[str, list[float]] = {"async": [], "put": [], "get": []}
            for i in range(n):
                samples["async"].append(timed_ms(put(ca, k, i)))
                samples["put"].append(timed_ms(put(cs, k, i)))
                samples["get"].append(timed_ms(sc_get(cs, k)))
            med = {name: statistics.median(v) for name, v in samples.items()}
            d_put, d_get = med["put"] - med["async"], med["get"] - med["async"]
            overhead[region] = (med["put"], d_put)
            ok &= d_put <= OVERHEAD_MS_MAX and d_get <= OVERHEAD_MS_MAX
            print(f"{region:<11} {med['async']:>10.3f} {med['put']:>10.3f} {med['get']:>10.3f} "
                  f"{d_put:>+8.3f} {d_get:>+9.3f}")
    print(f"overhead bar (<= {OVERHEAD_MS_MAX} ms): {'PASS' if ok else 'FAIL'}\n")
    return overhead


def wan_latency(n: int, overhead: dict[str, tuple[float, float]], witness: bool) -> bool:
    regions = list(US[:2] if witness else US)
    label = "two replicas + witness us-west-2" if witness else "three replicas"
    print(f"== 2. latency scale 1, {label}: median of {n} writes per region ==")
    print(f"{'region':<11} {'nearest':<11} {'RTT':>6} {'async':>6} {'overh':>6} "
          f"{'expected':>9} {'measured':>9} {'ratio':>6}  (ms; bar within {WAN_TOLERANCE:.0%})")
    ok = True
    with Deployment(regions, mode="strong", witness="us-west-2" if witness else None,
                    latency_scale=1.0) as d, \
            Deployment(regions, mode="async", latency_scale=1.0) as a:
        make_table(d, strong=True)
        make_table(a, strong=False)
        wan = d.cluster.wan
        participants = regions + ([d.witness] if d.witness else [])
        for region in regions:
            c, ca = client(d, region), client(a, region)
            k = f"k-{region}"
            for i in range(5):
                put(c, k, i)(), put(ca, k, i)()
            strong, plain = [], []
            for i in range(n):
                plain.append(timed_ms(put(ca, k, i)))
                strong.append(timed_ms(put(c, k, i)))
            measured, base = statistics.median(strong), statistics.median(plain)
            nearest = min((p for p in participants if p != region),
                          key=lambda p: wan.one_way_ms(region, p) + wan.one_way_ms(p, region))
            rtt = wan.one_way_ms(region, nearest) + wan.one_way_ms(nearest, region)
            extra = max(overhead[region][1], 0.0)
            expected = rtt + base + extra
            ratio = measured / expected
            ok &= abs(ratio - 1) <= WAN_TOLERANCE
            print(f"{region:<11} {nearest:<11} {rtt:>6.1f} {base:>6.2f} {extra:>6.2f} "
                  f"{expected:>9.2f} {measured:>9.2f} {ratio:>6.2f}")
    print(f"scale-1 bar (within {WAN_TOLERANCE:.0%}): {'PASS' if ok else 'FAIL'}\n")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="calls per region at scale 0")
    parser.add_argument("--n-wan", type=int, default=40, help="writes per region at scale 1")
    args = parser.parse_args()
    if args.n < 1 or args.n_wan < 1:
        parser.error("--n and --n-wan must be positive")
    overhead = overhead_at_scale_0(args.n)
    wan_latency(args.n_wan, overhead, witness=False)
    wan_latency(args.n_wan, overhead, witness=True)


if __name__ == "__main__":
    main()
