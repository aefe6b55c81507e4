"""Sign-in for the web app: a YAML file of users with bcrypt password hashes and roles.

    users:
      - username: alice
        password_hash: "$2b$12$..."      # from assistant.auth.hash_password
        role: auditor                    # staff | manager | auditor | admin
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import bcrypt
import yaml

from assistant.core.access import ROLES
MAX_PASSWORD_BYTES = 72  # bcrypt ignores (bcrypt>=5: rejects) anything longer


@cache
def _dummy_hash() -> bytes:
    """A real hash to check against when the user is unknown, so both paths cost the same time."""
    return bcrypt.hashpw(b"not-a-password", bcrypt.gensalt())


class AuthConfigError(ValueError):
    """The users file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class User:
    username: str
    password_hash: str
    role: str


class UserStore:
    """The users allowed to sign in, keyed by user name."""

    def __init__(self, users: dict[str, User]):
        self.users = users

    def verify(self, username: str, password: str) -> str | None:
        """Return the user's role when the password matches, else None."""
        user = self.users.get((username or "").strip())
        pw = (password or "").encode("utf-8")
        if len(pw) > MAX_PASSWORD_BYTES:
            pw = pw[:MAX_PASSWORD_BYTES]
            long_pw = True
        else:
            long_pw = False
        stored = user.password_hash.encode("utf-8") if user else _dummy_hash()
        try:
            ok = bcrypt.checkpw(pw, stored)
        except ValueError:  # malformed hash in the file
            ok = False
        if user is None or long_pw or not ok:
            return None
        return user.role

    def role_of(self, username: str | None) -> str | None:
        user = self.users.get(username or "")
        return user.role if user else None

    def __len__(self) -> int:
        return len(self.users)


def hash_password(password: str) -> str:
    """A bcrypt hash for the users file.

    Raises:
        ValueError: for an empty password or one longer than 72 bytes (bcrypt's limit).
    """
    pw = (password or "").encode("utf-8")
    if not pw:
        raise ValueError("password must not be empty")
    if len(pw) > MAX_PASSWORD_BYTES:
        raise ValueError(f"password must be at most {MAX_PASSWORD_BYTES} bytes (bcrypt's limit)")
    return bcrypt.hashpw(pw, bcrypt.gensalt()).decode("ascii")


def load_users(path: str | Path) -> UserStore:
    """Read and validate the users file.

    Raises:
        AuthConfigError: missing file, bad YAML, or an entry without username / hash / valid role.
    """
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise AuthConfigError(f"users file {p} cannot be read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise AuthConfigError(f"users file {p} is not valid YAML: {exc}") from None
    entries = data.get("users") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise AuthConfigError(f"users file {p} must hold 'users:' with a list of {{username, password_hash, role}}")
    users: dict[str, User] = {}
    for i, e in enumerate(entries, 1):
        if not isinstance(e, dict):
            raise AuthConfigError(f"users file {p}: entry {i} must be a mapping")
        name = str(e.get("username") or "").strip()
        pw_hash = str(e.get("password_hash") or "")
        role = str(e.get("role") or "")
        if not name:
            raise AuthConfigError(f"users file {p}: entry {i} has no username")
        if not pw_hash.startswith(("$2a$", "$2b$", "$2y$")):
            raise AuthConfigError(f"users file {p}: user {name!r} needs a bcrypt password_hash (see hash_password)")
        if role not in ROLES:
            raise AuthConfigError(f"users file {p}: user {name!r} has role {role!r}; allowed: {', '.join(ROLES)}")
        if name in users:
            raise AuthConfigError(f"users file {p}: user {name!r} is listed twice")
        users[name] = User(name, pw_hash, role)
    return UserStore(users)


if __name__ == "__main__":  # print a hash for the users file: python -m assistant.auth
    import getpass

    print(hash_password(getpass.getpass("Password: ")))
