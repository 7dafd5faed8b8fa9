"""A small headless-Chromium driver over the Chrome DevTools Protocol, for the browser
tests and bench/bench_report.py.

It launches Debian's `chromium` with a fresh profile and `--remote-debugging-port=0`,
reads the port Chromium chose from `DevToolsActivePort` in the profile, and talks to the
page target over a WebSocket (the `websocket-client` package from PyPI: no browser
download, no Node). It collects every console error and uncaught exception, so a test can
assert that a page ran cleanly, evaluates expressions, and takes screenshots.

If chromium is not installed this raises `BrowserMissing` with the command that installs
it. The browser tests call `require_browser()`: they fail loudly rather than skip
(scripts/test.sh and tests/browser/setup.sh install it, and scripts/test.sh stops when it
cannot), unless GTCHECK_NO_BROWSER=1 says to run without them: then each skips, saying why.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio"]


class BrowserMissing(RuntimeError):
    pass


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissing("chromium is not installed: the browser tests need Debian's "
                         "chromium package. Install it with `bash tests/browser/setup.sh` "
                         "(runs: apt-get update && apt-get install -y chromium).")


NO_BROWSER_ENV = "GTCHECK_NO_BROWSER"


def require_browser() -> None:
    """In a test: fail with the install command when chromium is missing, or skip with
    that reason when GTCHECK_NO_BROWSER=1 (scripts/test.sh's way to run without it)."""
    import pytest
    try:
        chromium_path()
    except BrowserMissing as e:
        if os.environ.get(NO_BROWSER_ENV) == "1":
            pytest.skip(f"{NO_BROWSER_ENV}=1 and {e}")
        pytest.fail(str(e), pytrace=False)


class Browser:
    """One headless Chromium with one page. Use as a context manager."""

    def __init__(self, *, width: int = 1400, height: int = 1000, timeout_s: float = 30.0):
        import websocket  # websocket-client; imported here so a missing package says so

        self.timeout_s = timeout_s
        self.profile = tempfile.mkdtemp(prefix="gtcheck-chromium-")
        self.proc = subprocess.Popen(
            [chromium_path(), *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = self._wait_for_port()
        self.base = f"http://127.0.0.1:{port}"
        ws_url = self._page_ws_url()
        self.ws = websocket.create_connection(ws_url, timeout=timeout_s,
                                              suppress_origin=True)
        self._next_id = 0
        self.events: list[dict] = []
        self.console_errors: list[str] = []
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)

    def _wait_for_port(self) -> int:
        marker = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with status {self.proc.returncode}")
            if marker.exists():
                lines = marker.read_text().split()
                if lines:
                    return int(lines[0])
            time.sleep(0.05)
        raise RuntimeError("chromium did not open its DevTools port in time")

    def _page_ws_url(self) -> str:
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            with urllib.request.urlopen(self.base + "/json/list", timeout=5) as r:
                targets = json.load(r)
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
            time.sleep(0.05)
        raise RuntimeError("chromium has no page target")

    # --- protocol --------------------------------------------------------------------
    def _record(self, msg: dict) -> None:
        self.events.append(msg)
        method = msg.get("method")
        params = msg.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            texts = [a.get("value", a.get("description", "")) for a in params.get("args", [])]
            self.console_errors.append("console.error: " + " ".join(map(str, texts)))
        elif method == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            desc = d.get("exception", {}).get("description") or d.get("text")
            self.console_errors.append(f"uncaught exception: {desc}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            e = params["entry"]
            self.console_errors.append(f"log error ({e.get('source')}): {e.get('text')} "
                                       f"{e.get('url', '')}")

    def send(self, method: str, **params: Any) -> dict:
        self._next_id += 1
        my_id = self._next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self._record(msg)

    def wait_event(self, method: str, timeout_s: float | None = None) -> dict:
        for msg in self.events:
            if msg.get("method") == method:
                self.events.remove(msg)
                return msg
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.05, deadline - time.monotonic()))
            msg = json.loads(self.ws.recv())
            self._record(msg)
            if msg.get("method") == method:
                self.events.remove(msg)
                return msg
        raise TimeoutError(f"no {method} within {timeout_s or self.timeout_s} s")

    # --- page helpers ----------------------------------------------------------------
    def open(self, url: str) -> float:
        """Navigate and wait for the load event; returns the seconds it took."""
        self.events.clear()
        t0 = time.perf_counter()
        self.send("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")
        return time.perf_counter() - t0

    def eval(self, expression: str) -> Any:
        r = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluating {expression!r}: {r['exceptionDetails']}")
        return r.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout_s: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(0.05)
        raise TimeoutError(f"{expression!r} stayed false for {timeout_s} s")

    def screenshot(self, path: str | os.PathLike, *, full_page: bool = True) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            metrics = self.send("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"],
                              "height": min(size["height"], 6000), "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", **params)["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
