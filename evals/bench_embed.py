"""``python -m evals.bench_embed``: PyTorch vs ONNX Runtime (fp32, dynamic int8) embeddings.

In one process, on the same inputs: batch throughput on the knowledge base's chunk inputs
(what ingest embeds) and single-query latency on the golden-set questions (what every search
embeds), in alternating rounds so machine noise hits every backend alike; plus agreement with
the PyTorch vectors (cosine). Retrieval quality per backend comes from ``python -m evals
--backend X`` and ``python -m evals.legalbench --backend X``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

BACKENDS = ("torch", "onnx", "onnx-int8")


def kb_inputs(root: Path, limit: int) -> list[str]:
    from ingest.loaders import load
    from ingest.pipeline import embed_input, scan
    from ingest.split import split

    out: list[str] = []
    for source, path in scan(root):
        out += [embed_input(c) for c in split(load(path, source))]
    return out[:limit] if limit else out


def main(argv: list[str] | None = None) -> int:
    from assistant.core.embeddings import make_embedder
    from evals.common import table, write_report
    from evals.quality import load_golden

    p = argparse.ArgumentParser(prog="python -m evals.bench_embed", description=__doc__)
    p.add_argument("--knowledge", default="knowledge")
    p.add_argument("--chunks", type=int, default=400, help="chunk inputs timed per round (0 = all)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--report", default="bench-embed")
    args = p.parse_args(argv)

    texts = kb_inputs(Path(args.knowledge), args.chunks)
    questions = [q["question"] for q in load_golden()["answerable"]]
    embedders = {b: make_embedder(backend=b) for b in BACKENDS}
    for e in embedders.values():
        e.embed(texts[:8])
        e.embed(questions[:1])
    batch_s = {b: [] for b in BACKENDS}
    query_ms = {b: [] for b in BACKENDS}
    vecs: dict[str, np.ndarray] = {}
    for r in range(args.rounds):
        order = BACKENDS if r % 2 == 0 else tuple(reversed(BACKENDS))
        for b in order:
            t0 = time.perf_counter()
            vecs[b] = embedders[b].embed(texts, batch_size=args.batch)
            batch_s[b].append(time.perf_counter() - t0)
            for q in questions:
                t0 = time.perf_counter()
                embedders[b].embed([q])
                query_ms[b].append((time.perf_counter() - t0) * 1000)
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{b} {batch_s[b][-1]:.1f} s" for b in BACKENDS), flush=True)
    rows = []
    base_tps = len(texts) / float(np.median(batch_s["torch"]))
    for b in BACKENDS:
        tps = len(texts) / float(np.median(batch_s[b]))
        cos = np.sum(vecs[b] * vecs["torch"], axis=1)
        rows.append([b, f"{tps:.1f}", f"{tps / base_tps:.2f}x", f"{np.percentile(query_ms[b], 50):.1f}",
                     f"{np.percentile(query_ms[b], 95):.1f}", f"{cos.mean():.4f}", f"{cos.min():.4f}"])
    body = (f"{len(texts)} chunk inputs of the knowledge base (batch {args.batch}), {len(questions)} golden questions one at a time, "
            f"{args.rounds} alternating rounds in one process; throughput is the median round.\n\n")
    body += table(["backend", "chunks/s", "vs torch", "query p50 ms", "query p95 ms", "mean cosine to torch",
                   "min cosine to torch"], rows)
    body += ("\n\nONNX models are exported locally from the bundled all-MiniLM-L6-v2 weights with `torch.onnx.export` "
             "(int8: ONNX Runtime `quantize_dynamic`), cached under `~/.cache/assistant-onnx`.\n")
    print(body)
    if args.report:
        print("report:", write_report(args.report, "Embedding backends: PyTorch vs ONNX Runtime", body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
