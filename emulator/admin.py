"""The admin API over HTTP: fault injection and item version metadata, as JSON.

Routes (all answers JSON, one object):
- `GET /health` -> {"ok": true}
- `GET /status` -> the whole fault state (`Deployment.status()`)
- `POST /fault` with {"action": "cut", "args": ["us-east-1", "us-east-2"]} -> {"ok": true,
  "action": ..., "status": {...}}; actions as in `gtcheck emulator fault` (isolate, cut,
  cut-oneway, delay, heal, pause-replication, resume-replication, stop, start, skew-clock,
  status)
- `POST /version-map` with {"table": "t", "keys": ["k1", ...] | null, "key_attr": "pk",
  "value_attr": "v"} -> {"ok": true, "versions": {region: {key: {"value", "timestamp",
  "origin"}}}}, the shape checkers get as opts["versions"] (docs/CONVENTIONS.md)
- `POST /versions` with {"table": "t", "key": {"pk": {"S": "k1"}}} -> {"ok": true,
  "versions": {region: {"item", "timestamp", "origin", "deleted"} | null}}

A bad request answers 400 with {"ok": false, "error": "<message>"}; the server keeps going.

Guard (a web page in the user's browser must not be able to post faults or read versions:
a cross-site POST needs no CORS permission to be *sent*): every route but `GET /health`
requires the header `X-Gtcheck-Admin-Token` carrying the deployment's token, which is
written only to the state file (mode 0600) and printed by `gtcheck emulator serve`; a
request with an `Origin` header (every browser sends one on a cross-origin POST) or whose
`Host` is not exactly the admin API's own address (or `localhost:<port>` on a loopback
address: no DNS rebinding) is refused with 403 before anything else is looked at.
"""

from __future__ import annotations

import hmac
import json
import logging
import traceback
import urllib.parse
from typing import Any

from gtcheck.errors import GtcheckError

log = logging.getLogger("gtcheck.emulator")


TOKEN_HEADER = "X-Gtcheck-Admin-Token"


def refusal(headers: dict, own_netloc: str, token: str | None) -> str | None:
    """Why a request must be refused (the guard above), or None. `headers` have lower-case
    names; `own_netloc` is the admin API's `host:port`."""
    if "origin" in headers:
        return "requests from a web page (with an Origin header) are refused"
    host, _, port = own_netloc.rpartition(":")
    allowed = {own_netloc.lower()}
    if host.startswith("127.") or host in ("::1", "[::1]", "localhost"):
        allowed.add(f"localhost:{port}")
    if headers.get("host", "").strip().lower() not in allowed:
        return "the Host header is not this admin API's address"
    if token is not None and not hmac.compare_digest(
            headers.get(TOKEN_HEADER.lower(), "").encode(), token.encode()):
        return (f"missing or wrong {TOKEN_HEADER} (the token is in the emulator's state "
                "file, as \"admin_token\")")
    return None


def admin_handler(deployment: Any):
    def answer(status: int, obj: dict) -> tuple[int, list[str], bytes]:
        return status, ["Content-Type: application/json"], (json.dumps(obj) + "\n").encode()

    def handle(method: str, path: str, headers: dict, body: bytes) -> tuple[int, list[str], bytes]:
        try:
            if method == "GET" and path == "/health":
                return answer(200, {"ok": True})
            why = refusal(headers, urllib.parse.urlsplit(deployment.admin_url).netloc,
                          getattr(deployment, "admin_token", None))
            if why is not None:
                return answer(403, {"ok": False, "error": why})
            if method == "GET" and path == "/status":
                return answer(200, {"ok": True, "status": deployment.status()})
            if method != "POST" or path not in ("/fault", "/versions", "/version-map"):
                return answer(404, {"ok": False, "error": f"no route {method} {path}"})
            try:
                req = json.loads(body or b"{}")
            except (ValueError, RecursionError):
                return answer(400, {"ok": False, "error": "the body is not valid JSON"})
            if not isinstance(req, dict):
                return answer(400, {"ok": False, "error": "the body must be a JSON object"})
            if path == "/fault":
                action = req.get("action")
                args = req.get("args", [])
                if not isinstance(action, str) or not isinstance(args, list):
                    return answer(400, {"ok": False,
                                        "error": 'expected {"action": str, "args": [...]}'})
                status = deployment.fault(action, *args)
                return answer(200, {"ok": True, "action": action, "args": args, "status": status})
            if path == "/version-map":
                table, keys = req.get("table"), req.get("keys")
                if not isinstance(table, str) or not (keys is None or isinstance(keys, list)):
                    return answer(400, {"ok": False,
                                        "error": 'expected {"table": str, "keys": [str] | null}'})
                return answer(200, {"ok": True, "versions": deployment.version_map(
                    table, keys, key_attr=str(req.get("key_attr", "pk")),
                    value_attr=str(req.get("value_attr", "v")))})
            table, key = req.get("table"), req.get("key")
            if not isinstance(table, str) or not isinstance(key, dict):
                return answer(400, {"ok": False,
                                    "error": 'expected {"table": str, "key": {DynamoDB JSON}}'})
            return answer(200, {"ok": True, "versions": deployment.versions(table, key)})
        except GtcheckError as e:
            return answer(400, {"ok": False, "error": str(e)})
        except Exception as e:  # never let a bad admin call take the emulator down
            log.error("admin request failed:\n%s", traceback.format_exc())
            return answer(500, {"ok": False, "error": f"{type(e).__name__}: {e}"})

    return handle
