"""Issue 11 class 9: each format is read with its own tool's meaning of fail, info and nil.

Hand-made Jepsen-style EDN histories with the verdicts Knossos's definitions give
(knossos/history.clj `complete` + `without-failures`: a :fail did not happen, whatever its
f; `with-synthetic-infos` and the :info rule: a crashed call stays open to the end;
knossos/model.clj Register/CASRegister: a read of nil matches any state), derived by hand
in the comments and, independently of gtcheck's rules and models, by a brute-force
oracle over every order. Then the same lines under Porcupine's and DynamoDB's rules,
where the verdicts differ, and a seeded property test of random Jepsen-style histories
(failed cas and writes, nil reads, :info crashes, fresh process ids after a crash)
against the oracle.
"""

from __future__ import annotations

import random

import pytest
from click.testing import CliRunner

from checkers.linearizability import check
from results.formats import load
from results.history import INVOKE, NEMESIS
from suite.cli import main
from suite.errors import BadInput


def edn(tmp_path, text, name="h.edn"):
    p = tmp_path / name
    p.write_text(text.strip() + "\n")
    return p


def op(p, typ, f, value="nil", extra=""):
    return f"{{:process {p}, :type :{typ}, :f :{f}, :value {value}{extra}}}"


# --- the oracle: Knossos's definitions, all orders ----------------------------------

def knossos_oracle(ops, model="cas-register", initial=None):
    """Is there a linearization by Knossos's definitions? Brute force: every subset of
    crashed calls, every order that respects real time (a call that returned before
    another was invoked comes first), the model stepped as knossos/model.clj does."""
    calls, open_ = [], {}
    client = [o for o in ops if o.process != NEMESIS]
    for pos, o in enumerate(client):
        if o.type == INVOKE:
            open_[o.process] = (pos, o)
            continue
        pos0, inv = open_.pop(o.process)
        if o.type == "fail":
            continue  # knossos.history/without-failures: did not happen
        ret = pos if o.type == "ok" else float("inf")  # :info: open to the end
        value = o.value if o.type == "ok" else inv.value  # history/complete
        calls.append((pos0, ret, o.f, value, o.type == "ok"))
    calls += [(pos0, float("inf"), inv.f, inv.value, False) for pos0, inv in open_.values()]

    def step(state, f, value):
        if f == "write":
            return True, value
        if f == "read":
            return value is None or value == state, state  # nil: unknown value
        old, new = value
        return (True, new) if state == old else (False, state)

    def dfs(remaining, state):
        if not any(c[4] for c in remaining):
            return True  # the crashed calls left need never take effect
        for c in remaining:
            if any(d[1] < c[0] for d in remaining if d is not c):
                continue  # something still unplaced returned before c was invoked
            ok, new = step(state, c[2], c[3])
            if ok and dfs([d for d in remaining if d is not c], new):
                return True
            if not c[4] and dfs([d for d in remaining if d is not c], state):
                return True  # a crashed call dropped (never took effect)
        return False

    return dfs(calls, initial)


# --- hand-made histories -------------------------------------------------------------

FAILED_CAS = "\n".join([
    op(0, "invoke", "write", 1), op(0, "ok", "write", 1),
    op(1, "invoke", "cas", "[1 2]"), op(1, "fail", "cas", "[1 2]"),
    op(2, "invoke", "read"), op(2, "ok", "read", 1)])
# Knossos: the failed cas is removed; write 1, read 1: linearizable (True). Porcupine:
# the failed cas says the register did not hold 1 while it surely did: False.

FAILED_WRITE = "\n".join([
    op(0, "invoke", "write", 1), op(0, "ok", "write", 1),
    op(1, "invoke", "write", 2), op(1, "fail", "write", 2),
    op(2, "invoke", "read"), op(2, "ok", "read", 2)])
# Knossos: the failed write of 2 did not happen; nothing else writes 2: False.

NIL_READ = "\n".join([
    op(0, "invoke", "write", 1), op(0, "ok", "write", 1),
    op(1, "invoke", "read"), op(1, "ok", "read", "nil"),
    op(1, "invoke", "cas", "[1 3]"), op(1, "ok", "cas", "[1 3]")])
