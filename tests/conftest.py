"""Shared fixtures: real embedder, real Chroma, a session index of the shipped knowledge base."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"


def cuad_corpus() -> Path:
    """The CUAD contracts of ``shared/data``: beside this checkout, or beside the local repository it
    was cloned from (a clean clone in a temporary folder). Fails the calling test when absent."""
    import subprocess

    candidates = [ROOT.parent]
    origin = subprocess.run(["git", "-C", str(ROOT), "remote", "get-url", "origin"], capture_output=True, text=True).stdout.strip()
    if origin and Path(origin).is_dir():
        candidates.append(Path(origin).resolve().parent)
    for base in candidates:
        path = base / "shared" / "data" / "cuad" / "corpus" / "cuad"
        if path.is_dir() and any(path.glob("*.txt")):
            return path
    pytest.fail(f"CUAD corpus not found under {', '.join(str(c / 'shared/data') for c in candidates)} "
                "(shared/data must sit beside the repository)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def _is_loopback(host: object) -> bool:
    import ipaddress

    if not isinstance(host, str):
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False  # a host name other than localhost


class NetworkBlocked(OSError):
    pass


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """Fail any test that tries to reach an address other than this machine (127.0.0.0/8, ::1)."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):  # type: ignore[index]
            raise NetworkBlocked(f"tests may only connect to loopback addresses, not {address!r}")

    def connect(self, address):
        check(self, address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(self, address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _is_loopback(host.decode() if isinstance(host, bytes) else host):
            raise NetworkBlocked(f"tests may only resolve loopback names, not {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(autouse=True)
def _no_settings_env(monkeypatch):
    """Tests build settings explicitly; stray ASSISTANT_* variables must not leak in."""
    for k in list(os.environ):
        if k.startswith("ASSISTANT_") and k != "ASSISTANT_ONNX_CACHE":
            monkeypatch.delenv(k, raising=False)


@pytest.fixture(scope="session")
def embedder():
    """The default backend (ONNX Runtime, exported locally from the bundled weights)."""
    from assistant.core.embeddings import make_embedder

    e = make_embedder()
    e.warm_up()
    return e


@pytest.fixture(scope="session")
def torch_embedder():
    from assistant.core.embeddings import SentenceTransformerEmbedder

    e = SentenceTransformerEmbedder()
    e.warm_up()
    return e


def make_settings(tmp: Path, knowledge: Path, **kw):
    from assistant.core.settings import Settings

    return Settings(knowledge_root=knowledge, index_dir=tmp / "index", feedback_db=tmp / "feedback.sqlite3", **kw)


@pytest.fixture(scope="session")
def kb(tmp_path_factory, embedder):
    """The shipped knowledge base ingested once into a real embedded Chroma."""
    from assistant.api import Assistant

    tmp = tmp_path_factory.mktemp("kb")
    knowledge = tmp / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    settings = make_settings(tmp, knowledge)
    a = Assistant.from_settings(settings, embedder=embedder)
    report = a.ingest(show_bar=False)
    assert report.ok, report.summary()
    return a


@pytest.fixture()
def corpus_dir(tmp_path):
    d = tmp_path / "knowledge"
    d.mkdir()
    return d


# The app fixtures live in conftest_app.py; registering them here makes each one a single
# session-wide fixture shared by every module (one app process, one Playwright instance).
from conftest_app import app_server, browser, page  # noqa: E402,F401
