"""``assistant review <file or indexed contract> [--role R] [--json] [--out report.md|report.csv]``.

``assistant/cli.py`` calls ``add_review_command(subparsers)``; a contract that cannot be reviewed
raises ``ReviewError`` (a ``ValueError``), which the command line prints as ``error: ...`` (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

OUT_FORMATS = {".md": "markdown", ".markdown": "markdown", ".csv": "csv", ".json": "json"}


def add_review_command(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``review`` sub-command to an ``argparse`` sub-parser collection."""
    from assistant.core.access import ROLES

    s = subparsers.add_parser("review", help="check a contract against the playbook (knowledge/playbook.yaml)")
    s.add_argument("contract", help="an indexed contract (file name, path or title) or a file to review "
                                    "(pdf, docx, md, txt, html; read in memory, not added to the knowledge base)")
    s.add_argument("--role", choices=ROLES, help="review as this role (default: the settings' default_role)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.add_argument("--out", help="also write the report to a file: .md, .csv or .json")
    s.add_argument("--status", action="append", choices=["meets", "weaker", "unclear", "missing", "not_applicable"],
                   help="show only rows with this status (repeatable)")
    s.add_argument("--collection", help="collection name (overrides settings)")
    s.set_defaults(fn=cmd_review)
    return s


def _assistant(args: argparse.Namespace) -> Any:
    from assistant.api import Assistant
    from assistant.core.settings import load_settings

    overrides = {"collection": args.collection} if getattr(args, "collection", None) else {}
    return Assistant.from_settings(load_settings(getattr(args, "settings", None), **overrides))


def cmd_review(args: argparse.Namespace) -> int:
    from assistant.review import report
    from assistant.review.review import review

    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in OUT_FORMATS:
        raise ValueError(f"--out must end in {', '.join(OUT_FORMATS)} (got {out.name})")
    a = _assistant(args)
    progress = None
    if sys.stderr.isatty() and not args.json:
        def progress(frac: float, desc: str) -> None:
            print(f"\r{frac:4.0%} {desc:<70}", end="" if frac < 1 else "\n", file=sys.stderr, flush=True)
    r = review(a, args.contract, role=args.role, progress=progress)
    rows = report.select(r.rows, args.status)
    if out is not None:
        kind = OUT_FORMATS[out.suffix.lower()]
        text = {"markdown": lambda: report.to_markdown(r, rows), "csv": lambda: report.to_csv(r, rows),
                "json": lambda: report.to_json(r)}[kind]()
        out.write_text(text, encoding="utf-8")
    if args.json:
        print(report.to_json(r))
        return 0
    print(f"{r.title} ({r.source}{'' if r.indexed else ', uploaded file'}) — role {r.role}, {r.seconds:.1f} s")
    print(report.summary_line(r))
    for row in rows:
        print(f"\n[{row.status.upper():>14}] {row.topic} ({row.severity}) — {row.reason}")
        if row.contract_quote:
            print(f"    contract: \"{' '.join(row.contract_quote.quote.split())[:300]}\" ({row.contract_quote.location})")
        if row.standard_quote:
            print(f"    standard: \"{' '.join(row.standard_quote.quote.split())[:300]}\" ({row.standard_quote.location})")
    for n in r.notes:
        print(f"\nnote: {n}")
    if out is not None:
        print(f"\nreport written to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m assistant.review.cli review ...``: the same command before (or without) ``assistant``."""
    from assistant.core.cli import guarded

    p = argparse.ArgumentParser(prog="python -m assistant.review.cli")
    p.add_argument("--settings", help="settings YAML file (default: ASSISTANT_SETTINGS_FILE or ./assistant.yaml)")
    add_review_command(p.add_subparsers(dest="cmd", required=True))
    args = p.parse_args(argv)
    return guarded(lambda: args.fn(args))


if __name__ == "__main__":
    sys.exit(main())
