"""Search filters: one spec, compiled both to a Chroma ``where`` and to an in-memory mask."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable

from assistant.store import date_int
from assistant.types import Chunk

ROLE_AUDIENCES: dict[str, tuple[str, ...]] = {
    "staff": ("all",),
    "manager": ("all", "managers"),
    "auditor": ("all", "managers", "auditors"),
    "admin": ("all", "managers", "auditors"),
}
FILTER_KEYS = ("doc_type", "vendor", "severity", "status", "tags", "source", "date_from", "date_to", "finding_id")


class FilterError(ValueError):
    pass


def _as_list(v: Any) -> list[str]:
    if v is None or v == "" or v == []:
        return []
    if isinstance(v, (list, tuple, set)):
        return [str(x) for x in v if str(x)]
    return [str(v)]


@dataclass
class Filters:
    doc_type: list[str] = field(default_factory=list)
    vendor: list[str] = field(default_factory=list)
    severity: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    finding_id: list[str] = field(default_factory=list)
    date_from: int | None = None
    date_to: int | None = None
    audiences: tuple[str, ...] | None = None  # access control, set from the role

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None, role: str | None = None) -> "Filters":
        d = dict(d or {})
        unknown = set(d) - set(FILTER_KEYS)
        if unknown:
            raise FilterError(f"unknown filter(s) {sorted(unknown)}; allowed: {', '.join(FILTER_KEYS)}")
        f = cls(**{k: _as_list(d.get(k)) for k in ("doc_type", "vendor", "severity", "status", "tags", "source", "finding_id")})
        for key in ("date_from", "date_to"):
            v = d.get(key)
            if v:
                if isinstance(v, (dt.date, dt.datetime)):
                    v = v.isoformat()
                iv = date_int(v)
                if iv is None:
                    raise FilterError(f"filter {key} must be an ISO date (YYYY-MM-DD), got {v!r}")
                setattr(f, key, iv)
        if role is not None:
            if role not in ROLE_AUDIENCES:
                raise FilterError(f"unknown role {role!r}; allowed: {', '.join(ROLE_AUDIENCES)}")
            f.audiences = ROLE_AUDIENCES[role]
        return f

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k in ("doc_type", "vendor", "severity", "status", "tags", "source", "finding_id"):
            v = getattr(self, k)
            if v:
                out[k] = v if len(v) > 1 else v[0]
        for k in ("date_from", "date_to"):
            v = getattr(self, k)
            if v:
                s = str(v)
                out[k] = f"{s[:4]}-{s[4:6]}-{s[6:]}"
        return out

    def is_empty(self) -> bool:
        return not self.to_dict()

    def where(self, finding_ids: Iterable[str] | None = None) -> dict[str, Any] | None:
        """Chroma ``where``; ``finding_ids`` replaces status/severity when given (current status)."""
        clauses: list[dict[str, Any]] = []
        for key in ("doc_type", "vendor", "source"):
            vals = getattr(self, key)
            if vals:
                clauses.append({key: {"$in": vals}})
        if finding_ids is not None:
            clauses.append({"finding_id": {"$in": sorted(finding_ids) or ["-none-"]}})
        else:
            for key in ("severity", "status"):
                vals = getattr(self, key)
                if vals:
                    clauses.append({key: {"$in": vals}})
        if self.finding_id:
            clauses.append({"finding_id": {"$in": self.finding_id}})
        if self.tags:
            tag = [{"tags": {"$contains": t}} for t in self.tags]
            clauses.append(tag[0] if len(tag) == 1 else {"$or": tag})
        if self.date_from:
            clauses.append({"date_int": {"$gte": self.date_from}})
        if self.date_to:
            clauses.append({"date_int": {"$lte": self.date_to}})
        if self.audiences is not None:
            clauses.append({"audience": {"$in": list(self.audiences)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def match(self, c: Chunk, finding_ids: set[str] | None = None) -> bool:
        m = c.metadata
        if self.doc_type and c.doc_type not in self.doc_type:
            return False
        if self.vendor and m.get("vendor") not in self.vendor:
            return False
        if self.source and c.source not in self.source:
            return False
        if finding_ids is not None:
            if m.get("finding_id") not in finding_ids:
                return False
        else:
            if self.severity and m.get("severity") not in self.severity:
                return False
            if self.status and m.get("status") not in self.status:
                return False
        if self.finding_id and m.get("finding_id") not in self.finding_id:
            return False
        if self.tags and not set(self.tags) & set(m.get("tags") or []):
            return False
        d = date_int(m.get("date"))
        if self.date_from and (d is None or d < self.date_from):
            return False
        if self.date_to and (d is None or d > self.date_to):
            return False
        if self.audiences is not None and m.get("audience", "all") not in self.audiences:
            return False
        return True
