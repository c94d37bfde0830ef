"""Headless Chromium driven over the DevTools protocol, for the HTML report checks.

No websocket and no port: Chromium's ``--remote-debugging-pipe`` reads
protocol messages (JSON, each ended by a NUL byte) on fd 3 and writes on fd 4,
the transport Puppeteer uses with ``pipe: true``. Used by tests/test_browser.py
and bench/report_size.py::

    with Chromium() as browser:
        page = browser.open(Path("report.html").resolve().as_uri())
        page.evaluate("document.title"), page.requests, page.console
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Where Debian's chromium package puts the browser (CI installs it in .ci/run).
CHROMIUM = os.environ.get("PROVENANCE_CHROMIUM", "/usr/bin/chromium")
#: Flags for a quiet, offline, throwaway browser.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
)


def chromium_path() -> str | None:
    """The Chromium binary, or None when it is not installed."""
    if os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium") or shutil.which("chromium-browser")


class ProtocolError(RuntimeError):
    """Chromium answered a DevTools command with an error, closed the pipe or timed out."""


@dataclass
class Page:
    """One tab: its session, what it fetched and what it logged."""

    browser: Chromium
    session: str
    url: str
    load_s: float = 0.0
    #: URLs of every request the page started (document, images, anything).
    requests: list[str] = field(default_factory=list)
    #: Console and log messages (CSP violations land here).
    console: list[str] = field(default_factory=list)
    #: Failed loads: (url, error text).
    failures: list[tuple[str, str]] = field(default_factory=list)

    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0) -> dict[str, Any]:
        return self.browser.call(method, params, session=self.session, timeout=timeout)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression evaluated by DevTools (not by the page)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise ProtocolError(f"evaluating {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def set_viewport(self, width: int, height: int, *, mobile: bool = False, scale: float = 1.0) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile},
        )

    def screenshot(self, path: Path, *, full_page: bool = True) -> Path:
        """Write a PNG of the page (the whole page, not just the viewport, when `full_page`)."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            width, height = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params["clip"] = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
        data = self.call("Page.captureScreenshot", params, timeout=60)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def pdf(self) -> bytes:
        """The page printed to PDF (print media styles apply)."""
        return base64.b64decode(self.call("Page.printToPDF", {"printBackground": True}, timeout=60)["data"])


class Chromium:
    """A headless Chromium process with a fresh profile, closed on exit."""

    def __init__(self, binary: str | None = None, *, timeout: float = 30.0) -> None:
        found = binary or chromium_path()
        if not found:
            raise FileNotFoundError("chromium not found: apt-get install chromium (or set PROVENANCE_CHROMIUM)")
        self.binary = found
        self.timeout = timeout
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict[str, Any]] = []
        self._pages: dict[str, Page] = {}
        self._profile = tempfile.mkdtemp(prefix="provenance-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_fds() -> None:
            # In the child: fd 3 = commands in, fd 4 = answers out, nothing else
            # inherited. Copy first so that a pipe end already at 3 or 4 is not clobbered.
            commands, answers = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(commands, 3)
            os.dup2(answers, 4)
            os.closerange(5, 1 << 16)

        self.process = subprocess.Popen(
            [self.binary, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self._profile}", "about:blank"],
            close_fds=False,  # wire_fds closes the rest; close_fds would also close 3 and 4
            preexec_fn=wire_fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                try:
                    self.call("Browser.close", timeout=5)
                except (ProtocolError, OSError):
                    pass
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=5)
        finally:
            for fd in (self._to_browser, self._from_browser):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self._profile, ignore_errors=True)

    # -- protocol -----------------------------------------------------------

    def _send(self, method: str, params: dict[str, Any] | None, session: str | None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            written = os.write(self._to_browser, data)
            data = data[written:]
        return self._next_id

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProtocolError("timed out waiting for chromium")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise ProtocolError("chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def _dispatch(self, event: dict[str, Any]) -> None:
        page = self._pages.get(event.get("sessionId", ""))
        if page is None:
            return
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            page.requests.append(params["request"]["url"])
        elif method == "Network.loadingFailed":
            page.failures.append((params.get("requestId", ""), params.get("errorText", "")))
        elif method == "Log.entryAdded":
            entry = params["entry"]
            page.console.append(f"{entry.get('level')}: {entry.get('text')} {entry.get('url', '')}".strip())
        elif method == "Runtime.consoleAPICalled":
            page.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            page.console.append(f"exception: {params['exceptionDetails'].get('text')}")
        self._events.append(event)

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        """Send one command and wait for its answer, recording events that arrive meanwhile."""
        wanted = self._send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            message = self._receive(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise ProtocolError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self._dispatch(message)

    def wait_event(self, method: str, session: str, timeout: float = 30.0) -> dict[str, Any]:
        """Wait for an event of a page (one already received counts)."""
        for i, event in enumerate(self._events):
            if event.get("method") == method and event.get("sessionId") == session:
                del self._events[i]
                return event
        deadline = time.monotonic() + timeout
        while True:
            message = self._receive(deadline)
            if "method" in message:
                self._dispatch(message)
                if message["method"] == method and message.get("sessionId") == session:
                    self._events.remove(message)
                    return message

    # -- pages --------------------------------------------------------------

    def new_page(self, *, width: int = 1000, height: int = 800) -> Page:
        """A blank tab with network, log and console recording on."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session, "about:blank")
        self._pages[session] = page
        for domain in ("Page", "Network", "Log", "Runtime"):
            page.call(f"{domain}.enable")
        page.set_viewport(width, height)
        return page

    def open(self, url: str, *, width: int = 1000, height: int = 800, timeout: float = 30.0) -> Page:
        """Load `url` in a new tab and wait for its load event; `load_s` is the time it took."""
        page = self.new_page(width=width, height=height)
        page.requests.clear()
        start = time.monotonic()
        page.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired", page.session, timeout)
        page.load_s = time.monotonic() - start
        page.url = url
        return page
