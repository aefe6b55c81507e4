"""Fixtures for the app tests: one ``python app.py`` for the whole session, and headless Chromium.

Import the fixtures into a test module (``from conftest_app import app_server, ...``). The server
is a process-wide singleton, so modules that import the fixture share one app process.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
# Screenshots are written only by `make screenshots` (which sets this); a plain test run writes no tracked file.
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR", "")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
START_TIMEOUT_S = 180


@dataclass
class AppServer:
    url: str
    root: Path  # the temporary folder holding knowledge/, index/, feedback.sqlite3, the log
    knowledge: Path
    feedback_db: Path
    upload_dir: Path
    log: Path
    proc: subprocess.Popen

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return "(no log)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers_http(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_app(tmp: Path, extra_env: dict[str, str] | None = None) -> AppServer:
    """Copy the knowledge base, point the app at it through ASSISTANT_* variables and start it.

    The index starts empty, so ``app.py`` ingests the copy before it listens (its documented
    start-up path); the wait covers model load, ingest and launch.
    """
    knowledge = tmp / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_KNOWLEDGE_ROOT=str(knowledge),
        ASSISTANT_INDEX_DIR=str(tmp / "index"),
        ASSISTANT_FEEDBACK_DB=str(tmp / "feedback.sqlite3"),
        ASSISTANT_HOST="127.0.0.1",
        ASSISTANT_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        GRADIO_TEMP_DIR=str(tmp / "gradio-tmp"),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        TOKENIZERS_PARALLELISM="false",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra_env or {})
    log = tmp / "app.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py")], cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = AppServer(f"http://127.0.0.1:{port}/", tmp, knowledge, tmp / "feedback.sqlite3", knowledge / "uploads", log, proc)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"app.py exited with code {proc.returncode} before answering HTTP:\n{server.log_tail()}")
        if _answers_http(server.url):
            return server
        time.sleep(1)
    stop_app(server)
    pytest.fail(f"app.py did not answer HTTP on {server.url} within {START_TIMEOUT_S} s:\n{server.log_tail()}")


def stop_app(server: AppServer) -> None:
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=10)


_server: AppServer | None = None
_users = 0


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The running app (shared by every module that imports this fixture)."""
    global _server, _users
    if _server is None:
        _server = start_app(tmp_path_factory.mktemp("app"))
    _users += 1
    try:
        yield _server
    finally:
        _users -= 1
        if _users == 0 and _server is not None:
            stop_app(_server)
            _server = None


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through Playwright (never a downloaded browser).

    Module-scoped on purpose: while Playwright's sync API is started it marks its event loop as
    running in this thread, so ``asyncio.run`` (and pytest-asyncio) would fail in every later module.
    """
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make browser)")
    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()
        pw.stop()


@pytest.fixture()
def page(browser, app_server):
    """A fresh browser context (so a fresh Gradio session) on the app's start page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    p = context.new_page()
    p.goto(app_server.url)
    # the first load of a page on a busy shared machine can take longer than one step of a test may
    p.wait_for_selector("#chatbot", timeout=60_000)
    p.wait_for_selector("#status-line", timeout=60_000)  # page-load event done: role, stats, findings filled in
    try:
        yield p
    finally:
        context.close()


def screenshot(page, name: str, full_page: bool = True) -> Path | None:
    """Save a screenshot under $SCREENSHOTS_DIR (for the README) when it is set; otherwise nothing."""
    if not SCREENSHOTS:
        return None
    path = Path(SCREENSHOTS) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path
