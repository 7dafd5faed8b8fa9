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
"""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any

from gtcheck.errors import GtcheckError

log = logging.getLogger("gtcheck.emulator")


def admin_handler(deployment: Any):
    def answer(status: int, obj: dict) -> tuple[int, list[str], bytes]:
        return status, ["Content-Type: application/json"], (json.dumps(obj) + "\n").encode()

    def handle(method: str, path: str, headers: dict, body: bytes) -> tuple[int, list[str], bytes]:
        try:
            if method == "GET" and path == "/health":
                return answer(200, {"ok": True})
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
