"""Agreement with Porcupine on its own corpus of recorded histories.

Every history shipped with Porcupine (../shared/peer-histories/porcupine beside the
repository: 102 Jepsen etcd logs checked as a cas-register, 6 kv logs checked per key)
must get the verdict recorded in verdicts.json. etcd_095.log is empty (the cluster never
started) and is skipped, as the corpus README says.
"""

import json
from pathlib import Path

import pytest

from checkers.linearizability import check
from results.formats import load

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO.parent / "shared" / "peer-histories" / "porcupine"
VERDICTS = json.loads((CORPUS / "verdicts.json").read_text()) if CORPUS.exists() else {}

CASES = [("jepsen", name, "porcupine-etcd", "cas-register", want)
         for name, want in sorted(VERDICTS.get("jepsen", {}).items())
         if name != "etcd_095.log"] + \
        [("kv", name, "porcupine-kv", "kv", want)
         for name, want in sorted(VERDICTS.get("kv", {}).items())]


def test_corpus_is_present_and_complete():
    assert CORPUS.exists(), f"peer histories not found at {CORPUS}"
    assert len([c for c in CASES if c[0] == "jepsen"]) == 102
    assert len([c for c in CASES if c[0] == "kv"]) == 6


@pytest.mark.parametrize("sub,name,fmt,model,want", CASES, ids=[c[1] for c in CASES])
def test_verdict_matches_porcupine(sub, name, fmt, model, want):
    ops = load(CORPUS / sub / name, fmt)
    result = check(ops, model, timeout=120, rules="porcupine")
    assert result["valid"] is want, result
    if want is False:
        ce = result["counterexample"]
        assert isinstance(ce["op"], int)
        assert all(isinstance(i, int) for i in ce["prefix"] + ce["concurrent"])
        assert ce["states"]


def test_etcd_095_is_empty_as_documented():
    assert load(CORPUS / "jepsen" / "etcd_095.log", "porcupine-etcd") == []


def test_kv_whole_map_model_agrees_with_partitioning():
    for name in ("c01-ok.txt", "c01-bad.txt"):
        ops = load(CORPUS / "kv" / name, "porcupine-kv")
        whole = check(ops, "kv", partition=False, timeout=60, rules="porcupine")
        assert whole["valid"] is VERDICTS["kv"][name]
        assert whole["partitioned"] is False and whole["keys"] == 1
