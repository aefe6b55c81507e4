"""Load: 20 simulated users on loopback ask questions for two minutes while an upload is ingested.

Bounded in users, time and requests. Writes the figures to evals/reports/load.md.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest


pytestmark = [pytest.mark.slow, pytest.mark.integration]
USERS = int(os.environ.get("LOAD_USERS", "20"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "120"))
THINK_S = (1.0, 3.0)  # pause between a user's questions
MAX_REQUESTS = 5000
QUESTIONS = [
    "What must our contract say about data encryption?",
    "How do we vet a new BPO provider?",
    "What did past audits find at Northwind about access reviews?",
    "Which findings are still open?",
    "What insurance must vendors carry?",
    "How quickly must a vendor notify us of a breach?",
    "What are the rules on overtime at vendors?",
    "What is the best lasagne recipe?",
]
CUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "cuad" / "corpus" / "cuad"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def test_twenty_users_for_two_minutes_during_an_upload(app_server):  # noqa: F811
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS
    count = [0]

    def user(i: int) -> None:
        rng = random.Random(i)
        client = Client(app_server.url, verbose=False)
        while time.monotonic() < deadline:
            with lock:
                if count[0] >= MAX_REQUESTS:
                    return
                count[0] += 1
            q = rng.choice(QUESTIONS)
            t0 = time.perf_counter()
            try:
                out = client.predict(q, "{}", api_name="/ask")
                assert isinstance(out, dict) and "answer" in out
                with lock:
                    latencies.append(time.perf_counter() - t0)
            except Exception as exc:  # counted, reported, and the test fails on any
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
            time.sleep(rng.uniform(*THINK_S))

    mem = [rss_mb(app_server.proc.pid)]
    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(USERS)]
    for t in threads:
        t.start()
    # The upload: new contracts dropped into the app's upload folder and ingested meanwhile.
    time.sleep(5)
    up = app_server.upload_dir / "load-test"
    up.mkdir(parents=True, exist_ok=True)
    for f in sorted(CUAD.glob("*.txt"))[:3]:
        shutil.copy2(f, up / f.name)
    env = {**os.environ, "ASSISTANT_KNOWLEDGE_ROOT": str(app_server.knowledge), "ASSISTANT_INDEX_DIR": str(app_server.root / "index")}
    t_ing = time.perf_counter()
    ingest = subprocess.Popen([sys.executable, "-m", "ingest", str(up), "--quiet", "--wait"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    while any(t.is_alive() for t in threads):
        time.sleep(5)
        mem.append(rss_mb(app_server.proc.pid))
        if ingest.poll() is not None and not hasattr(ingest, "took"):
            ingest.took = time.perf_counter() - t_ing  # type: ignore[attr-defined]
    out, _ = ingest.communicate(timeout=600)
    for t in threads:
        t.join(60)
    lat = np.array(latencies) * 1000
    p50, p95 = (float(np.percentile(lat, q)) for q in (50, 95))
    thr = len(lat) / SECONDS
    body = (
        f"{USERS} users (gradio_client on 127.0.0.1, {THINK_S[0]:.0f}-{THINK_S[1]:.0f} s think time) for {SECONDS:.0f} s, "
        f"extractive backend, while `ingest` added {len(list(up.glob('*.txt')))} CUAD contracts "
        f"(exit {ingest.returncode}, {getattr(ingest, 'took', float('nan')):.0f} s).\n\n"
        f"| requests | errors | throughput (req/s) | p50 ms | p95 ms | app RSS start MB | app RSS end MB | app RSS max MB |\n"
        f"|---|---|---|---|---|---|---|---|\n"
        f"| {len(lat)} | {len(errors)} | {thr:.2f} | {p50:.0f} | {p95:.0f} | {mem[0]:.0f} | {mem[-1]:.0f} | {max(mem):.0f} |\n"
    )
    from evals.common import write_report

    write_report("load", "Load test", body + ("\nErrors:\n" + "\n".join(f"- {e}" for e in errors[:20]) if errors else ""))
    print(body)
    assert ingest.returncode == 0, out
    assert not errors, errors[:5]
    assert len(lat) >= USERS