# Knossos: a nil read is an unknown value, legal in any state: True. Read as "the
# register is empty" (Porcupine, DynamoDB) it cannot follow the finished write: False.

CRASH_TOOK_EFFECT = "\n".join([
    op(0, "invoke", "write", 0), op(0, "ok", "write", 0),
    op(1, "invoke", "write", 1), op(1, "info", "write", 1, ", :error :timeout"),
    op(2, "invoke", "read"), op(2, "ok", "read", 1),
    op(2, "invoke", "read"), op(2, "ok", "read", 1)])
# Knossos: the crashed write of 1 may have happened, any time after its invocation: True.

CRASH_THEN_BACK = "\n".join([
    op(0, "invoke", "write", 0), op(0, "ok", "write", 0),
    op(1, "invoke", "write", 1), op(1, "info", "write", 1, ", :error :timeout"),
    op(2, "invoke", "read"), op(2, "ok", "read", 1),
    op(2, "invoke", "read"), op(2, "ok", "read", 0)])
# read 1 needs the crashed write before it; then nothing writes 0 again: False.

CRASH_BEFORE_INVOKE = "\n".join([
    op(2, "invoke", "read"), op(2, "ok", "read", 1),
    op(1, "invoke", "write", 1), op(1, "info", "write", 1, ", :error :timeout")])
# the crashed write is concurrent only from its invocation on; the read of 1 returned
# before it began (and the register starts nil): False.

FRESH_PROCESS_AFTER_CRASH = "\n".join([
    op(0, "invoke", "write", 0), op(0, "ok", "write", 0),
    op(0, "invoke", "cas", "[0 1]"), op(0, "info", "cas", "[0 1]", ", :error :timeout"),
    # Jepsen's worker continues as process 0 + concurrency (3); the crashed cas stays open
    op(3, "invoke", "read"), op(3, "ok", "read", 1),
    op(3, "invoke", "write", 2), op(3, "ok", "write", 2),
    op(1, "invoke", "read"), op(1, "ok", "read", 2),
    op(1, "invoke", "cas", "[1 4]"), op(1, "fail", "cas", "[1 4]"),
    '{:process :nemesis, :type :info, :f :start, :value nil}',
    '{:process :nemesis, :type :info, :f :start, :value [:n1]}',
    op(1, "invoke", "read"), op(1, "ok", "read", 2)])
# the crashed cas [0 1] happened before the read of 1; then write 2, reads of 2; the
# failed cas is removed; nemesis ops are not client ops: True.

CRASHED_CAS_CANNOT_HELP = "\n".join([
    op(0, "invoke", "write", 0), op(0, "ok", "write", 0),
    op(1, "invoke", "cas", "[5 1]"), op(1, "info", "cas", "[5 1]"),
    op(2, "invoke", "read"), op(2, "ok", "read", 1)])
# the crashed cas expects 5, which the register never holds: it cannot take effect: False.

HAND_MADE = [
    ("failed-cas", FAILED_CAS, True),
    ("failed-write", FAILED_WRITE, False),
    ("nil-read", NIL_READ, True),
    ("crash-took-effect", CRASH_TOOK_EFFECT, True),
    ("crash-then-back", CRASH_THEN_BACK, False),
    ("crash-before-invoke", CRASH_BEFORE_INVOKE, False),
    ("fresh-process-after-crash", FRESH_PROCESS_AFTER_CRASH, True),
    ("crashed-cas-cannot-help", CRASHED_CAS_CANNOT_HELP, False),
]


@pytest.mark.parametrize("name,text,verdict", HAND_MADE, ids=[h[0] for h in HAND_MADE])
def test_hand_made_jepsen_histories_get_knossos_verdicts(tmp_path, name, text, verdict):
    ops = load(edn(tmp_path, text), "edn")
    assert knossos_oracle(ops) is verdict  # the oracle agrees with the hand derivation
    r = check(ops, "cas-register", rules="knossos")
    assert r["valid"] is verdict
    assert r["rules"]["name"] == "knossos"
    # and through the command, where --format edn picks Knossos's rules
    out = CliRunner().invoke(main, ["check", "--format", "edn", "--model", "cas-register",
                                    "--json", str(tmp_path / "h.edn")])
    assert out.exit_code == (0 if verdict else 1), out.output
    assert '"name": "knossos"' in out.output


