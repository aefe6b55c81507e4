"""An ASGI gate in front of the web app: who may upload, who may read a temporary upload, and how
often one may try to sign in.

Gradio checks only that a request is signed in: any signed-in user may post files to its upload
route (``/gradio_api/upload``), read any file of its temporary folder whose path they know
(``/gradio_api/file=<path>``), and try passwords on ``/login`` as fast as they like; its ``auth``
callable never sees the client's address. This middleware closes those gaps without patching
Gradio. It is given to the FastAPI app Gradio creates (``launch(app_kwargs={"middleware": ...})``),
so it runs inside Gradio's own CORS and compression layers, and it reads the signed-in user from
Gradio's session cookie through ``scope["app"].tokens`` (no Gradio import: the library never
imports Gradio).

* Upload: refused (403) unless the user's role may upload; the paths Gradio returns are recorded
  as that user's (``UploadRegistry``).
* File route: only the user who uploaded a temporary file may read it; every other path is
  answered 404. The app serves no other files through this route.
* Sign-in: ``SignInLimiter`` per user name and per client address (uvicorn puts a trusted local
  proxy's ``X-Forwarded-For`` into the address); a locked attempt gets 429 with the reason.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable

from starlette.requests import Request, cookie_parser

from assistant.core.access import can_upload
from assistant.ratelimit import SignInLimiter

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
LOCAL = "local"  # owner of uploads when sign-in is off
MAX_LOGIN_BODY = 16_384
_UPLOAD = re.compile(r"(?:^|/)gradio_api/upload/?$")
_FILE = re.compile(r"(?:^|/)gradio_api/file(?:=|/)(.*)$", re.S)
_LOGIN = re.compile(r"^(?:.*/)?login/?$")


def _key(path: str) -> str:
    return os.path.realpath(path)


class UploadRegistry:
    """Which users uploaded each temporary file, so that only they can read, submit or remove it.

    Gradio names a temporary file by its content's hash and its name, so two people who upload the
    same bytes under the same name share one path: a path has a set of owners, and the file is
    deleted when the last of them is done with it.
    """

    def __init__(self, max_entries: int = 50_000):
        self._owners: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def claim(self, user: str, paths: Iterable[str]) -> None:
        with self._lock:
            if len(self._owners) > self.max_entries:  # forget files Gradio's delete_cache removed
                self._owners = {p: u for p, u in self._owners.items() if os.path.exists(p)}
            for p in paths:
                self._owners.setdefault(_key(p), set()).add(user)

    def owns(self, user: str, path: str) -> bool:
        with self._lock:
            return user in self._owners.get(_key(path), ())

    def discard(self, path: str, user: str) -> bool:
        """``user`` is done with a temporary file: delete it (and its folder when empty) unless
        someone else still holds it. False when ``user`` did not upload it."""
        key = _key(path)
        with self._lock:
            owners = self._owners.get(key)
            if not owners or user not in owners:
                return False
            owners.discard(user)
            if owners:
                return True
            del self._owners[key]
        Path(key).unlink(missing_ok=True)
        try:
            Path(key).parent.rmdir()  # Gradio keeps each upload in its own hash-named folder
        except OSError:
            pass
        return True


_HASH_DIR = re.compile(r"^[0-9a-f]{40,64}$")


def sweep(root: Path, max_age_s: float, now: float | None = None) -> int:
    """Delete Gradio's temporary uploads under ``root`` not modified for ``max_age_s`` seconds; the
    number of files deleted. Gradio's own ``delete_cache`` removes only the files it tracks, and it
    leaks an untracked empty file for every file a ``gr.File(type="filepath")`` receives. Only
    Gradio-shaped entries are touched (hash-named folders, ``tmp*`` files at the top), so a
    temporary folder shared by mistake loses nothing else."""
    now = time.time() if now is None else now
    removed = 0

    def old(p: Path) -> bool:
        return now - p.lstat().st_mtime > max_age_s

    for entry in list(root.iterdir()) if root.is_dir() else []:
        try:
            if entry.is_file() and not entry.is_symlink() and entry.name.startswith("tmp") and old(entry):
                entry.unlink()
                removed += 1
            elif entry.is_dir() and not entry.is_symlink() and _HASH_DIR.match(entry.name):
                for f in entry.iterdir():
                    if (f.is_file() or f.is_symlink()) and old(f):
                        f.unlink()
                        removed += 1
                if not any(entry.iterdir()):
                    entry.rmdir()
        except OSError:
            continue  # gone meanwhile, or not ours to delete
    return removed


def sweep_interval(max_age_s: int) -> int:
    """How often to sweep temporary uploads of at most ``max_age_s``: half that age, 1 s to 10 minutes."""
    return max(1, min(600, max_age_s // 2))


def start_sweeper(root: Path, every_s: float, max_age_s: float) -> threading.Thread:
    """A daemon thread that runs ``sweep`` every ``every_s`` seconds."""

    def loop() -> None:
        while True:
            time.sleep(every_s)
            try:
                sweep(root, max_age_s)
            except Exception:  # a sweep must never take the app down; the next one retries
                logging.getLogger(__name__).exception("temporary upload sweep failed")

    t = threading.Thread(target=loop, name="upload-temp-sweeper", daemon=True)
    t.start()
    return t


def _json(status: int, detail: str, headers: dict[str, str] | None = None) -> tuple[dict, dict]:
    body = json.dumps({"detail": detail}).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    head += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    return ({"type": "http.response.start", "status": status, "headers": head},
            {"type": "http.response.body", "body": body})


async def _respond(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    start, body = _json(status, detail, headers)
    await send(start)
    await send(body)


def session_user(scope: Scope) -> str | None:
    """The user Gradio signed in for this request's cookie, or None."""
    app = scope.get("app")
    tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
    if not tokens or cookie_id is None:
        return None
    raw = dict(scope.get("headers") or []).get(b"cookie", b"").decode("latin-1")
    cookies = cookie_parser(raw)
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return tokens.get(token) if token else None


