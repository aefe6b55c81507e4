"""The outsourcing guidance assistant: answers with verified citations from a local knowledge base.

``from assistant import Assistant, load_settings`` is the public entry point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.api import Assistant
    from assistant.core.settings import Settings, load_settings

__all__ = ["Assistant", "Settings", "load_settings"]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package must not pull in torch or chromadb.
    if name == "Assistant":
        from assistant.api import Assistant

        return Assistant
    if name in ("Settings", "load_settings"):
        from assistant.core import settings

        return getattr(settings, name)
    raise AttributeError(name)
