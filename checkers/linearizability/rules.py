"""Which reading of `fail` and `nil` a history gets: Jepsen/Knossos, Porcupine or DynamoDB.

The same recorded line means different things to different tools, and the verdict follows
the meaning. Each set of rules is applied to every paired call before the model sees it:

- `knossos` (`--format edn`, Jepsen histories). Jepsen's `:fail` means the operation
  did not happen: knossos.history/complete marks the invocation of a `:fail` completion
  `:fails?` and knossos.history/without-failures removes both, whatever the `:f`
  (knossos/wgl.clj `check` runs complete -> with-synthetic-infos -> without-failures).
  `:info` means it may or may not have happened: the call stays open to the end of the
  history (knossos.history/with-synthetic-infos does the same for an invocation that
  never completed). A read whose value is nil is a read of an unknown value: the
  register and cas-register models of knossos/model.clj accept it in every state
  (`(or (nil? (:value op)) (= value (:value op)))`). A process id is never reused after
  `:info`: Jepsen gives a crashed worker a fresh process id, and
  knossos.history/complete-fold-op keeps a crashed invocation open, so a later invoke by
  the same process is an error there ("already running"); here it is bad input (the
  history validator's rule).
- `porcupine` (`--format porcupine-etcd` / `porcupine-kv`). Porcupine's etcd model
  reads a failed cas as "the compare did not match" (the register did not hold the
  expected value at some point in the call); a nil read means the register is empty.
  Every other failure does not occur in its logs.
- `dynamodb` (gtcheck's own JSONL). A cas answered `ConditionalCheckFailed` did observe
  the item: its condition was evaluated and was false. Any other definite failure
  (ReplicatedWriteConflict, throttling, validation, a refused connection) is a non-event.
  A nil read means the item was absent.
"""

from __future__ import annotations

from dataclasses import dataclass

from checkers.linearizability.models import FAIL, OK, Call
from gtcheck.errors import BadInput

COMPARE_MISMATCH = "compare-failed"  # what a failed cas kept as an observation carries
CONDITIONAL_CHECK_FAILED = frozenset(("ConditionalCheckFailed",
                                      "ConditionalCheckFailedException"))
_NIL_READ_MODELS = frozenset(("register", "cas-register"))


@dataclass(frozen=True)
class Rules:
    name: str
    description: str

    def failed_cas_observed(self, error: object) -> bool:
        """Did a definitely failed cas with this error observe "state != old"?"""
        if self.name == "porcupine":
            return True
        if self.name == "dynamodb":
            return error in CONDITIONAL_CHECK_FAILED
        return False  # knossos: a failure did not happen

    def nil_read_unknown(self, model_name: str) -> bool:
        return self.name == "knossos" and model_name in _NIL_READ_MODELS

    def apply(self, call: Call, model_name: str) -> Call | None:
        """The call as these rules mean it, or None when it says nothing."""
        if call.status == FAIL:
            if call.f == "cas" and self.failed_cas_observed(call.error):
                return call if call.error == COMPARE_MISMATCH else \
                    call.with_(error=COMPARE_MISMATCH)
            return None
        if call.status == OK and call.out is None and call.f == "read" and \
                self.nil_read_unknown(model_name):
            return None
        return call

    def to_json(self) -> dict:
        return {"name": self.name, "description": self.description}


RULES = {
    "knossos": Rules("knossos", (
        "Jepsen/Knossos: :fail did not happen (removed, whatever its f); :info may or "
        "may not have happened (open to the end); a nil read value is unknown (matches "
        "any state) in register and cas-register; a process id is never reused after "
        ":info.")),
    "porcupine": Rules("porcupine", (
        "Porcupine: a failed cas observed that the compare did not match; a failed read "
        "(:timed-out) and a crashed read say nothing; a nil read means empty; :info "
        "calls stay open to the end.")),
    "dynamodb": Rules("dynamodb", (
        "DynamoDB (gtcheck's own histories): a cas failed with ConditionalCheckFailed "
        "observed that the item did not hold the expected value; every other definite "
        "failure is a non-event; info calls may or may not have happened (open to the "
        "end); a nil read means the item was absent.")),
}
DEFAULT = "dynamodb"
FORMAT_RULES = {"jsonl": "dynamodb", "edn": "knossos", "porcupine-etcd": "porcupine",
                "porcupine-kv": "porcupine"}


def get_rules(rules: str | Rules | None) -> Rules:
    if rules is None:
        return RULES[DEFAULT]
    if isinstance(rules, Rules):
        return rules
    if rules in RULES:
        return RULES[rules]
    raise BadInput(f"unknown rules {rules!r} (expected one of {', '.join(RULES)})")
