"""Shared helpers for the eval and benchmark commands: machine facts, report writing."""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path

REPORTS = Path(__file__).resolve().parent / "reports"


def machine() -> str:
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = float("nan")
    return f"{os.cpu_count()} cores, {mem:.0f} GiB memory, {platform.machine()}, Python {platform.python_version()}"


def write_report(name: str, title: str, body: str) -> Path:
    REPORTS.mkdir(parents=True, exist_ok=True)
    path = REPORTS / f"{name}.md"
    head = f"# {title}\n\nDate: {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} · Machine: {machine()}\n\n"
    path.write_text(head + body.rstrip() + "\n", encoding="utf-8")
    return path


def table(headers: list[str], rows: list[list[object]]) -> str:
    def fmt(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(out)


def index_key(backend: str) -> str:
    """Work-folder key of a backend's index: fp32 ONNX gives the torch vectors (same model name)."""
    return "torch" if backend == "onnx" else backend
