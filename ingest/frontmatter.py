"""YAML front matter: parsing and validation against the schema in DESIGN.md."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import yaml

from assistant.core.access import AUDIENCES
from assistant.core.findings import FIELDS as FINDING_FIELDS, SEVERITIES, STATUSES

DOC_TYPES = ("guidance", "contract", "audit", "document")
_FENCE = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.S)
_TAG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class FrontMatterError(ValueError):
    pass


def split_front_matter(raw: str) -> tuple[dict[str, Any], str, int]:
    """Return (front matter, body, number of lines the front matter took)."""
    m = _FENCE.match(raw)
    if not m:
        return {}, raw, 0
    try:
        data = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"front matter is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise FrontMatterError("front matter must be a mapping of field: value")
    return data, raw[m.end():], m.group(0).count("\n")


def _iso(value: Any, field: str) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise FrontMatterError(f"'{field}' must be an ISO 8601 date (YYYY-MM-DD), got {value!r}")


def _choice(value: Any, field: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise FrontMatterError(f"'{field}' must be one of {', '.join(allowed)}; got {value!r}")
    return value


def validate(meta: dict[str, Any], *, strict: bool = False) -> dict[str, Any]:
    """Check and normalise front matter; ``strict`` applies the knowledge-base rules.

    Lenient mode (uploads, sidecars) checks the values that are present; strict mode also
    requires title, doc_type, audience, date, tags and summary, and vendor on contracts that
    name one and on every audit.
    """
    out = dict(meta)
    required = ("title", "doc_type", "audience", "date", "tags", "summary") if strict else ()
    for f in required:
        if f not in out or out[f] in (None, "", []):
            raise FrontMatterError(f"required field '{f}' is missing")
    if "title" in out and not isinstance(out["title"], str):
        raise FrontMatterError("'title' must be text")
    if "doc_type" in out:
        _choice(out["doc_type"], "doc_type", DOC_TYPES)
    if "audience" in out:
        _choice(out["audience"], "audience", AUDIENCES)
    if "date" in out:
        out["date"] = _iso(out["date"], "date")
    if "tags" in out:
        tags = out["tags"]
        if isinstance(tags, str):
            tags = [t.strip() for t in tags.split(",") if t.strip()]
        if not isinstance(tags, list) or not all(isinstance(t, str) and _TAG.match(t) for t in tags):
            raise FrontMatterError("'tags' must be a list of lowercase kebab-case words")
        out["tags"] = tags
    if "vendor" in out and not isinstance(out["vendor"], str):
        raise FrontMatterError("'vendor' must be text")
    if out.get("doc_type") == "audit":
        if strict and not out.get("vendor"):
            raise FrontMatterError("audit documents need a 'vendor'")
        findings = out.get("findings")
        if strict and findings is None:
            raise FrontMatterError("audit documents need 'findings' (a list, may be empty)")
        clean = []
        for i, f in enumerate(findings or []):
            if not isinstance(f, dict):
                raise FrontMatterError(f"findings[{i}] must be a mapping")
            for key in FINDING_FIELDS:
                if not f.get(key):
                    raise FrontMatterError(f"findings[{i}] lacks '{key}'")
            g = dict(f)
            _choice(g["severity"], f"findings[{i}].severity", SEVERITIES)
            _choice(g["status"], f"findings[{i}].status", STATUSES)
            g["due_date"] = _iso(g["due_date"], f"findings[{i}].due_date")
            clean.append(g)
        out["findings"] = clean
    return out
