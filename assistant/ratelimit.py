"""Sign-in rate limiting: too many failed attempts for a user name or from an address lock it out.

Both keys count: per user name (someone guessing one account's password from many addresses)
and per address (someone trying many accounts from one address). A locked key is refused even
with the right password until the lockout ends. The address threshold is higher than the user
one because an office behind one NAT address shares it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class _Entry:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class SignInLimiter:
    """Counts failed sign-ins per user name and per address within a sliding window."""

    def __init__(self, max_user_failures: int = 5, max_address_failures: int = 20, window_s: float = 300.0,
                 lockout_s: float = 300.0, max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.max_failures = {"user": max_user_failures, "address": max_address_failures}
        self.window_s, self.lockout_s, self.max_keys, self.clock = window_s, lockout_s, max_keys, clock
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _keys(user: str, address: str) -> list[tuple[str, str]]:
        keys = [("address", address or "?")]
        if (user or "").strip():
            keys.append(("user", user.strip().casefold()))
        return keys

    def retry_after(self, user: str, address: str) -> float:
        """Seconds until ``user`` may try again from ``address``; 0 when allowed now."""
        now = self.clock()
        with self._lock:
            waits = [e.locked_until - now for k in self._keys(user, address) if (e := self._entries.get(k))]
        return max([0.0, *waits])

    def failed(self, user: str, address: str) -> None:
        """Record a failed attempt; a key reaching its threshold within the window is locked."""
        now = self.clock()
        with self._lock:
            for key in self._keys(user, address):
                entry = self._entries.pop(key, None) or _Entry()
                self._entries[key] = entry  # most recently used last, for eviction
                entry.failures.append(now)
                while entry.failures and entry.failures[0] <= now - self.window_s:
                    entry.failures.popleft()
                if len(entry.failures) >= self.max_failures[key[0]]:
                    entry.locked_until = now + self.lockout_s
                    entry.failures.clear()
            while len(self._entries) > self.max_keys:  # bounded memory under a spray of names
                self._entries.popitem(last=False)

    def succeeded(self, user: str, address: str) -> None:
        """A good sign-in clears the user name's failures (the address keeps its count)."""
        with self._lock:
            self._entries.pop(("user", (user or "").strip().casefold()), None)

    def message(self, wait_s: float) -> str:
        minutes = max(1, round(wait_s / 60))
        return (f"Too many failed sign-in attempts for this user or address. Sign-in is paused; "
                f"try again in {minutes} minute{'s' if minutes != 1 else ''}.")
