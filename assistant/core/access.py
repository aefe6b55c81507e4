"""Roles and what each may see or do: the one definition the store filters, the app and the CLI use.

Documents carry an ``audience`` (``all``, ``managers``, ``auditors``); a role sees the audiences
listed for it below.
"""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["staff", "manager", "auditor", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
AUDIENCES: tuple[str, ...] = ("all", "managers", "auditors")
ROLE_AUDIENCES: dict[str, tuple[str, ...]] = {
    "staff": ("all",),
    "manager": ("all", "managers"),
    "auditor": ("all", "managers", "auditors"),
    "admin": ("all", "managers", "auditors"),
}
UPLOAD_ROLES: tuple[str, ...] = ("manager", "admin")


class AccessError(ValueError):
    """An unknown role, or an action the role may not take."""


def audiences_for(role: str) -> tuple[str, ...]:
    """The document audiences ``role`` may see.

    Raises:
        AccessError: for a role that is not one of ``ROLES``.
    """
    try:
        return ROLE_AUDIENCES[role]
    except KeyError:
        raise AccessError(f"unknown role {role!r}; allowed: {', '.join(ROLES)}") from None


def can_see(role: str, audience: str | None) -> bool:
    return (audience or "all") in audiences_for(role)


def can_upload(role: str) -> bool:
    return role in UPLOAD_ROLES