class Gate:
    """The ASGI middleware; ``role_of(user name or None)`` gives the role, None for nobody."""

    def __init__(self, app: Callable, *, role_of: Callable[[str | None], str | None], registry: UploadRegistry,
                 limiter: SignInLimiter, sign_in: bool):
        self.app, self.role_of, self.registry, self.limiter, self.sign_in = app, role_of, registry, limiter, sign_in

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope.get("path", ""), scope.get("method", "GET")
        if method == "POST" and self.sign_in and _LOGIN.match(path):
            return await self._login(scope, receive, send)
        if method == "POST" and _UPLOAD.search(path):
            return await self._upload(scope, receive, send)
        m = _FILE.search(path)
        if m and method in ("GET", "HEAD"):
            owner = self._owner_name(scope)
            if owner is None or not self.registry.owns(owner, m.group(1)):
                return await _respond(send, 404, "Not found.")
        return await self.app(scope, receive, send)

    def _owner_name(self, scope: Scope) -> str | None:
        """The name uploads are recorded under: the signed-in user, or LOCAL when sign-in is off."""
        user = session_user(scope)
        if self.sign_in:
            return user if user is not None and self.role_of(user) is not None else None
        return LOCAL

    async def _upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        owner = self._owner_name(scope)
        role = self.role_of(owner if self.sign_in else None) if owner is not None else None
        if role is None:
            return await _respond(send, 401, "Please sign in.")
        if not can_upload(role):
            return await _respond(send, 403, f"Your role ({role}) cannot add documents.")
        held: list[dict[str, Any]] = []

        async def hold(message: dict[str, Any]) -> None:
            held.append(message)  # forwarded once the paths are recorded: no window without an owner

        await self.app(scope, receive, hold)
        start = next((m for m in held if m["type"] == "http.response.start"), None)
        if start is not None and start["status"] == 200:
            try:
                paths = json.loads(b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body"))
                if isinstance(paths, list):
                    self.registry.claim(owner, [p for p in paths if isinstance(p, str)])
            except ValueError:
                pass
        for m in held:
            await send(m)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_LOGIN_BODY:
                return await _respond(send, 413, "Sign-in request too large.")
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        try:
            user = str((await Request(scope, replay).form()).get("username") or "").strip()
        except Exception:  # a malformed form: Gradio answers it; count it against the address only
            user = ""
        replayed = False
        address = (scope.get("client") or ("?", 0))[0]
        wait = self.limiter.retry_after(user, address)
        if wait > 0:
            return await _respond(send, 429, self.limiter.message(wait), {"retry-after": str(int(wait) + 1)})
        status = 0

        async def watch(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, replay, watch)
        if status == 200:
            self.limiter.succeeded(user, address)
        elif status in (400, 401, 422):
            self.limiter.failed(user, address)
