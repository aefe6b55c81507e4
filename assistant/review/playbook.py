"""The contract review playbook (``knowledge/playbook.yaml``): one validated ``Requirement`` per
checkable term, each pointing at the clause of a standard document that states it.

Validation is strict and names the entry and the field: an unknown key, a missing field, a unit
we cannot convert or an ``acceptable`` value on the wrong side of the standard stops the load.
``check_standards`` also checks that each standard clause starts a line of its standard document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.core.access import AUDIENCES

PACKAGED = Path(__file__).resolve().parents[2] / "knowledge" / "playbook.yaml"
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
UNITS: tuple[str, ...] = ("hours", "days", "business_days", "weeks", "months", "years", "percent", "fees_multiple",
                          "months_fees", "eur", "usd", "tls_version", "bits", "times_per_year")
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CLAUSE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){0,3}$")
_TOP_KEYS = {"version", "vague", "requirements"}
_REQ_KEYS = {"id", "topic", "group", "standard", "query", "keywords", "meets", "measure", "severity", "audience",
             "applies_if", "cuad", "must_state", "also_met_by", "about"}
_REQUIRED = ("id", "topic", "group", "standard", "query", "keywords", "meets", "severity", "audience")
_MEASURE_KEYS = {"quantity", "unit", "standard", "better", "acceptable", "periodic"}


def accepts(unit: str, periodic: bool, kind: str) -> bool:
    """A repeating value ("every 12 months", "quarterly") states only a periodic measure; an amount
    ("within 30 days") states any measure but a count per year."""
    if kind in ("interval", "frequency"):
        return periodic
    return unit != "times_per_year"


class PlaybookError(ValueError):
    """A playbook entry that cannot be used; the message names the entry and the field."""


@dataclass(frozen=True)
class Measure:
    quantity: str
    unit: str
    standard: float
    better: str  # lower | higher
    acceptable: float
    periodic: bool = False  # a repeating period ("every 90 days"), not a deadline or an amount

    def accepts(self, kind: str) -> bool:
        """Whether a value of this kind (amount | interval | frequency) can state this measure."""
        return accepts(self.unit, self.periodic, kind)

    def meets(self, value: float) -> bool:
        """Whether ``value`` (in ``unit``) is at least as good as the worst acceptable value."""
        eps = 1e-9 * max(1.0, abs(self.acceptable))
        return value <= self.acceptable + eps if self.better == "lower" else value >= self.acceptable - eps


@dataclass(frozen=True)
class Requirement:
    id: str
    topic: str
    group: str
    source: str  # the standard document, relative to the knowledge root
    clause: str  # its clause number ("7.1")
    query: str
    keywords: tuple[str, ...]
    meets: str
    severity: str
    audience: str
    measure: Measure | None = None
    applies_if: tuple[str, ...] = ()
    cuad: tuple[str, ...] = ()
    must_state: tuple[tuple[str, ...], ...] = ()  # each group: alternatives, one of which a meeting clause states
    also_met_by: str | None = None  # a requirement whose meeting clause covers this one too
    about: tuple[str, ...] = ()  # a clause is about the term only if it states one of these (else not evidence)


@dataclass
class Playbook:
    requirements: list[Requirement]
    vague: tuple[str, ...] = ()
    path: Path | None = None
    by_id: dict[str, Requirement] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {r.id: r for r in self.requirements}

    @property
    def root(self) -> Path | None:
        """The knowledge root the standard sources are relative to (the playbook's folder)."""
        return self.path.parent if self.path else None


def _fail(where: str, fld: str, msg: str) -> PlaybookError:
    return PlaybookError(f"playbook {where}: field '{fld}': {msg}")


def _text(d: dict, key: str, where: str, optional: bool = False) -> str | None:
    v = d.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, str) or not v.strip():
        raise _fail(where, key, f"must be a non-empty string (got {v!r})")
    return v.strip()


def _words(d: dict, key: str, where: str, optional: bool = True) -> tuple[str, ...]:
    v = d.get(key)
    if v is None and optional:
        return ()
    if not isinstance(v, list) or not v or not all(isinstance(x, str) and x.strip() for x in v):
        raise _fail(where, key, f"must be a non-empty list of strings (got {v!r})")
    return tuple(x.strip() for x in v)


