"""``python -m evals.bench_spans``: span search latency with and without the snapshot's unit table.

Span search scores the statement units of the top chunks. Without a unit table (a corpus built
in memory) every chunk is split and tokenised on first use; a snapshot stores the units and
their term ids, so a query splits no text. Both are timed in the same process on the same CUAD
queries (each query's first search: its chunks' units are not cached yet), with chunk search as
a reference, and written to ``evals/reports/bench-spans.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from pathlib import Path

import numpy as np

from evals.common import table
from evals.legalbench import _assistant, load_tests

REPORT = Path(__file__).resolve().parent / "reports" / "bench-spans.md"


def _p(ms: list[float]) -> tuple[float, float, float]:
    return tuple(round(float(np.percentile(ms, q)), 1) for q in (50, 95, 99))  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("set_dir", nargs="?", default="../shared/data/cuad")
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--budget", type=int, default=4000)
    p.add_argument("--backend", default="torch")
    args = p.parse_args(argv)
    from assistant.retrieval import spans as spans_mod

    set_dir = Path(args.set_dir)
    tests = load_tests(set_dir)
    rng = np.random.RandomState(0)
    picked = [tests[i] for i in rng.permutation(len(tests))[:args.queries]]
    a, _, _, _ = _assistant(set_dir, tests, 0, args.backend)
    corpus = a.retriever.corpus
    table_arrays = corpus.unit_table
    if table_arrays is None:
        raise SystemExit("the corpus has no unit table: is the snapshot written? (run an ingest first)")
    load0 = os.getloadavg()[0]
    times: dict[str, list[float]] = {"chunks": [], "spans, unit table": [], "spans, split on first use": []}
    same = 0
    index = spans_mod.span_index(corpus)  # built once (term vectors): not what is timed
    for t in picked:  # warm the query embedding and routing caches alike for both runs
        a.search(t["query"], k=8, document=t.get("doc_hint"))
    for t in picked:
        t0 = time.perf_counter()
        a.search(t["query"], k=8, document=t.get("doc_hint"))
        times["chunks"].append((time.perf_counter() - t0) * 1000)
        # First-use splitting: a fresh span index with no unit table and an empty cache.
        corpus.unit_table = None
        index._units.clear()
        index._headings.clear()
        t0 = time.perf_counter()
        plain = a.search_spans(t["query"], budget_chars=args.budget, document=t.get("doc_hint"))
        times["spans, split on first use"].append((time.perf_counter() - t0) * 1000)
        corpus.unit_table = table_arrays
        index._stored_heads.clear()
        t0 = time.perf_counter()
        tabled = a.search_spans(t["query"], budget_chars=args.budget, document=t.get("doc_hint"))
        times["spans, unit table"].append((time.perf_counter() - t0) * 1000)
        same += [(s.source, s.start, s.end) for s in plain] == [(s.source, s.start, s.end) for s in tabled]
    load1 = os.getloadavg()[0]
    base = _p(times["spans, split on first use"])[1]
    rows = [[name, len(ms), *_p(ms), f"{base / _p(ms)[1]:.2f}x"] for name, ms in times.items()]
    units_mb = sum(np.asarray(v).nbytes for v in table_arrays.values()) / 2**20
    text = (f"# Span search latency: unit table vs splitting on first use\n\nDate: {dt.datetime.now():%Y-%m-%d %H:%M} · "
            f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()} · load average "
            f"{load0:.1f} → {load1:.1f}\n\nSet: {set_dir.name}, {len(corpus.chunks):,} chunks, {len(picked)} queries "
            f"(random, seed 0), budget {args.budget:,} characters, `{args.backend}` embeddings. Each query's span search "
            "is timed once per mode with the span index's unit caches emptied first, so no unit of its chunks is cached.\n\n"
            + table(["search", "queries", "p50 ms", "p95 ms", "p99 ms", "p95 speed-up vs splitting"], rows)
            + f"\nIdentical spans in both modes: {same}/{len(picked)} queries. Unit table in the snapshot: "
            f"{len(table_arrays['start']):,} units, {units_mb:.1f} MB. Target (issue 17): span search p95 ≤ 50 ms at 20k chunks.\n")
    REPORT.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
