"""``python -m evals.review``: contract review quality and speed.

1. Golden set (``evals/review_golden.yaml``): per-status precision and recall, per-contract
   agreement, the share of correct quotes (a quote is correct when it overlaps the golden quote)
   and of correct values.
2. CUAD (``evals/review_cuad.py``): clause presence per category against ``master_clauses.csv``
   beside a keyword-search baseline measured in the same run, and quote overlap.
3. Speed: the review of a ~30-page indexed CUAD contract and of the same text as an uploaded file.

Every fitted number comes from a fixed half of the contracts (ranked by a stable hash of the file
name); every reported figure is on the other half. ``--calibrate`` refits the decision parameters
on the calibration halves and writes them to ``assistant/review.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "evals" / "review_golden.yaml"
WORK = ROOT / "evals" / ".work"
STATUSES = ("meets", "weaker", "unclear", "missing", "not_applicable")
VALUE_TOLERANCE = 0.025  # calendar conversions ("every quarter" = 90 or 91.25 days)
GRID = {
    "weight": (0.1, 0.2, 0.3, 0.4),
    "value_weight": (0.0, 0.05, 0.1),
    "threshold": tuple(round(0.40 + 0.01 * i, 2) for i in range(31)),
    "margin": (0.0, 0.03, 0.06, 0.1),
}


def halves(names: list[str]) -> tuple[set[str], set[str]]:
    """(calibration, held-out): the names ranked by a stable hash of the name, first half calibrates."""
    ranked = sorted(names, key=lambda n: hashlib.sha256(n.encode()).hexdigest())
    cut = (len(ranked) + 1) // 2
    return set(ranked[:cut]), set(ranked[cut:])


def locate(text: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` sits in ``text``, white space (PDF line breaks) matched loosely."""
    i = text.find(quote)
    if i >= 0:
        return i, i + len(quote)
    words = [re.escape(w) for w in quote.split()]
    if not words:
        return None
    m = re.search(r"\s+".join(words), text)
    return (m.start(), m.end()) if m else None


# -- golden set ------------------------------------------------------------------------------
@dataclass
class GoldenContract:
    file: str  # repository path
    group: str  # the Markdown file a PDF/DOCX copy shares its judgments (and its half) with
    judgments: dict[str, dict[str, Any]]
    ref: str = ""  # what the review is given: an indexed source, or the file path


def load_golden(path: Path = GOLDEN) -> list[GoldenContract]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    by_file = {c["file"]: c for c in data["contracts"]}
    out = []
    for c in data["contracts"]:
        base = by_file[c["same_as"]] if "same_as" in c else c
        f = c["file"]
        ref = f[len("knowledge/"):] if f.startswith("knowledge/") else str(ROOT / f)
        out.append(GoldenContract(f, base["file"], base["judgments"], ref))
    return out


def kb_assistant(backend: str = "onnx"):
    """An assistant over the shipped knowledge base (its own index under evals/.work, incremental)."""
    from assistant.api import Assistant
    from assistant.core.settings import Settings

    settings = Settings(knowledge_root=ROOT / "knowledge", index_dir=WORK / f"review-kb-{backend}" / "index",
                        feedback_db=WORK / f"review-kb-{backend}" / "feedback.sqlite3", embedding_backend=backend)
    a = Assistant.from_settings(settings)
    rep = a.ingest(show_bar=False)
    if not rep.ok:
        print(rep.summary(), file=sys.stderr)
    return a


@dataclass
class Prepared:
    """One golden contract opened once: its view and the requirements' standard texts."""

    contract: GoldenContract
    view: Any
    standards: dict[str, str]
    scored: dict[tuple[float, float], list] = field(default_factory=dict)


def prepare(a, contracts: list[GoldenContract], book) -> list[Prepared]:
    from assistant.review.review import open_contract, standard_quotes

    stds = {rid: c.quote for rid, c in standard_quotes(a, book, book.requirements).items() if c is not None}
    return [Prepared(c, open_contract(a, c.ref, "admin"), stds) for c in contracts]


def judge_all(a, prepared: list[Prepared], book, params) -> list[tuple[Prepared, dict]]:
    from assistant.review.review import decide
    from assistant.review.score import score

    out = []
    for p in prepared:
        key = (params.weight, params.value_weight)
        if key not in p.scored:
            p.scored[key] = score(p.view, book.requirements, a.embedder, params, p.standards)
        out.append((p, decide(p.view, book, params, book.requirements, p.scored[key])))
    return out


def agreement(results: list[tuple[Prepared, dict]]) -> float:
    pairs = [(j.status, p.contract.judgments[rid]["status"]) for p, js in results for rid, j in js.items()]
    return sum(a == b for a, b in pairs) / max(1, len(pairs))


