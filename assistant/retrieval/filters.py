"""Search filters: one specification, compiled to a list of clauses that both searches apply.

``Filters`` is what a caller asks for (and what the role allows). ``Filters.clauses`` turns it
into ``Clause`` objects; ``where`` compiles those to a Chroma ``where`` (the HNSW path) and
``Corpus.mask`` evaluates the same clauses over the in-memory view (BM25 and exact dense).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal

from assistant.core.access import AccessError, audiences_for
from assistant.core.text import date_int

FILTER_KEYS = ("doc_type", "vendor", "severity", "status", "tags", "source", "date_from", "date_to", "finding_id")
_LIST_KEYS = ("doc_type", "vendor", "severity", "status", "tags", "source", "finding_id")


class FilterError(ValueError):
    pass


@dataclass(frozen=True)
class Clause:
    """One condition on a chunk's metadata: ``key`` is in ``values`` / has any of them / is >= or <= ``values[0]``."""

    op: Literal["in", "any", "gte", "lte"]
    key: str
    values: tuple[Any, ...]


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
    status: list[str] = field(default_factory=list)  # the *current* status of a finding
    tags: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    finding_id: list[str] = field(default_factory=list)
    date_from: int | None = None
    date_to: int | None = None
    audiences: tuple[str, ...] | None = None  # access control, set from the role

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None, role: str | None = None) -> "Filters":
        """Validate a filter dict (the API's and the CLI's form) and apply the role's audiences.

        Raises:
            FilterError: an unknown key or role, or a date that is not YYYY-MM-DD.
        """
        d = dict(d or {})
        unknown = set(d) - set(FILTER_KEYS)
        if unknown:
            raise FilterError(f"unknown filter(s) {sorted(unknown)}; allowed: {', '.join(FILTER_KEYS)}")
        f = cls(**{k: _as_list(d.get(k)) for k in _LIST_KEYS})
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
            try:
                f.audiences = audiences_for(role)
            except AccessError as exc:
                raise FilterError(str(exc)) from None
        return f

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k in _LIST_KEYS:
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

    def clauses(self, finding_ids: Iterable[str] | None = None) -> list[Clause]:
        """The conditions a chunk must meet. ``finding_ids`` (findings whose *current* status and
        severity match) replaces the status/severity stored on the chunk when given."""
        out = [Clause("in", key, tuple(getattr(self, key))) for key in ("doc_type", "vendor", "source") if getattr(self, key)]
        if finding_ids is not None:
            out.append(Clause("in", "finding_id", tuple(sorted(finding_ids))))
        else:
            out += [Clause("in", key, tuple(getattr(self, key))) for key in ("severity", "status") if getattr(self, key)]
        if self.finding_id:
            out.append(Clause("in", "finding_id", tuple(self.finding_id)))
        if self.tags:
            out.append(Clause("any", "tags", tuple(self.tags)))
        if self.date_from:
            out.append(Clause("gte", "date_int", (self.date_from,)))
        if self.date_to:
            out.append(Clause("lte", "date_int", (self.date_to,)))
        if self.audiences is not None:
            out.append(Clause("in", "audience", tuple(self.audiences)))
        return out


def where(clauses: list[Clause]) -> dict[str, Any] | None:
    """The Chroma ``where`` for ``clauses`` (None when there is nothing to filter)."""
    parts: list[dict[str, Any]] = []
    for c in clauses:
        if c.op == "in":
            parts.append({c.key: {"$in": list(c.values) or ["-none-"]}})
        elif c.op == "any":
            tag = [{c.key: {"$contains": v}} for v in c.values]
            parts.append(tag[0] if len(tag) == 1 else {"$or": tag})
        else:
            parts.append({c.key: {f"${c.op}": c.values[0]}})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}