def test_the_same_lines_under_porcupine_and_dynamodb_rules(tmp_path):
    failed_cas = load(edn(tmp_path, FAILED_CAS), "edn")
    assert check(failed_cas, "cas-register", rules="knossos")["valid"] is True
    assert check(failed_cas, "cas-register", rules="porcupine")["valid"] is False
    # DynamoDB: only ConditionalCheckFailed observed the item; a bare failure did not
    assert check(failed_cas, "cas-register", rules="dynamodb")["valid"] is True
    ccf = [o.replace(error="ConditionalCheckFailed") if o.type == "fail" else o
           for o in failed_cas]
    assert check(ccf, "cas-register", rules="dynamodb")["valid"] is False
    conflict = [o.replace(error="ReplicatedWriteConflict") if o.type == "fail" else o
                for o in failed_cas]
    assert check(conflict, "cas-register", rules="dynamodb")["valid"] is True
    nil_read = load(edn(tmp_path, NIL_READ), "edn")
    assert check(nil_read, "cas-register", rules="knossos")["valid"] is True
    assert check(nil_read[:4], "register", rules="knossos")["valid"] is True
    assert check(nil_read[:4], "register", rules="dynamodb")["valid"] is False
    for rules in ("porcupine", "dynamodb"):
        assert check(nil_read, "cas-register", rules=rules)["valid"] is False
    with pytest.raises(BadInput, match="unknown rules"):
        check(nil_read, "cas-register", rules="jepsen")


def test_a_process_id_reused_after_a_crash_is_bad_input_as_in_knossos(tmp_path):
    # Jepsen never reuses it (the worker gets a fresh id); Knossos's complete-fold-op
    # keeps the crashed invocation open, so a second invoke is "already running"
    text = "\n".join([op(0, "invoke", "write", 1), op(0, "info", "write", 1),
                      op(0, "invoke", "read"), op(0, "ok", "read", 1)])
    p = edn(tmp_path, text)
    with pytest.raises(BadInput, match=r"h.edn:3: process 0 invokes after an info"):
        load(p, "edn")
    out = CliRunner().invoke(main, ["check", "--format", "edn", "--model", "register",
                                    str(p)])
    assert out.exit_code == 3 and "h.edn:3:" in out.output


def random_jepsen_history(rng: random.Random, n_ops: int, concurrency: int = 3) -> str:
    """A Jepsen-style EDN history: random interleaving, outcomes ok/fail/info, nil reads,
    a fresh process id (process + concurrency) after every :info."""
    procs = list(range(concurrency))
    pending: dict[int, tuple[str, str]] = {}
    lines, done = [], 0
    while done < n_ops or pending:
        slot = rng.randrange(concurrency)
        p = procs[slot]
        if p in pending:
            f, v = pending.pop(p)
            outcome = rng.choices(["ok", "fail", "info"], [6, 2, 2])[0]
            if f == "read":
                out = rng.choice(["nil", "0", "1", "2"]) if outcome == "ok" else "nil"
                lines.append(op(p, outcome, "read", out))
            else:
                lines.append(op(p, outcome, f, v))
            if outcome == "info":
                procs[slot] = p + concurrency
            done += 1
        elif done < n_ops:
            f = rng.choice(["read", "write", "cas"])
            v = {"read": "nil", "write": str(rng.randrange(3)),
                 "cas": f"[{rng.randrange(3)} {rng.randrange(3)}]"}[f]
            pending[p] = (f, v)
            lines.append(op(p, "invoke", f, v))
    return "\n".join(lines)


def test_random_jepsen_histories_agree_with_the_knossos_oracle(tmp_path):
    rng = random.Random(11)
    verdicts = {True: 0, False: 0}
    for i in range(300):
        text = random_jepsen_history(rng, rng.randrange(2, 8))
        ops = load(edn(tmp_path, text), "edn")
        expected = knossos_oracle(ops)
        got = check(ops, "cas-register", rules="knossos")["valid"]
        assert got is expected, f"history {i}:\n{text}"
        verdicts[expected] += 1
    assert min(verdicts.values()) >= 50  # both verdicts well represented
