"""``python -m evals.bench_ingest CORPUS``: ingest throughput against raw model encode throughput.

In one process: (1) the full pipeline (load, split, embed, write to Chroma) on the corpus;
(2) the raw ``SentenceTransformer.encode`` of exactly the same chunk inputs; (3) a re-run on
the unchanged corpus. Prints the three figures and the pipeline/raw ratio, and writes
evals/reports/bench-ingest.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def main(argv: list[str] | None = None) -> int:
    from assistant.api import Assistant
    from assistant.settings import Settings
    from evals.common import table, write_report
    from ingest.pipeline import embed_input

    p = argparse.ArgumentParser(prog="python -m evals.bench_ingest", description=__doc__)
    p.add_argument("corpus", help="folder of documents, e.g. ../shared/data/cuad/corpus")
    p.add_argument("--limit", type=int, default=0, help="only the first N files (0 = all)")
    p.add_argument("--backend", default="torch", choices=["torch", "onnx", "onnx-int8"])
    p.add_argument("--no-report", action="store_true")
    args = p.parse_args(argv)

    src = Path(args.corpus)
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        root = src
        if args.limit:
            root = tmp / "corpus"
            files = sorted(f for f in src.rglob("*") if f.is_file())[: args.limit]
            for f in files:
                dest = root / f.relative_to(src)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, dest)
        settings = Settings(knowledge_root=root, index_dir=tmp / "index", embedding_backend=args.backend)
        a = Assistant.from_settings(settings)
        a.embedder.warm_up()
        t0 = time.perf_counter()
        report = a.ingest(show_bar=None)
        pipeline_s = time.perf_counter() - t0
        n = report.chunks_written
        chunks = a.store.get()
        inputs = [embed_input(c) for c in sorted(chunks, key=lambda c: (c.source, c.start))]
        t0 = time.perf_counter()
        a.embedder.embed(inputs, batch_size=settings.embedding_batch_size)
        raw_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = a.ingest(show_bar=False)
        rerun_s = time.perf_counter() - t0
        files = len(report.added) + len(report.failed)
        rows = [
            ["pipeline (load+split+embed+write)", n, round(pipeline_s, 2), round(n / pipeline_s, 1)],
            ["raw model encode, same chunks", len(inputs), round(raw_s, 2), round(len(inputs) / raw_s, 1)],
            ["unchanged re-run", 0, round(rerun_s, 3), "-"],
        ]
        ratio = (n / pipeline_s) / (len(inputs) / raw_s)
        body = f"Corpus: `{src}` ({files} files{', first ' + str(args.limit) if args.limit else ''}), "
        body += f"embedding backend {args.backend}, batch {settings.embedding_batch_size}, chunk size {settings.chunk_size} tokens.\n\n"
        body += table(["run", "chunks", "seconds", "chunks/s"], rows)
        body += f"\n\n**Pipeline / raw encode throughput: {ratio:.1%}** (target ≥ 85%). "
        body += f"Unchanged re-run: {rerun_s:.2f} s for {len(again.unchanged)} files (target < 3 s for 481 contracts). "
        body += f"Failed files: {len(report.failed)}.\n"
        print(body)
        if not args.no_report:
            print("report:", write_report("bench-ingest", "Ingest throughput benchmark", body))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