def _number(d: dict, key: str, where: str) -> float:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _fail(where, key, f"must be a number (got {v!r})")
    return float(v)


def _measure(d: Any, where: str) -> Measure:
    if not isinstance(d, dict):
        raise _fail(where, "measure", f"must be a mapping (got {type(d).__name__})")
    unknown = set(d) - _MEASURE_KEYS
    if unknown:
        raise _fail(where, f"measure.{sorted(unknown)[0]}", f"unknown key; allowed: {', '.join(sorted(_MEASURE_KEYS))}")
    unit = d.get("unit")
    if unit not in UNITS:
        raise _fail(where, "measure.unit", f"must be one of {', '.join(UNITS)} (got {unit!r})")
    better = d.get("better")
    if better not in ("lower", "higher"):
        raise _fail(where, "measure.better", f"must be 'lower' or 'higher' (got {better!r})")
    periodic = d.get("periodic", unit == "times_per_year")
    if not isinstance(periodic, bool):
        raise _fail(where, "measure.periodic", f"must be true or false (got {periodic!r})")
    if unit == "times_per_year" and not periodic:
        raise _fail(where, "measure.periodic", "a times_per_year measure is always periodic")
    m = Measure(_text(d, "quantity", where) or "", unit, _number(d, "standard", where), better,
                _number(d, "acceptable", where), periodic)
    if (better == "lower" and m.acceptable < m.standard) or (better == "higher" and m.acceptable > m.standard):
        raise _fail(where, "measure.acceptable", f"{m.acceptable:g} is stricter than the standard {m.standard:g} "
                    f"(better: {better}); the worst acceptable value cannot beat the standard")
    return m


def parse_requirement(d: Any, where: str) -> Requirement:
    """One requirement from its YAML mapping; ``where`` names it in errors."""
    if not isinstance(d, dict):
        raise PlaybookError(f"playbook {where}: must be a mapping (got {type(d).__name__})")
    if isinstance(d.get("id"), str):
        where = f"{where} '{d['id']}'"
    unknown = set(d) - _REQ_KEYS
    if unknown:
        raise _fail(where, sorted(unknown)[0], f"unknown key; allowed: {', '.join(sorted(_REQ_KEYS))}")
    for key in _REQUIRED:
        if key not in d:
            raise _fail(where, key, "is required")
    rid = _text(d, "id", where) or ""
    if not _ID.match(rid):
        raise _fail(where, "id", f"must be kebab-case (got {rid!r})")
    std = d["standard"]
    if not isinstance(std, dict) or set(std) != {"source", "clause"}:
        raise _fail(where, "standard", "must be a mapping with exactly 'source' and 'clause'")
    clause = std["clause"].strip() if isinstance(std["clause"], str) else ""
    if not _CLAUSE.match(clause):  # a YAML number would turn "5.10" into 5.1: clause numbers are quoted strings
        raise _fail(where, "standard.clause", f"must be a clause number like 7.1 (got {std['clause']!r}; quote it in YAML)")
    source = _text(std, "source", where) or ""
    if source.startswith("/") or ".." in Path(source).parts:
        raise _fail(where, "standard.source", f"must be a path inside the knowledge root (got {source!r})")
    severity, audience = d["severity"], d["audience"]
    if severity not in SEVERITIES:
        raise _fail(where, "severity", f"must be one of {', '.join(SEVERITIES)} (got {severity!r})")
    if audience not in AUDIENCES:
        raise _fail(where, "audience", f"must be one of {', '.join(AUDIENCES)} (got {audience!r})")
    must = d.get("must_state")
    groups: tuple[tuple[str, ...], ...] = ()
    if must is not None:
        if not isinstance(must, list) or not must:
            raise _fail(where, "must_state", "must be a non-empty list of lists of phrases")
        groups = tuple(_words({"must_state": g if isinstance(g, list) else [g]}, "must_state", where, optional=False)
                       for g in must)
    also = _text(d, "also_met_by", where, optional=True)
    if also == rid:
        raise _fail(where, "also_met_by", "cannot name the requirement itself")
    return Requirement(
        id=rid, topic=_text(d, "topic", where) or "", group=_text(d, "group", where) or "", source=source, clause=clause,
        query=_text(d, "query", where) or "", keywords=_words(d, "keywords", where, optional=False),
        meets=_text(d, "meets", where) or "", severity=severity, audience=audience,
        measure=_measure(d["measure"], where) if d.get("measure") is not None else None,
        applies_if=_words(d, "applies_if", where), cuad=_words(d, "cuad", where), must_state=groups, also_met_by=also,
        about=_words(d, "about", where),
    )


