"""The end-of-run summary separates violations from the anomalies the mode allows."""

from suite.core import anomaly_counts

RESULTS = {"checkers": {
    "stale-reads": {"valid": True, "anomaly_counts": {"stale-read": 3},
                    "anomalies": [{"kind": "stale-read", "expected": True}]},
    "monotonic-reads": {"valid": False, "anomaly_counts": {"non-monotonic-read": 2},
                        "anomalies": [{"kind": "non-monotonic-read", "expected": False}]},
    "stats": {"valid": True},
}}


def test_counts_split_by_whether_the_mode_allows_them():
    assert anomaly_counts(RESULTS) == {"stale-read": 3, "non-monotonic-read": 2}
    assert anomaly_counts(RESULTS, expected=True) == {"stale-read": 3}
    assert anomaly_counts(RESULTS, expected=False) == {"non-monotonic-read": 2}


def test_a_kind_with_no_listed_example_counts_as_a_violation():
    r = {"checkers": {"x": {"valid": False, "anomaly_counts": {"odd": 1}}}}
    assert anomaly_counts(r, expected=False) == {"odd": 1}
    assert anomaly_counts(r, expected=True) == {}
