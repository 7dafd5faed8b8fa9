"""Faults and limits applied inside the clients: they work against any target, AWS included.

On real AWS there is no admin API to cut a region off, but a test can still ask what the
clients see when *they* lose a region. `ClientHooks` is installed on every data-plane boto3
client a target makes (botocore's event hooks, so the request path is boto3's own) and
applies, per region:

- `client-partition` (`{"region": R}`): every request to R is dropped before it is sent;
  the call raises EndpointConnectionError, which the history records as `fail` (a refused
  connection: the request never left, docs/CONVENTIONS.md "Client outcome classes");
- `client-latency` (`{"region": R, "ms": MS}`): every request to R waits MS first;
- `client-timeout` (`{"region": R, "ms": MS}`): requests to R are sent and executed, but
  the client waits MS and then gives up with ReadTimeoutError, recorded as `info` (the
  outcome is unknown: Jepsen's :info), exactly as a real timeout;
- `heal` ends them all; `client-heal` (`{"region": R}`) ends R's.

It also counts data-plane requests for `--max-requests` (`RequestBudget`): once the main
phase's share is spent it calls `on_exhausted` (the run stops, faults heal, final reads
run), and past the hard limit no request is sent at all (the call raises
`RequestBudgetExhausted`, a refused request: `fail`).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Mapping

from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from suite.errors import BadInput

CLIENT_FAULTS = ("client-partition", "client-latency", "client-timeout", "client-heal",
                 "heal")
FAULT_MS_MAX = 600_000


class RequestBudgetExhausted(EndpointConnectionError):
    """`--max-requests` reached: the request was not sent (a definite failure)."""

    fmt = "gtcheck --max-requests reached: request to {endpoint_url} not sent"


class RequestBudget:
    """At most `limit` data-plane requests; `on_exhausted()` once `limit - reserve` are
    spent (the reserve is for the final reads after the heal)."""

    def __init__(self, limit: int, *, reserve: int = 0,
                 on_exhausted: Callable[[], None] | None = None):
        if limit < 1:
            raise BadInput(f"--max-requests must be >= 1, got {limit}")
        self.limit = limit
        self.soft = max(1, limit - max(0, reserve))
        self.on_exhausted = on_exhausted
        self.used = 0
        self._lock = threading.Lock()
        self._told = False

    def take(self) -> bool:
        """Count one request; False when it must not be sent."""
        with self._lock:
            if self.used >= self.limit:
                return False
            self.used += 1
            tell = self.used >= self.soft and not self._told
            self._told = self._told or tell
        if tell and self.on_exhausted is not None:
            self.on_exhausted()
        return True


class ClientHooks:
    """Per-region client-side faults and the request budget, as botocore event handlers."""

    def __init__(self) -> None:
        self._faults: dict[str, tuple[str, float]] = {}
        self.budget: RequestBudget | None = None

    # ---- the fault API (FaultInjector-like, for nemesis/client_faults.py) -----------
    def fault(self, action: str, value: Mapping[str, Any] | None = None) -> dict:
        value = dict(value or {})
        if action not in CLIENT_FAULTS:
            raise BadInput(f"unknown client fault {action!r} (known: {', '.join(CLIENT_FAULTS)})")
        if action == "heal":
            self._faults.clear()
            return self.status()
        region = value.get("region")
        if not isinstance(region, str) or not region:
            raise BadInput(f"{action} needs {{\"region\": R}}, got {value!r}")
        if action == "client-heal":
            self._faults.pop(region, None)
            return self.status()
        ms = 0.0
        if action != "client-partition":
            try:
                ms = float(value.get("ms"))
            except (TypeError, ValueError):
                raise BadInput(f"{action} needs \"ms\" (a number), got {value!r}") from None
            if not 0 <= ms <= FAULT_MS_MAX:
                raise BadInput(f"{action}: ms must be between 0 and {FAULT_MS_MAX}")
        self._faults[region] = (action, ms)
        return self.status()

    def status(self) -> dict:
        return {r: {"fault": a, "ms": ms} for r, (a, ms) in sorted(self._faults.items())}

    # ---- botocore hooks --------------------------------------------------------------
    def install(self, client: Any, region: str) -> None:
        events = client.meta.events
        events.register("before-send.dynamodb", lambda request, **kw:
                        self._before_send(region, request))
        events.register("after-call.dynamodb", lambda **kw: self._after_call(region, kw))

    def _before_send(self, region: str, request: Any) -> None:
        budget = self.budget
        if budget is not None and not budget.take():
            raise RequestBudgetExhausted(endpoint_url=request.url)
        fault = self._faults.get(region)
        if fault is None:
            return None
        action, ms = fault
        if action == "client-partition":
            raise EndpointConnectionError(endpoint_url=request.url)
        if action == "client-latency":
            time.sleep(ms / 1000.0)
        return None  # None: botocore sends the request itself

    def _after_call(self, region: str, kw: Mapping[str, Any]) -> None:
        fault = self._faults.get(region)
        if fault is not None and fault[0] == "client-timeout":
            time.sleep(fault[1] / 1000.0)
            raise ReadTimeoutError(endpoint_url=f"({region}, client-timeout fault)")
