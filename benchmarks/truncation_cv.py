"""Choose the truncation augmentation of the shipped model by cross-validation on the TRAINING set.

Usage (from the repository root)::

    python benchmarks/truncation_cv.py [--cv 5] [--seed 0] [--out FILE.json]

For each candidate setting of ``Classifier("svm", C=0.5, random_state=0, truncation_copies=…,
truncation_range=…)`` it runs the project's one cross-validation loop,
:func:`collectclf.crossval.cross_validate_model` (stratified K-fold of ``data/train.jsonl``). Each
fold's model is fitted on the training folds only (the augmentation happens inside ``fit``, so only
training-fold messages are cropped) and scored on the validation fold twice: as written, and
truncated by the robustness benchmark's own ``truncate`` (``make_variant("truncated", text, seed)``,
the loop's ``variants``). Nothing is trained on the truncated texts, and ``data/heldout.jsonl`` is
never read.

Printed per setting: pooled out-of-fold macro-F1 clean and truncated, the drop in points, and the
ECE of the clean out-of-fold probabilities. The chosen setting is the one with the smallest
truncated drop whose clean macro-F1 is at most ``--max-clean-cost`` points below no augmentation
(ties: fewer copies).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from robustness import make_variant  # noqa: E402

from collectclf.classifier import Classifier  # noqa: E402
from collectclf.crossval import cross_validate_model  # noqa: E402
from collectclf.training import load_corpus  # noqa: E402

#: The shipped family (models/build_model.py) and the augmentation settings compared.
BASE = {"model": "svm", "C": 0.5}
CANDIDATES: list[dict] = [
    {"truncation_copies": 0},
    {"truncation_copies": 1, "truncation_range": (0.5, 0.95)},
    {"truncation_copies": 2, "truncation_range": (0.5, 0.95)},
    {"truncation_copies": 1, "truncation_range": (0.3, 0.95)},
    {"truncation_copies": 2, "truncation_range": (0.3, 0.95)},
]


def evaluate(setting: dict, texts: list[str], labels: list[str], *, cv: int, seed: int) -> dict:
    """Pooled out-of-fold macro-F1 of one setting on the texts as written and truncated, and the clean ECE,
    from the project's one cross-validation loop (:func:`collectclf.crossval.cross_validate_model`)."""
    start = time.perf_counter()
    metrics = cross_validate_model(Classifier(random_state=seed, **BASE, **setting), texts, labels, cv=cv, seed=seed,
                                   variants={"truncated": lambda text: make_variant("truncated", text, seed)})
    clean, cut = metrics["macro_f1"], metrics["variants"]["truncated"]
    return {"setting": {k: list(v) if isinstance(v, tuple) else v for k, v in setting.items()},
            "clean_macro_f1": clean, "clean_fold_std": metrics["macro_f1_std"], "truncated_macro_f1": cut,
            "drop_points": (clean - cut) * 100, "clean_ece": metrics["ece"], "seconds": round(time.perf_counter() - start, 1)}


def choose(rows: list[dict], max_clean_cost: float) -> dict:
    """Smallest truncated drop among settings within ``max_clean_cost`` points of no augmentation."""
    baseline = next(r for r in rows if not r["setting"].get("truncation_copies"))
    allowed = [r for r in rows if (baseline["clean_macro_f1"] - r["clean_macro_f1"]) * 100 <= max_clean_cost]
    return min(allowed, key=lambda r: (round(r["drop_points"], 2), r["setting"].get("truncation_copies", 0)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="fold split, model and truncation seed")
    parser.add_argument("--max-clean-cost", type=float, default=0.3, help="points of clean CV macro-F1 one may give up")
    parser.add_argument("--out", default="-", help="JSON report path ('-' for none)")
    args = parser.parse_args(argv)

    texts, labels = load_corpus(str(ROOT / "data" / "train.jsonl"))
    print(f"{len(texts)} training messages; {args.cv}-fold stratified CV (seed {args.seed}); "
          f"family {json.dumps(BASE)}", flush=True)
    print(f"{'copies':>6} {'range':<12} {'clean F1':>9} {'trunc F1':>9} {'drop (pts)':>10} {'clean ECE':>9} {'s':>6}",
          flush=True)
    rows = []
    for setting in CANDIDATES:
        row = evaluate(setting, texts, labels, cv=args.cv, seed=args.seed)
        rows.append(row)
        shown = "-" if not setting.get("truncation_copies") else "{:.2f}-{:.2f}".format(*setting["truncation_range"])
        print(f"{setting.get('truncation_copies', 0):>6} {shown:<12} {row['clean_macro_f1']:>9.4f} "
              f"{row['truncated_macro_f1']:>9.4f} {row['drop_points']:>+10.2f} {row['clean_ece']:>9.4f} {row['seconds']:>6}",
              flush=True)
    best = choose(rows, args.max_clean_cost)
    print(f"chosen (smallest drop within {args.max_clean_cost} points of clean macro-F1): {json.dumps(best['setting'])}")
    if args.out != "-":
        report = {"command": "python benchmarks/truncation_cv.py" + "".join(f" {a}" for a in (argv or sys.argv[1:])),
                  "cv": args.cv, "seed": args.seed, "base": BASE, "rows": rows, "chosen": best["setting"]}
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
