"""``python -m evals`` / ``assistant eval``: the golden-set quality report.

Builds a fresh index of knowledge/ in a temporary folder (so it never touches yours), runs
every golden question, writes evals/reports/quality.md and prints the metrics.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def build_assistant(knowledge: Path, tmp: Path, backend: str = "onnx"):
    from assistant.api import Assistant
    from assistant.core.settings import Settings

    settings = Settings(knowledge_root=knowledge, index_dir=tmp / "index", embedding_backend=backend)
    a = Assistant.from_settings(settings)
    report = a.ingest(show_bar=False)
    if not report.ok:
        print(report.summary(), file=sys.stderr)
    return a


def main(argv: list[str] | None = None) -> int:
    from assistant.api import CALIBRATION_FILE
    from evals.common import write_report
    from evals.quality import calibrate, evaluate, load_thresholds, report_markdown

    p = argparse.ArgumentParser(prog="python -m evals", description=__doc__)
    p.add_argument("--knowledge", default="knowledge")
    p.add_argument("--calibrate", action="store_true", help="recompute the refusal threshold and coverage floor and save them")
    p.add_argument("--backend", default="onnx", choices=["torch", "onnx", "onnx-int8"])
    p.add_argument("--no-report", action="store_true")
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="assistant-eval-"))
    try:
        a = build_assistant(Path(args.knowledge), tmp, args.backend)
        res = evaluate(a)
        if args.calibrate:
            cal = calibrate(res)
            CALIBRATION_FILE.write_text(json.dumps(cal, indent=2) + "\n")
            print(f"calibrated refusal: dense threshold {cal['dense_threshold']}, coverage floor {cal['coverage_floor']} "
                  f"(saved to {CALIBRATION_FILE})")
            a.threshold, a.coverage_floor = cal["dense_threshold"], cal["coverage_floor"]
            res = evaluate(a)
        thresholds = load_thresholds()
        print(json.dumps(res.metrics, indent=2))
        for f in res.failures:
            print("  -", f)
        if not args.no_report:
            name = "quality" if args.backend == "onnx" else f"quality-{args.backend}"
            path = write_report(name, f"Golden-set quality ({args.backend} embeddings)", report_markdown(res, thresholds))
            print(f"report: {path}")
        failed = [k for k, t in thresholds.items() if res.metrics.get(k, 0) < t]
        return 1 if failed else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
