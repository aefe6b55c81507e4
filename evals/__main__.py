"""``python -m evals`` / ``assistant eval``: the golden-set quality report.

Builds a fresh index of knowledge/ in a temporary folder (so it never touches yours), runs the
golden questions, writes evals/reports/quality.md and prints the metrics. Every reported figure
is from the held-out split; ``--calibrate`` first refits the answerability model on the
calibration split (its threshold with the blind probe sets of evals/probes too, never on the
held-out split) and saves it to assistant/answerability.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

CALIBRATION_FILE = Path(__file__).resolve().parents[1] / "assistant" / "calibration.json"


def build_assistant(knowledge: Path, tmp: Path, backend: str = "onnx"):
    from assistant.api import Assistant
    from assistant.core.settings import Settings

    settings = Settings(knowledge_root=knowledge, index_dir=tmp / "index", embedding_backend=backend)
    a = Assistant.from_settings(settings)
    report = a.ingest(show_bar=False)
    if not report.ok:
        print(report.summary(), file=sys.stderr)
    return a


def calibrate(a, golden: dict) -> tuple[object, object]:
    """Fit the answerability model on the calibration split; returns (model, in-sample result)."""
    from assistant.answering.answerability import MODEL_FILE, fit
    from evals.quality import CALIBRATION_SHARE, evaluate, load_probes

    res = evaluate(a, golden, split="calibration")
    rows = [r for r, _ in res.decisions]
    labels = [y for _, y in res.decisions]
    # the blind probe sets set the threshold with the calibration split (never the weights): evals/probes/README.md
    probes = evaluate(a, load_probes(), split=None).decisions
    model = fit(rows, labels, extra=([r for r, _ in probes], [y for _, y in probes]))
    model.note = (f"logistic regression fitted by `python -m evals --calibrate` on {len(rows)} calibration-split questions "
                  f"({sum(labels)} answerable, {len(labels) - sum(labels)} must-refuse) on {dt.date.today().isoformat()}; "
                  "threshold maximises the worse of answer and refusal rate over out-of-fold (5-fold) probabilities on that "
                  f"split together with the model's probabilities on {len(probes)} questions of the blind probe sets "
                  "(evals/probes)")
    model.save(MODEL_FILE)
    CALIBRATION_FILE.write_text(json.dumps({
        "answerability_model": MODEL_FILE.name,
        "split": f"stable hash of each golden id: {CALIBRATION_SHARE}% calibration, {100 - CALIBRATION_SHARE}% held out",
        "fitted_on": len(rows),
        "threshold_also_on": f"{len(probes)} questions of the blind probe sets (evals/probes)",
        "note": "Parameters fitted by `python -m evals --calibrate`; evals/reports/quality.md reports the held-out split.",
    }, indent=2) + "\n")
    a.answerability = model
    print(f"answerability model: {json.dumps(model.to_dict()['weights'])}, bias {model.bias:.3f}, "
          f"threshold {model.threshold} (saved to {MODEL_FILE})")
    return model, evaluate(a, golden, split="calibration")


def main(argv: list[str] | None = None) -> int:
    from evals.common import write_report
    from evals.quality import evaluate, load_golden, load_thresholds, report_markdown

    p = argparse.ArgumentParser(prog="python -m evals", description=__doc__)
    p.add_argument("--knowledge", default="knowledge")
    p.add_argument("--calibrate", action="store_true", help="refit the answerability model on the calibration split")
    p.add_argument("--split", default="heldout", choices=["heldout", "calibration", "all"],
                   help="which split to report (default: heldout; the others are in-sample)")
    p.add_argument("--backend", default="onnx", choices=["torch", "onnx", "onnx-int8"])
    p.add_argument("--no-report", action="store_true")
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="assistant-eval-"))
    try:
        a = build_assistant(Path(args.knowledge), tmp, args.backend)
        golden = load_golden()
        cal_res = calibrate(a, golden)[1] if args.calibrate else None
        res = evaluate(a, golden, split=None if args.split == "all" else args.split)
        thresholds = load_thresholds()
        print(json.dumps(res.metrics, indent=2))
        for f in res.failures:
            print("  -", f)
        if not args.no_report and args.split == "heldout":
            cal_res = cal_res or evaluate(a, golden, split="calibration")
            name = "quality" if args.backend == "onnx" else f"quality-{args.backend}"
            body = report_markdown(res, thresholds, cal_res, a.answerability.note)
            path = write_report(name, f"Golden-set quality ({args.backend} embeddings)", body)
            print(f"report: {path}")
        failed = [k for k, t in thresholds.items() if res.metrics.get(k, 0) < t]
        return 1 if failed and args.split == "heldout" else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
