"""Rebuild the shipped model from ``data/`` with a fixed seed, and write its model card.

Usage (from the repository root, after ``python data/build_corpus.py``):

    python models/build_model.py [--families logreg svm sgd cnb] [--cv 5] [--seed 0]

Steps: (1) compare the model families by stratified K-fold macro-F1 on ``data/train.jsonl``
only; (2) fit the best on all of it; (3) evaluate ONCE on ``data/heldout.jsonl`` (reported,
never used to choose anything); (4) write ``models/default/`` and ``models/MODEL_CARD.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collectclf import __version__  # noqa: E402
from collectclf._persist import read_config  # noqa: E402
from collectclf.classifier import MIN_CROP_CHARS, MODEL_FAMILIES, Classifier  # noqa: E402
from collectclf.training import (  # noqa: E402
    compare_models,
    confusion_table,
    data_sha256,
    evaluate_predictions,
    load_corpus,
    metrics_table,
)

#: Per-family settings compared (chosen before looking at the held-out set).
FAMILY_PARAMS = {"logreg": {"C": 20.0}, "svm": {"C": 0.5}, "sgd": {"alpha": 2e-5}, "cnb": {"alpha": 0.1}}
#: Training-data augmentation of the svm family: each training message (of 8+ characters) also
#: enters ``fit`` as 2 prefix crops keeping 50-95 % of its characters (``collectclf.classifier.prefix_crops``),
#: so that messages cut short keep their label. Chosen by ``python benchmarks/truncation_cv.py``
#: (5-fold CV on data/train.jsonl only: smallest truncated-input drop within 0.3 points of clean macro-F1).
TRUNCATION_AUGMENTATION = {"truncation_copies": 2, "truncation_range": (0.5, 0.95)}
FAMILY_PARAMS["svm"] = {**FAMILY_PARAMS["svm"], **TRUNCATION_AUGMENTATION}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="*", default=list(MODEL_FAMILIES))
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "models" / "default"))
    args = parser.parse_args(argv)

    texts, labels = load_corpus(str(ROOT / "data" / "train.jsonl"))
    held_texts, held_labels = load_corpus(str(ROOT / "data" / "heldout.jsonl"))
    print(f"training messages: {len(texts)}; held-out messages: {len(held_texts)}", flush=True)

    table = compare_models(texts, labels, families=args.families, cv=args.cv, seed=args.seed,
                           params={f: FAMILY_PARAMS.get(f, {}) for f in args.families})
    for row in table:
        print(f"  {row['model']:<7} macro-F1 {row['macro_f1_mean']:.3f} ± {row['macro_f1_std']:.3f}  ECE {row['ece']:.3f}  ({row['seconds']} s)",
              flush=True)
    best = table[0]
    model = Classifier(best["model"], random_state=args.seed, **FAMILY_PARAMS.get(best["model"], {}))
    start = time.perf_counter()
    model.fit(texts, labels)
    fit_seconds = time.perf_counter() - start

    start = time.perf_counter()
    proba = model.predict_proba(held_texts)
    predict_seconds = time.perf_counter() - start
    heldout = evaluate_predictions(held_labels, proba, model.classes_)
    print(f"held-out: macro-F1 {heldout['macro_f1']:.3f}, accuracy {heldout['accuracy']:.3f}, ECE {heldout['ece']:.3f}", flush=True)

    model.metadata_ = {
        "name": "collectclf-zh default",
        "seed": args.seed,
        "training_data": {"file": "data/train.jsonl", "sha256": data_sha256(texts, labels), "n": len(texts),
                          "counts": {label: labels.count(label) for label in sorted(set(labels))}},
        "metrics": {"comparison": table, "heldout": heldout,
                    "speed": {"fit_seconds": round(fit_seconds, 1),
                              "predict_messages_per_second_one_process": round(len(held_texts) / predict_seconds)}},
    }
    out = Path(args.out)
    model.save(out)
    size = sum(p.stat().st_size for p in out.iterdir())
    start = time.perf_counter()
    reloaded = Classifier.from_directory(out)
    load_seconds = time.perf_counter() - start
    same = np.array_equal(reloaded.predict(held_texts), model.predict(held_texts))
    print(f"saved {out} ({size / 1e6:.1f} MB); reload {load_seconds:.2f} s; same predictions after reload: {same}", flush=True)
    card = render_card(model, table, heldout, size=size, load_seconds=load_seconds, fit_seconds=fit_seconds,
                       speed=len(held_texts) / predict_seconds, cv=args.cv,
                       weights_sha256=read_config(out)["files"]["weights.npz"])
    card_path = ROOT / "models" / "MODEL_CARD.md" if out.resolve() == (ROOT / "models" / "default").resolve() else out / "MODEL_CARD.md"
    card_path.write_text(card, encoding="utf-8")
    return 0 if same else 1


def render_card(model: Classifier, table: list[dict], heldout: dict, *, size: int, load_seconds: float, fit_seconds: float,
                speed: float, cv: int, weights_sha256: str | None = None) -> str:
    meta = model.metadata_
    robustness_path = ROOT / "models" / "robustness.json"
    robustness = json.loads(robustness_path.read_text(encoding="utf-8")) if robustness_path.exists() else None
    if robustness and robustness.get("model_weights_sha256") != weights_sha256:
        robustness = None  # measured on another model: rerun benchmarks/robustness.py, then this script
    comparison = "\n".join(
        ["| family | parameters | CV macro-F1 | ± | CV ECE | seconds |", "|---|---|---|---|---|---|"]
        + [f"| {r['model']} | `{json.dumps(r['params'])}` | {r['macro_f1_mean']:.3f} | {r['macro_f1_std']:.3f} | {r['ece']:.3f} | {r['seconds']} |"
           for r in table])
    robust = ""
    if robustness:
        robust = "\n".join(
            ["| variant | macro-F1 | drop (points) |", "|---|---|---|"]
            + [f"| {name} | {row['macro_f1']:.3f} | {row['drop_points']:+.1f} |" for name, row in robustness["variants"].items()])
        robust = f"Measured by `{robustness['command']}` on the held-out set:\n\n{robust}"
    else:
        robust = "Not measured for this build (run `python benchmarks/robustness.py`)."
    if getattr(model, "truncation_copies", 0):
        low, high = model.truncation_range
        augmentation = (
            f"Augmentation: while fitting, every training message of {MIN_CROP_CHARS} or more characters is also used as "
            f"{model.truncation_copies} prefix crop(s) with the same label, each keeping the first {low:.0%}–{high:.0%} of its "
            f"characters (a random cut, seed {model.random_state}; `truncation_copies={model.truncation_copies}`, "
            f"`truncation_range={list(model.truncation_range)}`), so that messages cut short keep their label. Vocabularies and IDF come from the messages "
            "as written (crops do not count towards `min_df`); the crops of a message share its calibration fold, and in cross-validation only the training folds are cropped. The setting "
            "was chosen by `python benchmarks/truncation_cv.py` (5-fold CV on the training set only); the held-out set played "
            "no part in it.")
    else:
        augmentation = "No training-data augmentation."
    return f"""# Model card: collectclf default model (v{__version__})