def parse_playbook(data: Any, path: Path | None = None) -> Playbook:
    """A ``Playbook`` from parsed YAML; raises ``PlaybookError`` naming the entry and field."""
    if not isinstance(data, dict):
        raise PlaybookError("playbook: the file must be a mapping with 'version' and 'requirements'")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise PlaybookError(f"playbook: unknown top-level key {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(_TOP_KEYS))}")
    if data.get("version") != 1:
        raise PlaybookError(f"playbook: field 'version': must be 1 (got {data.get('version')!r})")
    reqs = data.get("requirements")
    if not isinstance(reqs, list) or not reqs:
        raise PlaybookError("playbook: field 'requirements': must be a non-empty list")
    out = [parse_requirement(d, f"requirement #{i + 1}") for i, d in enumerate(reqs)]
    seen: set[str] = set()
    for i, r in enumerate(out):
        if r.id in seen:
            raise _fail(f"requirement #{i + 1} '{r.id}'", "id", "duplicate id")
        seen.add(r.id)
    for i, r in enumerate(out):
        if r.also_met_by and r.also_met_by not in seen:
            raise _fail(f"requirement #{i + 1} '{r.id}'", "also_met_by", f"names no requirement ({r.also_met_by!r})")
    vague = _words(data, "vague", "(top level)")
    return Playbook(out, vague, path)


def load_playbook(path: Path | str | None = None, check: bool = True) -> Playbook:
    """Read and validate a playbook (default: the shipped ``knowledge/playbook.yaml``).

    With ``check`` every standard clause must start a line of its standard document.
    """
    p = Path(path) if path else PACKAGED
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlaybookError(f"playbook {p}: cannot read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise PlaybookError(f"playbook {p}: not valid YAML ({exc})") from None
    book = parse_playbook(data, p)
    if check:
        problems = check_standards(book)
        if problems:
            raise PlaybookError("; ".join(problems))
    return book


def playbook_for(knowledge_root: Path | None) -> Path:
    """The playbook of a knowledge root, or the shipped one when that root has none (e.g. a benchmark corpus)."""
    if knowledge_root is not None and (Path(knowledge_root) / "playbook.yaml").is_file():
        return Path(knowledge_root) / "playbook.yaml"
    return PACKAGED


def playbook_problem(knowledge_root: Path | None) -> str | None:
    """Why the knowledge root's own ``playbook.yaml`` is unusable (None when it is valid or absent):
    ingest reports it like a bad file, so a broken playbook is seen before the first review."""
    if knowledge_root is None or not (Path(knowledge_root) / "playbook.yaml").is_file():
        return None
    try:
        load_playbook(Path(knowledge_root) / "playbook.yaml")
    except PlaybookError as exc:
        return str(exc)
    return None


def clause_pattern(clause: str) -> re.Pattern[str]:
    """A clause number at the start of a line, followed by a space (so 5.1 never matches 5.10)."""
    return re.compile(rf"^[ \t]*{re.escape(clause)}[ \t]+\S", re.M)


def check_standards(book: Playbook) -> list[str]:
    """Problems with the standards: a missing document, or a clause that starts no line of it."""
    from ingest.loaders import LoadError, load

    root = book.root or PACKAGED.parent
    problems: list[str] = []
    texts: dict[str, str | None] = {}
    for i, r in enumerate(book.requirements):
        where = f"playbook requirement #{i + 1} '{r.id}'"
        if r.source not in texts:
            try:
                texts[r.source] = load(root / r.source, r.source).text
            except LoadError as exc:
                texts[r.source] = None
                problems.append(f"{where}: field 'standard.source': {exc.reason} ({root / r.source})")
                continue
        text = texts[r.source]
        if text is not None and not clause_pattern(r.clause).search(text):
            problems.append(f"{where}: field 'standard.clause': no line of {r.source} starts with clause {r.clause}")
    return problems
