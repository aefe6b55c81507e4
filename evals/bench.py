"""``python -m evals.bench``: ingest throughput and query latency at ~2k, ~20k and ~100k chunks.

Compares, in the same process, against a plain LangChain pipeline on the same chunks
(``Chroma.from_documents`` with ``HuggingFaceEmbeddings``, then ``similarity_search``).

* Ingest: our pipeline, the raw model encode of the same chunk inputs, and LangChain's
  ``from_documents`` on the first ~2k chunks of the corpus; plus an unchanged re-ingest.
* Latency: the corpus is ingested once (CUAD: ~20k chunks), sliced to ~2k and repeated under
  new ids to ~100k (vectors copied, not re-embedded). At each size: our retrieval alone
  (``Assistant.search``), our full answer (retrieval + extractive answer) and LangChain's
  ``similarity_search`` over a collection holding the same vectors, p50/p95/p99 over the same
  queries. Peak memory is the process high-water mark after each size; cold start is the time
  from building the Assistant to its first answer.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

WORK = Path(__file__).resolve().parent / ".work" / "bench"


def rss_mb(field: str = "VmHWM") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(xs: list[float]) -> tuple[float, float, float]:
    return tuple(float(np.percentile(xs, q)) for q in (50, 95, 99))  # type: ignore[return-value]


def copy_collection(src, dst, limit: int, repeat: int = 1, page: int = 2000) -> int:
    """Copy up to ``limit`` chunks (vectors included) from src, ``repeat`` times under new ids."""
    n = 0
    for r in range(repeat):
        offset = 0
        while offset < limit:
            res = src.get(include=["documents", "metadatas", "embeddings"], limit=min(page, limit - offset), offset=offset)
            if not res["ids"]:
                break
            ids = [f"{cid}-r{r}" if r else cid for cid in res["ids"]]
            metas = res["metadatas"]
            if r:
                metas = [{**m, "source": f"r{r}/{m['source']}"} for m in metas]
            dst.upsert(ids=ids, documents=res["documents"], metadatas=metas, embeddings=res["embeddings"])
            n += len(ids)
            offset += len(res["ids"])
    return n


def main(argv: list[str] | None = None) -> int:
    import chromadb
    from chromadb.config import Settings as CS

    from assistant.api import Assistant
    from assistant.embeddings import make_embedder
    from assistant.settings import Settings
    from evals.common import table, write_report
    from evals.legalbench import load_tests
    from ingest.pipeline import embed_input

    p = argparse.ArgumentParser(prog="python -m evals.bench", description=__doc__)
    p.add_argument("--set", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "cuad"))
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--sizes", default="2000,20000,100000")
    p.add_argument("--ingest-chunks", type=int, default=2000, help="size of the ingest comparison")
    p.add_argument("--backend", default="torch", choices=["torch", "onnx", "onnx-int8"])
    args = p.parse_args(argv)
    set_dir = Path(args.set)
    sizes = [int(s) for s in args.sizes.split(",")]
    WORK.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []

    # ---- the full corpus, ingested once (incremental: a re-run costs nothing) -------------
    t0 = time.perf_counter()
    embedder = make_embedder(backend=args.backend)
    # The same index as `python -m evals.legalbench <set>`, so the corpus is embedded once for both.
    base_settings = Settings(knowledge_root=set_dir / "corpus", index_dir=WORK.parent / f"{set_dir.name}-{args.backend}" / "all" / "index",
                             collection=f"bench-{set_dir.name}", embedding_backend=args.backend)
    full = Assistant.from_settings(base_settings, embedder=embedder)
    rep = full.ingest(show_bar=None)
    full_chunks = full.store.count()
    rerun_t0 = time.perf_counter()
    again = full.ingest(show_bar=False)
    rerun_s = time.perf_counter() - rerun_t0
    lines.append(f"Corpus: `{set_dir}/corpus`: {len(rep.added) + len(rep.unchanged)} files, {full_chunks} chunks "
                 f"(this run embedded {rep.embedded}). Unchanged re-ingest of all files: **{rerun_s:.2f} s** "
                 f"({len(again.unchanged)} files unchanged).\n")

    # ---- ingest throughput: ours vs raw encode vs LangChain, same ~2k chunks --------------
    chunks = sorted(full.store.get(), key=lambda c: (c.source, c.start))
    sub, seen_sources = [], []
    for c in chunks:
        if len(sub) >= args.ingest_chunks and c.source not in seen_sources[-1:]:
            break
        if not seen_sources or seen_sources[-1] != c.source:
            seen_sources.append(c.source)
        sub.append(c)
    sub_dir = WORK / "ingest-corpus"
    shutil.rmtree(sub_dir, ignore_errors=True)
    for s in seen_sources:
        dest = sub_dir / s
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(set_dir / "corpus" / s, dest)
    shutil.rmtree(WORK / "ingest-index", ignore_errors=True)
    s2 = Settings(knowledge_root=sub_dir, index_dir=WORK / "ingest-index", collection="ingest-bench", embedding_backend=args.backend)
    ours = Assistant.from_settings(s2, embedder=embedder)
    t0 = time.perf_counter()
    r2 = ours.ingest(show_bar=False)
    ours_s = time.perf_counter() - t0
    n_ing = r2.chunks_written
    inputs = [embed_input(c) for c in sorted(ours.store.get(), key=lambda c: (c.source, c.start))]
    t0 = time.perf_counter()
    embedder.embed(inputs, batch_size=s2.embedding_batch_size)
    raw_s = time.perf_counter() - t0

    from langchain_chroma import Chroma
    from langchain_core.documents import Document as LCDocument
    from langchain_huggingface import HuggingFaceEmbeddings

    lc_emb = HuggingFaceEmbeddings(model_name=str(embedder.path), model_kwargs={"device": "cpu", "local_files_only": True},
                                   encode_kwargs={"normalize_embeddings": True})
    docs = [LCDocument(page_content=c.text, metadata={"source": c.source, "start": c.start}) for c in sorted(ours.store.get(), key=lambda c: (c.source, c.start))]
    shutil.rmtree(WORK / "lc-ingest", ignore_errors=True)
    t0 = time.perf_counter()
    Chroma.from_documents(docs, lc_emb, collection_name="lc-ingest", persist_directory=str(WORK / "lc-ingest"),
                          client_settings=CS(anonymized_telemetry=False))
    lc_s = time.perf_counter() - t0
    lines.append("## Ingest throughput (same chunks)\n")
    lines.append(table(["pipeline", "chunks", "seconds", "chunks/s", "vs raw encode"], [
        ["ours: load + split + embed + write", n_ing, round(ours_s, 1), round(n_ing / ours_s, 1), f"{(raw_s / ours_s):.0%}"],
        ["raw model encode of the same inputs", len(inputs), round(raw_s, 1), round(len(inputs) / raw_s, 1), "100%"],
        ["LangChain Chroma.from_documents + HuggingFaceEmbeddings", len(docs), round(lc_s, 1), round(len(docs) / lc_s, 1), f"{(raw_s / lc_s):.0%}"],
    ]))
    lines.append(f"\nOurs vs LangChain ingest: **{lc_s / ours_s:.2f}x** faster.\n")

    # ---- latency at each size ---------------------------------------------------------------
    tests = load_tests(set_dir, args.queries)
    queries = [t["query"] for t in tests]
    client = chromadb.PersistentClient(path=str(WORK / "sizes"), settings=CS(anonymized_telemetry=False))
    rows = []
    for size in sizes:
        name = f"size-{size}"
        repeat = max(1, -(-size // full_chunks))
        limit = min(size, full_chunks)
        try:
            col = client.get_collection(name)
            have = col.count()
        except Exception:
            have = 0
        if have == 0:
            col = client.get_or_create_collection(name, metadata={"embedding_model": embedder.name, "embedding_dim": embedder.dimension},
                                                  configuration={"hnsw": {"space": "cosine", "ef_search": 100}}, embedding_function=None)
            copy_collection(full.store.col, col, limit, repeat)
        n = col.count()
        st = Settings(knowledge_root=set_dir / "corpus", index_dir=WORK / "sizes-index", collection=name, embedding_backend=args.backend,
                      chroma_mode="embedded")
        from assistant.store import ChromaStore

        store = ChromaStore(client, name, embedder.name, embedder.dimension)
        t0 = time.perf_counter()
        a = Assistant(st, embedder, store)
        a.ask(queries[0])
        cold_s = time.perf_counter() - t0
        a.search(queries[1])  # warm
        s_ms, a_ms = [], []
        for q in queries:
            t1 = time.perf_counter()
            a.search(q, k=8)
            s_ms.append((time.perf_counter() - t1) * 1000)
        for q in queries:
            t1 = time.perf_counter()
            a.ask(q)
            a_ms.append((time.perf_counter() - t1) * 1000)
        lc = Chroma(client=client, collection_name=name, embedding_function=lc_emb)
        lc.similarity_search(queries[1], k=8)
        lc_ms = []
        for q in queries:
            t1 = time.perf_counter()
            lc.similarity_search(q, k=8)
            lc_ms.append((time.perf_counter() - t1) * 1000)
        sp, ap, lp = pct(s_ms), pct(a_ms), pct(lc_ms)
        rows.append([n, *[round(x, 1) for x in sp], *[round(x, 1) for x in ap], *[round(x, 1) for x in lp],
                     f"{lp[1] / sp[1]:.2f}x", round(cold_s, 1), round(rss_mb(), 0)])
        print(json.dumps({"size": n, "search": sp, "ask": ap, "langchain": lp, "cold_s": cold_s, "peak_mb": rss_mb()}), flush=True)
        del a
    lines.append("## Query latency (ms, warm, same queries; k=8)\n")
    lines.append(table(["chunks", "search p50", "p95", "p99", "answer p50", "p95", "p99", "LangChain p50", "p95", "p99",
                        "LangChain p95 / our search p95", "cold start to first answer (s)", "peak RSS MB"], rows))
    lines.append(f"\n{len(queries)} CUAD queries (deterministic sample). 'search' = hybrid dense + BM25 with document routing; "
                 "'answer' = search + extractive answer with citations (top_k=6); LangChain = `similarity_search` (dense only) "
                 "on a collection holding the same vectors. Sizes above the corpus repeat it under new ids and paths.\n")
    path = write_report("bench", f"Performance benchmark ({args.backend} embeddings)", "\n".join(lines))
    print("\n".join(lines))
    print("report:", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
