"""M08: conflicting concurrent writes are both conditioned on the same prior version; the
first in the journal wins, the other is skipped everywhere and its origin answers
ReplicatedWriteConflictException (HTTP 409, retryable). Two regions increment one counter
concurrently: every success is reflected, the final value equals the number of successes."""

from __future__ import annotations

import threading

from botocore.exceptions import ClientError

from mrsc_scenario_support import client, error_code, increment, read_n, strong_table


def test_two_regions_increment_one_counter():
    with strong_table(scale=0.2) as d:
        results = {"ok": 0, "conflict": 0}
        other: list = []
        lock = threading.Lock()
        shapes = []

        def run(region: str) -> None:
            ddb = client(d, region)  # SDK retries off: every conflict is visible
            for _ in range(25):
                try:
                    increment(ddb, "counter")
                    with lock:
                        results["ok"] += 1
                except ClientError as e:
                    with lock:
                        if error_code(e) == "ReplicatedWriteConflictException":
                            results["conflict"] += 1
                            shapes.append((e.response["ResponseMetadata"]["HTTPStatusCode"],
                                           e.response["Error"]["Message"]))
                        else:
                            other.append(e)

        threads = [threading.Thread(target=run, args=(r,))
                   for r in ("us-east-1", "us-west-2") for _ in range(2)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert not other, other[:3]
        assert results["ok"] + results["conflict"] == 100
        assert results["conflict"] > 0, "concurrent increments must conflict sometimes"
        assert all(status == 409 for status, _ in shapes)
        for r in d.regions:
            assert read_n(client(d, r), "counter", consistent=True) == results["ok"]


def test_conflict_is_retried_by_the_sdk():
    """botocore's legacy retry rules match the 409 answer; the counter ends exact."""
    with strong_table(scale=0.2) as d:
        retried = []

        def run(region: str) -> None:
            ddb = client(d, region, attempts=10, mode="legacy")
            for _ in range(10):
                out = ddb.update_item(TableName="mrsc", Key={"pk": {"S": "c"}},
                                      UpdateExpression="ADD n :one",
                                      ExpressionAttributeValues={":one": {"N": "1"}})
                retried.append(out["ResponseMetadata"]["RetryAttempts"])

        threads = [threading.Thread(target=run, args=(r,)) for r in d.regions]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert len(retried) == 30 and max(retried) > 0
        for r in d.regions:
            assert read_n(client(d, r), "c", consistent=True) == 30
