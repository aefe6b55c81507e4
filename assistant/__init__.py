"""The outsourcing guidance assistant: answers with verified citations from a local knowledge base."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.api import Assistant

__all__ = ["Assistant"]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package must not pull in torch or chromadb.
    if name == "Assistant":
        from assistant.api import Assistant

        return Assistant
    raise AttributeError(name)
