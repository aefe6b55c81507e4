"""The ``assistant`` command line: ingest, ask, search, findings, stats, export/import, feedback,
and the eval and bench suites (run as ``python -m evals`` subprocesses: the library never imports
``evals``)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _filters(items: Sequence[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"--filter expects key=value, got {item!r}")
        k, v = item.split("=", 1)
        vals = [x.strip() for x in v.split(",") if x.strip()]
        out[k.strip()] = vals if len(vals) > 1 else (vals[0] if vals else "")
    return out


def _build(args: argparse.Namespace):
    from assistant.api import Assistant
    from assistant.core.settings import load_settings

    overrides = {}
    if getattr(args, "collection", None):
        overrides["collection"] = args.collection
    settings = load_settings(args.settings, **overrides)
    return Assistant.from_settings(settings)


def cmd_ask(args: argparse.Namespace) -> int:
    a = _build(args)
    ans = a.ask(args.question, filters=_filters(args.filter), role=args.role)
    if args.json:
        d = ans.to_dict()
        d["sources"] = [{k: v for k, v in s.items() if k != "metadata"} for s in d["sources"]]
        print(json.dumps(d, indent=2, default=str))
        return 0
    if ans.notice:
        print(f"note: {ans.notice}\n")
    print(ans.text)
    if ans.citations:
        print("\nSources:")
        for c in ans.citations:
            section = f" § {c.section}" if c.section else ""
            print(f"[{c.n}] {c.title}{section} — {c.location}")
            print(f"     \"{c.quote[:300]}\"")
    if ans.filters:
        print(f"\n(filters: {json.dumps(ans.filters)})")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    a = _build(args)
    hits = a.search(args.query, k=args.k, filters=_filters(args.filter), role=args.role, document=args.document)
    if args.json:
        print(json.dumps([{k: v for k, v in h.to_dict().items() if k != "metadata"} for h in hits], indent=2, default=str))
        return 0
    for i, h in enumerate(hits, 1):
        print(f"{i:>2}. {h.score:.4f}  {h.source}:{h.line}  [{h.start}:{h.end}]  {h.section}")
        print("    " + h.text[:200].replace("\n", " "))
    return 0


def cmd_findings(args: argparse.Namespace) -> int:
    from assistant.core import findings

    a = _build(args)
    rows = a.findings(role=args.role)
    rows = findings.select(rows, status=args.status)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    for r in rows:
        print(f"{r['id']:<11} {r['vendor']:<11} {r['severity']:<8} {r['status']:<6} due {r['due_date']}  {r['area']}  ({r['source']})")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    a = _build(args)
    print(json.dumps(a.stats(), indent=2))
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from assistant.core.settings import load_settings
    from assistant.feedback import FeedbackStore

    settings = load_settings(args.settings)
    n = FeedbackStore(settings.feedback_db).export_csv(Path(args.out) if args.out else None, sys.stdout)
    print(f"exported {n} feedback rows" + (f" to {args.out}" if args.out else ""), file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from assistant.backup import export_index

    a = _build(args)
    n = export_index(a.store, a.manifest, Path(args.file))
    print(f"exported {n} chunks of collection {a.settings.collection!r} to {args.file}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from assistant.backup import import_index

    from ingest.lock import IngestLock

    a = _build(args)
    with IngestLock(a.settings.index_dir, a.settings.collection, wait=False):
        # then write the corpus snapshot, so the serving processes map it instead of rebuilding
        n = import_index(a.store, a.manifest, Path(args.file), after=lambda: a.retriever.refresh(force=True))
    print(f"imported {n} chunks into collection {a.settings.collection!r}")
    return 0


def cmd_suite(args: argparse.Namespace) -> int:
    """``assistant eval ...`` = ``python -m evals ...``; ``assistant bench ...`` = ``python -m evals.bench ...``."""
    module = {"eval": "evals", "bench": "evals.bench"}[args.cmd]
    return subprocess.call([sys.executable, "-m", module, *args.rest])


def cmd_ingest(args: argparse.Namespace) -> int:
    """``python -m ingest`` through the Assistant: the playbook is checked (a broken one is reported
    like a bad file) and the new generation's corpus snapshot is written, so serving processes map
    it instead of each rebuilding it."""
    from assistant.api import Assistant
    from assistant.core.settings import load_settings

    settings = load_settings(args.settings, **({"collection": args.collection} if args.collection else {}))
    path = Path(args.path) if args.path else None
    if path is not None and not path.exists():
        print(f"error: {path} does not exist", file=sys.stderr)
        return 2
    a = Assistant.from_settings(settings)
    report = a.ingest(path, rebuild=args.rebuild, show_bar=False if args.quiet else None, wait=args.wait)
    print(report.summary())
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    from assistant.core.access import ROLES
    from assistant.core.findings import STATUSES
    from ingest.cli import add_arguments as add_ingest_arguments

    p = argparse.ArgumentParser(prog="assistant", description="Outsourcing guidance assistant")
    p.add_argument("--settings", help="settings YAML file (default: ASSISTANT_SETTINGS_FILE or ./assistant.yaml)")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("ingest", help="ingest the knowledge base (incremental)")
    add_ingest_arguments(s)
    s.set_defaults(fn=cmd_ingest)

    for name, fn, help_ in (("ask", cmd_ask, "answer a question with citations"), ("search", cmd_search, "raw retrieval")):
        s = sub.add_parser(name, help=help_)
        s.add_argument("question" if name == "ask" else "query")
        s.add_argument("--filter", action="append", metavar="KEY=VALUE",
                       help="doc_type, vendor, severity, status, tags, source, date_from, date_to (repeatable)")
        s.add_argument("--role", choices=ROLES)
        s.add_argument("--json", action="store_true", help="machine-readable output")
        s.add_argument("--collection", help="collection name (overrides settings)")
        if name == "search":
            s.add_argument("-k", type=int, default=8)
            s.add_argument("--document", help="narrow to a document (file name or title)")
        s.set_defaults(fn=fn)

    s = sub.add_parser("findings", help="list audit findings with their current status")
    s.add_argument("--status", choices=STATUSES)
    s.add_argument("--role", choices=ROLES)
    s.add_argument("--json", action="store_true")
    s.add_argument("--collection")
    s.set_defaults(fn=cmd_findings)

    s = sub.add_parser("stats", help="what the index holds")
    s.add_argument("--collection")
    s.set_defaults(fn=cmd_stats)

    s = sub.add_parser("feedback", help="feedback given in the web app")
    s.add_argument("action", choices=["export"])
    s.add_argument("--out", help="CSV file (default: standard output)")
    s.set_defaults(fn=cmd_feedback)

    s = sub.add_parser("export", help="back up the index (chunks, vectors, manifest) to a .jsonl.gz file")
    s.add_argument("file")
    s.add_argument("--collection")
    s.set_defaults(fn=cmd_export)
    s = sub.add_parser("import", help="restore an export into the collection (replaces its content)")
    s.add_argument("file")
    s.add_argument("--collection")
    s.set_defaults(fn=cmd_import)

    from assistant.review.cli import add_review_command

    add_review_command(sub)

    for name in ("eval", "bench"):
        s = sub.add_parser(name, help=f"run the {name} suite (python -m evals{'' if name == 'eval' else '.bench'}; see evals/)")
        s.add_argument("rest", nargs=argparse.REMAINDER)
        s.set_defaults(fn=cmd_suite)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from assistant.core.cli import guarded
    from ingest.lock import IngestLockedError

    args = build_parser().parse_args(argv)
    return guarded(lambda: args.fn(args), (IngestLockedError,))


if __name__ == "__main__":
    sys.exit(main())
