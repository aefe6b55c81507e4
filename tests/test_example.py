"""examples/langchain_chain.py runs as a user would run it and prints a cited answer."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]


def test_langchain_example_prints_a_cited_answer(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_") or k == "ASSISTANT_ONNX_CACHE"}
    env["HF_HUB_OFFLINE"] = "1"
    proc = subprocess.run([sys.executable, "examples/langchain_chain.py", "--index-dir", str(tmp_path / "index")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert (tmp_path / "index" / "chroma").is_dir()  # the index went where it was told
    sources = re.findall(r"^\[(\d)\] (\S+):\d+ \(", out.split("Answer:")[0], flags=re.M)
    assert [n for n, _ in sources] == ["1", "2", "3"]  # the retriever composition, k=3
    answer = out.split("Answer:\n", 1)[1].split("\n\nCitations:", 1)[0]
    assert "[1]" in answer and "hours" in answer
    cited = re.findall(r"^\[(\d+)\] ([^\s:]+):(\d+)(?:-\d+)?: (\".*\")$", out.split("Citations:\n", 1)[1], flags=re.M)
    assert cited and [int(n) for n, *_ in cited] == list(range(1, len(cited) + 1))
    for _, source, line, quote in cited:
        # The quote is exact and sits on the line the citation names.
        lines = (ROOT / "knowledge" / source).read_text(encoding="utf-8").splitlines()
        assert json.loads(quote).splitlines()[0] in lines[int(line) - 1]
