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
from threadpoolctl import threadpool_limits

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
    p.add_argument("--repeats", type=int, default=3, help="timings per query and mode (the median counts)")
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
    times: dict[str, list[float]] = {"chunks": [], "spans, unit table": [], "spans, split on first use": [],
                                     "chunks, BLAS on every core": [], "spans, unit table, BLAS on every core": []}
    same = 0
    index = spans_mod.span_index(corpus)  # built once (term vectors): not what is timed
    for t in picked:  # warm the query embedding and routing caches alike for both runs
        a.search(t["query"], k=8, document=t.get("doc_hint"))
    for t in picked:
        q, doc = t["query"], t.get("doc_hint")
        runs: dict[str, list[float]] = {name: [] for name in list(times)[:3]}
        for _ in range(args.repeats):  # each mode several times, interleaved; a query's time is its median
            t0 = time.perf_counter()
            a.search(q, k=8, document=doc)
            runs["chunks"].append((time.perf_counter() - t0) * 1000)
            corpus.unit_table = None  # first-use splitting: no unit table, empty caches
            index._units.clear()
            index._headings.clear()
            t0 = time.perf_counter()
            plain = a.search_spans(q, budget_chars=args.budget, document=doc)
            runs["spans, split on first use"].append((time.perf_counter() - t0) * 1000)
            corpus.unit_table = table_arrays
            index._stored_heads.clear()
            t0 = time.perf_counter()
            tabled = a.search_spans(q, budget_chars=args.budget, document=doc)
            runs["spans, unit table"].append((time.perf_counter() - t0) * 1000)
        for name, ms in runs.items():
            times[name].append(float(np.median(ms)))
        same += [(s.source, s.start, s.end) for s in plain] == [(s.source, s.start, s.end) for s in tabled]
    # Then, as a separate phase (its spinning threads would slow whatever runs next), numpy's BLAS on
    # every core: the default before core/threads.py gave it one thread.
    with threadpool_limits(os.cpu_count() or 1, user_api="blas"):
        for t in picked:
            q, doc = t["query"], t.get("doc_hint")
            runs = {"chunks, BLAS on every core": [], "spans, unit table, BLAS on every core": []}
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                a.search(q, k=8, document=doc)
                runs["chunks, BLAS on every core"].append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                a.search_spans(q, budget_chars=args.budget, document=doc)
                runs["spans, unit table, BLAS on every core"].append((time.perf_counter() - t0) * 1000)
            for name, ms in runs.items():
                times[name].append(float(np.median(ms)))
    load1 = os.getloadavg()[0]
    base = _p(times["spans, split on first use"])[1]
    rows = [[name, len(ms), *_p(ms), f"{base / _p(ms)[1]:.2f}x"] for name, ms in times.items()]
    units_mb = sum(np.asarray(v).nbytes for v in table_arrays.values()) / 2**20
    text = (f"# Span search latency: unit table vs splitting on first use\n\nDate: {dt.datetime.now():%Y-%m-%d %H:%M} · "
            f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()} · load average "
            f"{load0:.1f} → {load1:.1f}\n\nSet: {set_dir.name}, {len(corpus.chunks):,} chunks, {len(picked)} queries "
            f"(random, seed 0), budget {args.budget:,} characters, `{args.backend}` embeddings. Each query's span search "
            f"is timed {args.repeats} times per mode, interleaved, with the span index's unit caches emptied first (so no unit of "
            "its chunks is cached); a query's time is the median of its runs.\n\n"
            + table(["search", "queries", "p50 ms", "p95 ms", "p99 ms", "p95 speed-up vs splitting"], rows)
            + "\nThe last two rows run with numpy's BLAS on every core, as before `assistant/core/threads.py` gave it one "
            "thread: its spinning threads starve the embedding model's.\n"
            + f"\nIdentical spans in both modes: {same}/{len(picked)} queries. Unit table in the snapshot: "
            f"{len(table_arrays['start']):,} units, {units_mb:.1f} MB. Target (issue 17): span search p95 ≤ 50 ms at 20k chunks.\n")
    REPORT.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
