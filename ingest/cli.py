"""The ingest command: ``python -m ingest [PATH]``, also ``assistant ingest`` (same arguments)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", help="file or folder (default: the knowledge root)")
    p.add_argument("--rebuild", action="store_true", help="drop what this collection holds and start over")
    p.add_argument("--wait", action="store_true", help="wait for a running ingest instead of refusing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--collection", help="collection name (overrides settings)")


def run(args: argparse.Namespace) -> int:
    """Ingest with the configured settings; 0 when every file went in, 1 when some failed, 2 on bad input."""
    from assistant.core.embeddings import make_embedder
    from assistant.core.settings import load_settings
    from assistant.core.store import ChromaStore
    from ingest.manifest import Manifest
    from ingest.pipeline import run_ingest

    settings = load_settings(getattr(args, "settings", None), **({"collection": args.collection} if args.collection else {}))
    path = Path(args.path) if args.path else None
    if path is not None and not path.exists():
        print(f"error: {path} does not exist", file=sys.stderr)
        return 2
    embedder = make_embedder(settings.embedding_model, settings.embedding_backend)
    store = ChromaStore.open(settings, embedder.name, embedder.dimension)
    clone = getattr(embedder, "clone", None)  # the bulk-ingest instance (PyTorch under the ONNX backend)
    report = run_ingest(settings, store, clone() if clone else embedder, Manifest.for_settings(settings), path,
                        rebuild=args.rebuild, show_bar=False if args.quiet else None, wait=args.wait)
    print(report.summary())
    return 0 if report.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    from assistant.core.cli import guarded
    from ingest.lock import IngestLockedError

    p = argparse.ArgumentParser(prog="python -m ingest", description="Ingest the knowledge base (incremental).")
    p.add_argument("--settings", help="settings YAML file (default: ASSISTANT_SETTINGS_FILE or ./assistant.yaml)")
    add_arguments(p)
    args = p.parse_args(argv)
    return guarded(lambda: run(args), (IngestLockedError,))