def fit_golden(a, prepared: list[Prepared], book) -> tuple[Any, float]:
    """Grid search on the calibration half: the parameters with the best status agreement
    (ties: the middle threshold of the tied ones, then the smaller margin)."""
    from assistant.review.score import ReviewParams

    best: list[tuple[float, Any]] = []
    for w, vw in itertools.product(GRID["weight"], GRID["value_weight"]):
        for th, mg in itertools.product(GRID["threshold"], GRID["margin"]):
            params = ReviewParams(weight=w, value_weight=vw, threshold=th, margin=mg)
            best.append((agreement(judge_all(a, prepared, book, params)), params))
    top = max(s for s, _ in best)
    tied = [p for s, p in best if s == top]
    tied.sort(key=lambda p: (p.threshold, p.margin))
    return tied[len(tied) // 2], top


def golden_metrics(results: list[tuple[Prepared, dict]]) -> dict[str, Any]:
    """Per-status precision/recall, per-contract agreement, quote and value accuracy."""
    counts = {s: {"tp": 0, "fp": 0, "fn": 0} for s in STATUSES}
    per_contract, quotes, values, misses = {}, [0, 0], [0, 0], []
    for p, js in results:
        ok = 0
        for rid, j in js.items():
            g = p.contract.judgments[rid]
            got, want = j.status, g["status"]
            ok += got == want
            if got == want:
                counts[got]["tp"] += 1
            else:
                counts[got]["fp"] += 1
                counts[want]["fn"] += 1
                misses.append(f"{Path(p.contract.file).name} · {rid}: got {got}, expected {want} ({j.reason})")
            if g.get("quote") and got in ("meets", "weaker", "unclear"):
                span = locate(p.view.text, g["quote"])
                quotes[1] += 1
                if span and j.row is not None:
                    c = p.view.clauses[j.row]
                    hit = c.start < span[1] and span[0] < c.end
                    quotes[0] += hit
                    if not hit:
                        misses.append(f"{Path(p.contract.file).name} · {rid}: quoted \"{c.text[:90]}\" "
                                      f"instead of \"{g['quote'][:90]}\"")
                elif span is None:
                    misses.append(f"{Path(p.contract.file).name} · {rid}: golden quote not found in the text")
            if g.get("value") is not None and j.value is not None:
                values[1] += 1
                values[0] += abs(j.value - float(g["value"])) <= VALUE_TOLERANCE * max(1.0, abs(float(g["value"])))
        per_contract[p.contract.file] = (ok, len(js))
    prf = {}
    for s, c in counts.items():
        pr = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else float("nan")
        rc = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else float("nan")
        prf[s] = (pr, rc, c["tp"] + c["fn"])
    return {"prf": prf, "per_contract": per_contract, "quotes": quotes, "values": values, "misses": misses,
            "agreement": agreement(results)}


def golden_section(a, calibrate: bool) -> tuple[str, dict[str, Any], Any]:
    from assistant.review.review import playbook_of
    from assistant.review.score import ReviewParams

    from evals.common import table

    book = playbook_of(a)
    contracts = load_golden()
    cal_groups, held_groups = halves(sorted({c.group for c in contracts}))
    prepared = prepare(a, contracts, book)
    cal = [p for p in prepared if p.contract.group in cal_groups]
    held = [p for p in prepared if p.contract.group in held_groups]
    fitted, cal_score = fit_golden(a, cal, book) if calibrate else (ReviewParams.load(), float("nan"))
    res_held = judge_all(a, held, book, fitted)
    res_all = judge_all(a, prepared, book, fitted)
    m, m_all = golden_metrics(res_held), golden_metrics(res_all)
    lines = [
        "## 1. Golden set (`evals/review_golden.yaml`)",
        "",
        f"Calibration half: {', '.join(sorted(Path(g).name for g in cal_groups))}. "
        f"Held-out half: {', '.join(sorted(Path(g).name for g in held_groups))} "
        "(a PDF or DOCX copy goes with its Markdown original).",
        f"Parameters: weight {fitted.weight}, value weight {fitted.value_weight}, threshold {fitted.threshold}, "
        f"margin {fitted.margin}" + (f" (agreement {cal_score:.3f} on the calibration half)." if calibrate else "."),
        "",
        "### Held-out half",
        "",
        table(["status", "precision", "recall", "expected rows"],
              [[s, *m["prf"][s]] for s in STATUSES]),
        "",
        f"Agreement: **{m['agreement']:.3f}** · quotes correct: **{m['quotes'][0]}/{m['quotes'][1]}** "
        f"({m['quotes'][0] / max(1, m['quotes'][1]):.3f}) · values correct: {m['values'][0]}/{m['values'][1]}",
        "",
        table(["contract", "half", "agreement"],
              [[Path(f).name, "calibration" if any(p.contract.file == f and p.contract.group in cal_groups for p in prepared)
                else "held-out", f"{ok}/{n} ({ok / n:.3f})"] for f, (ok, n) in m_all["per_contract"].items()]),
        "",
        f"All contracts (calibration half included, for reference): agreement {m_all['agreement']:.3f}, quotes "
        f"{m_all['quotes'][0]}/{m_all['quotes'][1]}, values {m_all['values'][0]}/{m_all['values'][1]}.",
        "",
        "Misses (all contracts):",
        "",
        *([f"- {x}" for x in m_all["misses"]] or ["- none"]),
    ]
    return "\n".join(lines), {"held": m, "all": m_all}, fitted


# -- speed -----------------------------------------------------------------------------------
def speed_section(cuad_dir: Path | None) -> tuple[str, dict[str, float]]:
    """Time one ~30-page contract: indexed (CUAD collection) and as an uploaded file, cold and warm."""
    from evals.review_cuad import cuad_assistant, speed_contract

    if cuad_dir is None:
        return "## 3. Speed\n\nSkipped (no CUAD corpus).", {}
    a = cuad_assistant(cuad_dir)
    name = speed_contract(cuad_dir)
    from assistant.review import review as run_review
    from assistant.review.review import _VIEWS

    out = {}
    t = time.perf_counter()
    r = run_review(a, f"cuad/{name}", role="admin")
    out["indexed_cold_s"] = time.perf_counter() - t
    t = time.perf_counter()
    run_review(a, f"cuad/{name}", role="admin")
    out["indexed_warm_s"] = time.perf_counter() - t
    _VIEWS._items.clear()
    import shutil
    import tempfile

    upload = Path(tempfile.mkdtemp()) / name  # outside the knowledge root: the uploaded-file path
    shutil.copy(cuad_dir / name, upload)
    t = time.perf_counter()
    up = run_review(a, upload, role="admin")  # loaded, split and embedded in memory
    assert not up.indexed
    out["upload_cold_s"] = time.perf_counter() - t
    chars = len((cuad_dir / name).read_text(encoding="utf-8"))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    text = (f"## 3. Speed\n\n`{name}` ({chars:,} characters, about {chars // 2500} pages), all "
            f"{len(r.rows)} requirements, on this machine (load average {load:.1f} at the end: other work shares "
            "its 2 cores, so these times vary with it):\n\n"
            f"- indexed contract, first review: **{out['indexed_cold_s']:.1f} s** (clauses embedded on first use); "
            f"again: {out['indexed_warm_s']:.2f} s\n"
            f"- the same file uploaded (load + split + embed in memory): **{out['upload_cold_s']:.1f} s**\n\n"
            "Target: 10 s.")
    return text, out


def main(argv: list[str] | None = None) -> int:
    from evals.common import write_report

    p = argparse.ArgumentParser(prog="python -m evals.review", description=__doc__.split("\n\n")[0])
    p.add_argument("--calibrate", action="store_true", help="refit the parameters on the calibration halves")
    p.add_argument("--cuad", default=str(ROOT.parent / "shared" / "data" / "cuad"), help="CUAD folder ('' to skip)")
    p.add_argument("--cuad-limit", type=int, default=0, help="only the first N contracts of each half (0 = all)")
    p.add_argument("--skip-golden", action="store_true")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--report", default="review", help="report name under evals/reports/ ('' for none)")
    args = p.parse_args(argv)
    from assistant.review.score import PARAMS_FILE

    params_all = json.loads(PARAMS_FILE.read_text()) if PARAMS_FILE.exists() else {}
    sections = []
    if not args.skip_golden:
        text, _, fitted = golden_section(kb_assistant(), args.calibrate)
        sections.append(text)
        if args.calibrate:
            fitted.note = (f"fitted by `python -m evals.review --calibrate` on the calibration half of "
                           f"evals/review_golden.yaml ({time.strftime('%Y-%m-%d')}): best status agreement")
            params_all["playbook"] = fitted.to_dict()
    cuad = Path(args.cuad) if args.cuad else None
    if cuad is not None and cuad.is_dir():
        from evals.review_cuad import cuad_section

        text, cuad_params = cuad_section(cuad, args.calibrate, args.cuad_limit)
        sections.append(text)
        if args.calibrate and cuad_params is not None:
            params_all["cuad"] = cuad_params.to_dict()
    if not args.skip_speed:
        sections.append(speed_section(cuad / "corpus" / "cuad" if cuad is not None and cuad.is_dir() else None)[0])
    if args.calibrate:
        PARAMS_FILE.write_text(json.dumps(params_all, indent=2) + "\n", encoding="utf-8")
        print("wrote", PARAMS_FILE)
    body = "\n\n".join(sections)
    print(body)
    if args.report:
        print("report:", write_report(args.report, "Contract review against the playbook", body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
