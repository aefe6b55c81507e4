"""YAML front matter: parsing and validation against the schema in DESIGN.md.

Front matter and sidecars come from files anyone with upload rights can write, so parsing is
bounded: anchors and aliases are refused (a few hundred bytes of nested aliases expand into
megabytes), and every value is capped (``check_limits``). A file over a limit is a per-file
error, never memory growth.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import yaml

from assistant.core.access import AUDIENCES
from assistant.core.findings import FIELDS as FINDING_FIELDS, SEVERITIES, STATUSES

DOC_TYPES = ("guidance", "contract", "audit", "document")
_FENCE = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.S)
_TAG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


# Limits on metadata (front matter, sidecars, upload records): generous for curated notes (the
# largest in knowledge/ is ~1 KB serialised, 6 findings), far below anything that hurts.
MAX_YAML_CHARS = 32_000  # raw front matter or sidecar text, before parsing
MAX_STRING = 2_000  # characters in one text value (and one key)
MAX_ITEMS = 64  # items in one list, keys in one mapping
MAX_DEPTH = 4  # document -> findings list -> finding -> value
MAX_TOTAL = 16_000  # characters of the whole metadata serialised as JSON
_SCALARS = (str, int, float, bool, dt.date, type(None))


class FrontMatterError(ValueError):
    pass


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases (the YAML "billion laughs")."""

    def fetch_alias(self) -> None:
        raise yaml.scanner.ScannerError(None, None, "YAML aliases (*name) are not allowed", self.get_mark())

    def fetch_anchor(self) -> None:
        raise yaml.scanner.ScannerError(None, None, "YAML anchors (&name) are not allowed", self.get_mark())


def parse_yaml(text: str, what: str = "front matter") -> Any:
    """Parse untrusted YAML: size-capped, no anchors or aliases, only safe types.

    Raises:
        FrontMatterError: text too long, not valid YAML, aliases, or nesting too deep.
    """
    if len(text) > MAX_YAML_CHARS:
        raise FrontMatterError(f"{what} is {len(text):,} characters; the limit is {MAX_YAML_CHARS:,}")
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"{what} is not valid YAML: {exc}") from None
    except RecursionError:
        raise FrontMatterError(f"{what} is nested too deeply") from None


def check_limits(meta: dict[str, Any], what: str = "metadata", max_total: int = MAX_TOTAL) -> None:
    """Raise FrontMatterError when any value of ``meta`` is over the limits above."""

    def walk(value: Any, path: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise FrontMatterError(f"{what} is nested more than {MAX_DEPTH} levels deep at '{path}'")
        if isinstance(value, str):
            if len(value) > MAX_STRING:
                raise FrontMatterError(f"{what} '{path}' is {len(value):,} characters; the limit is {MAX_STRING:,}")
        elif isinstance(value, (list, tuple)):
            if len(value) > MAX_ITEMS:
                raise FrontMatterError(f"{what} '{path}' has {len(value)} items; the limit is {MAX_ITEMS}")
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]", depth + 1)
        elif isinstance(value, dict):
            if len(value) > MAX_ITEMS:
                raise FrontMatterError(f"{what} '{path or 'top level'}' has {len(value)} keys; the limit is {MAX_ITEMS}")
            for k, v in value.items():
                key = str(k)
                if len(key) > MAX_STRING:
                    raise FrontMatterError(f"{what} has a key of {len(key):,} characters")
                walk(v, f"{path}.{key}" if path else key, depth + 1)
        elif not isinstance(value, _SCALARS):
            raise FrontMatterError(f"{what} '{path}' has an unsupported value type ({type(value).__name__})")

    walk(meta, "", 0)
    size = len(json.dumps(meta, default=str))
    if size > max_total:
        raise FrontMatterError(f"{what} is {size:,} characters serialised; the limit is {max_total:,}")


def split_front_matter(raw: str) -> tuple[dict[str, Any], str, int]:
    """Return (front matter, body, number of lines the front matter took)."""
    m = _FENCE.match(raw)
    if not m:
        return {}, raw, 0
    data = parse_yaml(m.group(1)) or {}
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
    check_limits(meta)
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
