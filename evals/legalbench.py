"""``python -m evals.legalbench ../shared/data/<set>``: character precision/recall of retrieval.

Ingests the set's corpus into its own collection (incremental, kept under evals/.work/), runs
every query through ``Assistant.search`` (the query's ``doc_hint``, when present, is passed as
the document reference; CUAD queries name their contract in the text), and scores the returned
spans against the gold spans: precision = overlapping characters / returned characters, recall
= overlapping characters / gold characters (returned spans are merged first, so an overlap is
never counted twice), averaged over queries, at k = 1, 2, 4, 8, 16, 32, 64. The naive baseline
(fixed 500-character chunks, dense search only, same model) is built and scored in the same run.
Any directory in the LegalBench-RAG format works.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

KS = (1, 2, 4, 8, 16, 32, 64)
WORK = Path(__file__).resolve().parent / ".work"


def merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def overlap(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int:
    total = i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            total += hi - lo
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def score(returned: Sequence[tuple[str, int, int]], gold: Sequence[tuple[str, int, int]]) -> tuple[float, float]:
    files = {f for f, _, _ in returned} | {f for f, _, _ in gold}
    ret_chars = gold_chars = hit = 0
    for f in files:
        r = merge((s, e) for ff, s, e in returned if ff == f)
        g = merge((s, e) for ff, s, e in gold if ff == f)
        ret_chars += sum(e - s for s, e in r)
        gold_chars += sum(e - s for s, e in g)
        hit += overlap(r, g)
    return (hit / ret_chars if ret_chars else 0.0), (hit / gold_chars if gold_chars else 0.0)


def load_tests(set_dir: Path, limit: int = 0) -> list[dict]:
    tests = json.loads((set_dir / "tests.json").read_text())["tests"]
    if limit and limit < len(tests):
        step = len(tests) / limit  # deterministic, spread over the whole set
        tests = [tests[int(i * step)] for i in range(limit)]
    return tests


class NaiveBaseline:
    """Fixed 500-character chunks, dense only, the same embedding model, in Chroma."""

    def __init__(self, corpus: Path, embedder, index_dir: Path, files: set[str] | None = None, size: int = 500):
        import chromadb
        from chromadb.config import Settings as CS

        self.embedder = embedder
        client = chromadb.PersistentClient(path=str(index_dir), settings=CS(anonymized_telemetry=False))
        self.col = client.get_or_create_collection("naive-500", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
        # Resumable: a batch whose first and last ids are already stored is skipped.
        ids, docs, metas = [], [], []
        for p in sorted(corpus.rglob("*.txt")):
            source = p.relative_to(corpus).as_posix()
            if files is not None and source not in files:
                continue
            text = p.read_text(encoding="utf-8")
            for s in range(0, len(text), size):
                ids.append(f"{source}:{s}")
                docs.append(text[s : s + size])
                metas.append({"source": source, "start": s, "end": min(len(text), s + size)})
        for i in range(0, len(ids), 4096):
            edge = [ids[i], ids[min(i + 4095, len(ids) - 1)]]
            if len(self.col.get(ids=edge, include=[])["ids"]) == 2:
                continue
            vec = embedder.embed(docs[i : i + 4096], batch_size=64)
            self.col.upsert(ids=ids[i : i + 4096], embeddings=vec, documents=docs[i : i + 4096], metadatas=metas[i : i + 4096])

    def search(self, query: str, k: int, source: str | None = None) -> list[tuple[str, int, int]]:
        q = self.embedder.embed([query])[0]
        where = {"source": source} if source else None
        res = self.col.query(query_embeddings=[q], n_results=k, where=where, include=["metadatas"])
        return [(m["source"], m["start"], m["end"]) for m in res["metadatas"][0]]


def run(set_dir: Path, limit: int = 0, baseline: bool = True, latency: int = 0, backend: str = "torch") -> dict:
    from assistant.api import Assistant
    from assistant.core.settings import Settings

    name = set_dir.name
    corpus = set_dir / "corpus"
    tests = load_tests(set_dir, limit)
    files = {sn["file_path"] for t in tests for sn in t["snippets"]} if limit else None
    from evals.common import index_key

    work = WORK / f"{name}-{index_key(backend)}" / ("all" if not limit else f"sample{limit}")
    root = corpus
    if files is not None:  # a sample only needs the documents its queries point at
        root = work / "corpus"
        for f in files:
            dest = root / f
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes((corpus / f).read_bytes())
    settings = Settings(knowledge_root=root, index_dir=work / "index", collection=f"bench-{name}", embedding_backend=backend)
    a = Assistant.from_settings(settings)
    t0 = time.perf_counter()
    rep = a.ingest(show_bar=None)
    ingest_s = time.perf_counter() - t0
    ours = {k: [] for k in KS}
    base = {k: [] for k in KS}
    hinted = {k: [] for k in KS}
    has_hints = any(t.get("doc_hint") for t in tests)
    naive = NaiveBaseline(root, a.embedder, work / "naive", None) if baseline else None
    kmax = max(KS)
    search_ms = []
    routed_ok = 0
    for t in tests:
        gold = [(sn["file_path"], sn["span"][0], sn["span"][1]) for sn in t["snippets"]]
        t1 = time.perf_counter()
        hits = a.search(t["query"], k=kmax, document=t.get("doc_hint"))
        search_ms.append((time.perf_counter() - t1) * 1000)
        got = [(h.source, h.start, h.end) for h in hits]
        routed_ok += bool(got) and got[0][0] == gold[0][0]
        for k in KS:
            ours[k].append(score(got[:k], gold))
        if naive is not None:
            nb = naive.search(t["query"], kmax)
            for k in KS:
                base[k].append(score(nb[:k], gold))
            if has_hints:
                src = a.retriever.resolve_document(t["doc_hint"]) if t.get("doc_hint") else None
                nh = naive.search(t["query"], kmax, src)
                for k in KS:
                    hinted[k].append(score(nh[:k], gold))
    result = {
        "set": name,
        "queries": len(tests),
        "documents": len(a.retriever.corpus.neighbours),
        "chunks": len(a.retriever.corpus.chunks),
        "ingest_seconds": round(ingest_s, 1),
        "ingested_now": rep.chunks_written,
        "routing_accuracy": routed_ok / len(tests),
        "ours": {k: (float(np.mean([p for p, _ in v])), float(np.mean([r for _, r in v]))) for k, v in ours.items()},
        "search_ms": {"p50": float(np.percentile(search_ms, 50)), "p95": float(np.percentile(search_ms, 95))},
    }
    if naive is not None:
        result["naive"] = {k: (float(np.mean([p for p, _ in v])), float(np.mean([r for _, r in v]))) for k, v in base.items()}
        if has_hints:
            result["naive_hint"] = {k: (float(np.mean([p for p, _ in v])), float(np.mean([r for _, r in v]))) for k, v in hinted.items()}
    if latency:
        lat = []
        for t in tests[:latency]:
            t1 = time.perf_counter()
            a.ask(t["query"] if not t.get("doc_hint") else t["query"])
            lat.append((time.perf_counter() - t1) * 1000)
        result["ask_ms"] = {"p50": float(np.percentile(lat, 50)), "p95": float(np.percentile(lat, 95)), "n": len(lat)}
    return result


def report(results: list[dict], limit: int) -> str:
    from evals.common import table

    out = []
    for r in results:
        out.append(f"## {r['set']}: {r['queries']} queries{' (deterministic sample)' if limit else ''}, "
                   f"{r['documents']} documents, {r['chunks']} chunks\n")
        rows = []
        for k in KS:
            p, rc = r["ours"][k]
            row = [k, f"{100 * rc:.1f}", f"{100 * p:.2f}"]
            if "naive" in r:
                bp, br = r["naive"][k]
                row += [f"{100 * br:.1f}", f"{100 * bp:.2f}"]
            if "naive_hint" in r:
                hp, hr = r["naive_hint"][k]
                row += [f"{100 * hr:.1f}", f"{100 * hp:.2f}"]
            rows.append(row)
        headers = ["k", "recall % (ours)", "precision % (ours)"] + (["recall % (naive)", "precision % (naive)"] if "naive" in r else [])
        headers += ["recall % (naive + doc_hint)", "precision % (naive + doc_hint)"] if "naive_hint" in r else []
        out.append(table(headers, rows))
        out.append(f"\nDocument routing: the top hit is in the gold document for {100 * r['routing_accuracy']:.1f}% of queries. "
                   f"Search latency (warm): p50 {r['search_ms']['p50']:.1f} ms, p95 {r['search_ms']['p95']:.1f} ms (k=64).")
        if "ask_ms" in r:
            out[-1] += (f" Full answer (retrieval + extractive answer) over {r['ask_ms']['n']} queries: "
                       f"p50 {r['ask_ms']['p50']:.1f} ms, p95 {r['ask_ms']['p95']:.1f} ms.")
        out[-1] += f" Ingest: {r['ingest_seconds']} s ({r['ingested_now']} chunks embedded this run).\n"
    out.append("Naive + doc_hint: the same naive chunks restricted to the document the set's `doc_hint` names. "
               "Naive baseline: fixed 500-character chunks, dense search only, the same all-MiniLM-L6-v2 model, "
               "measured in the same run. Published reference (LegalBench-RAG, arXiv 2408.10343): 500-character chunks "
               "with text-embedding-3-large, recall@32 CUAD 64.4, ContractNLI 69.9, PrivacyQA 54.3.\n\n"
               "Data: CUAD v1 (The Atticus Project, CC BY 4.0); ContractNLI (Koreeda & Manning 2021, CC BY 4.0); "
               "PolicyQA (Ahmad et al. 2020, MIT) over OPP-115 policies.\n")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    from evals.common import write_report

    p = argparse.ArgumentParser(prog="python -m evals.legalbench", description=__doc__)
    p.add_argument("sets", nargs="+", help="set folders, e.g. ../shared/data/cuad")
    p.add_argument("--limit", type=int, default=0, help="deterministic sample of N queries per set (0 = all)")
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument("--latency", type=int, default=0, help="also time full answers on N queries")
    p.add_argument("--backend", default="onnx", choices=["torch", "onnx", "onnx-int8"])
    p.add_argument("--report", default="legalbench", help="report name under evals/reports/ ('' for none)")
    args = p.parse_args(argv)
    results = [run(Path(s), args.limit, not args.no_baseline, args.latency, args.backend) for s in args.sets]
    body = report(results, args.limit)
    print(body)
    if args.report:
        print("report:", write_report(args.report, f"Retrieval on LegalBench-RAG-format sets ({args.backend} embeddings)", body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