Generated by `python models/build_model.py` (seed {meta['seed']}); every figure below comes from that run.

## What it does
Labels one Chinese text message as `fraudulent`, `threatening`, `pressuring`, `compliant` or `unrelated`
following the [labeling guide](../docs/labeling-guide.md) (precedence in that order), with calibrated probabilities and evidence
(red-flag rules with the rule or law they reflect, and the n-grams that weighed most).

## Intended use
- Screening a phone's SMS export, a lender's outgoing templates or a regulator's sample for messages that
  deserve a human look; sorting and counting them; pointing at the words that triggered a label.

## Not for
- Legal advice or a legal finding. A label is an automated screening; a lawyer, regulator or court decides.
- Decisions about a person without human review; scoring people rather than messages.
- Languages other than Chinese; message types far from SMS/chat (long contracts, call audio).

## Model
Normalisation (NFKC, full→half width, traditional→simplified with OpenCC, pinyin/homophone restoration for the
domain vocabulary, separator removal, masking of URLs, phones, IDs, cards, amounts and numbers) → word 1–2-grams
over jieba tokens (with a shipped domain dictionary) + character 1–3-grams, TF-IDF, + {len(model._fitted().named_steps['features'].named_transformers['rules'].rule_ids_)} red-flag indicator
features → **{model.model}** ({json.dumps(FAMILY_PARAMS.get(model.model, {}))}) with temperature-scaling calibration
(T = {model._fitted().named_steps['model'].temperature_:.3f}, fitted on {model.calibration_cv}-fold out-of-fold scores).
Stored as JSON + `.npz` (no pickle); {size / 1e6:.1f} MB on disk; loads in {load_seconds:.2f} s.

## Training data
{meta['training_data']['n']} hand-written messages (`data/train.jsonl`, SHA-256 `{meta['training_data']['sha256'][:16]}…`):
{meta['training_data']['counts']}. See `data/README.md` for how they were written and what they do not cover.

{augmentation}

## Model comparison ({cv}-fold stratified cross-validation on the training set only)
{comparison}

The family with the best mean CV macro-F1 is shipped. The held-out set played no part in this choice.

## Held-out evaluation
`data/heldout.jsonl`: {heldout['n']} messages written separately, with different phrasings, never used for
training or tuning. No held-out message has a character 5-gram Jaccard of 0.5 or more with a training message
(`python data/build_corpus.py`).

macro-F1 **{heldout['macro_f1']:.3f}**, accuracy {heldout['accuracy']:.3f}, expected calibration error {heldout['ece']:.3f}.

{metrics_table(heldout)}

Confusion matrix (rows: true label):

{confusion_table(heldout)}

## Robustness
{robust}

## Speed and size
Fitting: {fit_seconds:.0f} s. Prediction (probabilities only) in one process: {speed:,.0f} messages/s on the held-out
texts, on a 2-core machine. Batch throughput with evidence is measured by `python benchmarks/bench_score.py`.

## Limitations
- The corpus is written by this project (see `data/README.md`), not collected from phones. The held-out set is
  also project-written, so its figures overstate accuracy on real messages; a set of real messages held by
  others is the real judge.
- Boundaries the guide draws on meaning (a polite message with a hard deadline; a third-party message that
  discloses the debt) are where most errors are; read the evidence, not only the label.
- Scams that copy a genuine reminder and add only a phone number to call back are hard to tell from the genuine one.
- Images, voice and links are not followed; only the text is read.

## Citation
collectclf developers, *collectclf: Chinese debt-collection message classifier*, version {__version__}, 2026.
"""


if __name__ == "__main__":
    sys.exit(main())
