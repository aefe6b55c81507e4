"""What the command lines share: one place that turns expected errors into a one-line message."""

from __future__ import annotations

import sys
from typing import Callable

from assistant.core.settings import SettingsError
from assistant.core.store import StoreError


def guarded(fn: Callable[[], int], extra: tuple[type[BaseException], ...] = ()) -> int:
    """Run a command: bad settings, an unreachable store, a missing file or bad input print
    ``error: ...`` and give exit status 2 (no traceback); Ctrl-C gives 130."""
    try:
        return int(fn() or 0)
    except (SettingsError, StoreError, FileNotFoundError, ValueError, *extra) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
