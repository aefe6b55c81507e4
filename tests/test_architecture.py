"""The layering in docs/architecture.md, checked on the source: no package imports upward."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[1]


def imports(path: Path) -> set[str]:
    """Every module a file imports (absolute names), at any depth, lazy imports included."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_core_imports_nothing_above_it():
    for f in files("assistant/core"):
        bad = {m for m in imports(f) if (m.startswith("assistant.") and not m.startswith("assistant.core"))
               or m.split(".")[0] in ("ingest", "evals", "app")}
        assert not bad, f"{f.relative_to(ROOT)} imports {sorted(bad)}"


def test_ingest_uses_only_the_core_of_assistant():
    for f in files("ingest"):
        bad = {m for m in imports(f) if (m.startswith("assistant") and not m.startswith("assistant.core"))
               or m.split(".")[0] in ("evals", "app")}
        assert not bad, f"{f.relative_to(ROOT)} imports {sorted(bad)}"


# The one library module that builds Gradio components (a tab app.py mounts); nothing imports it but app.py.
GRADIO_MODULES = {ROOT / "assistant" / "web" / "review_tab.py"}


def test_the_library_never_imports_evals_or_the_app():
    for f in files("assistant") + files("ingest"):
        banned = ("evals", "app") if f in GRADIO_MODULES else ("evals", "app", "gradio")
        bad = {m for m in imports(f) if m.split(".")[0] in banned}
        assert not bad, f"{f.relative_to(ROOT)} imports {sorted(bad)}"


def test_only_app_imports_the_gradio_tab():
    for f in files("assistant") + files("ingest"):
        bad = {m for m in imports(f) if m.startswith("assistant.web.review_tab")}
        assert not bad, f"{f.relative_to(ROOT)} imports {sorted(bad)}"


def test_retrieval_and_answering_do_not_import_the_api_layer():
    for pkg in ("assistant/retrieval", "assistant/answering", "assistant/web"):
        for f in files(pkg):
            bad = {m for m in imports(f) if m.startswith(("assistant.api", "assistant.cli", "assistant.uploads", "ingest"))}
            assert not bad, f"{f.relative_to(ROOT)} imports {sorted(bad)}"


def test_modules_stay_readable():
    for f in files("assistant") + files("ingest") + [ROOT / "app.py"]:
        n = len(f.read_text(encoding="utf-8").splitlines())
        assert n <= 420, f"{f.relative_to(ROOT)} has {n} lines"


def test_tests_cannot_reach_the_network():
    import socket

    with pytest.raises(OSError, match="only connect to loopback"):
        socket.socket().connect(("192.0.2.1", 80))  # TEST-NET-1: never routable
    with pytest.raises(OSError, match="only resolve loopback"):
        socket.create_connection(("example.com", 443), timeout=1)
    with socket.socket() as server:  # loopback stays open
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
