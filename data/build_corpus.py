"""Assemble the corpus: validate the hand-written slices, drop exact duplicates, remove training
messages that are near-duplicates of held-out ones, and write ``data/train.jsonl`` and
``data/heldout.jsonl`` with a counts report.

Usage: python data/build_corpus.py            (from the repository root)

The held-out set is never changed by this script except for exact duplicates inside it: where a
training message is too close to a held-out one (character 5-gram Jaccard >= 0.5), the TRAINING
message is removed, so the evaluation stays as written.

When ``../shared/real-corpus/`` sits beside the repository, every written message is also checked against
the real messages, which judge the model and must never be written back: the build fails if a written
line equals a real message (ignoring spaces and punctuation) or is a 5-gram near-duplicate of one, and it
counts (without failing) the written lines that contain a whole real message of 4 or more characters,
such as a stock phrase. Only counts are printed; real text never leaves ``../shared``.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

ROOT = Path(__file__).resolve().parent
LABELS = ("fraudulent", "threatening", "pressuring", "compliant", "unrelated")
KEYS = ("text", "label", "sender", "recipient", "channel", "script")
JACCARD_LIMIT = 0.5
REAL_CORPUS = ROOT.parent.parent / "shared" / "real-corpus" / "real_messages.jsonl"
_NOT_TEXT = re.compile(r"[\s\W_]+")


def read_slices(folder: Path) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("label") not in LABELS or not str(row.get("text", "")).strip():
                sys.exit(f"{path}:{number}: bad row {line[:80]}")
            clean = {key: str(row.get(key, "")).strip() for key in KEYS}
            clean["slice"] = path.stem
            rows.append(clean)
    return rows


def dedupe(rows: list[dict]) -> tuple[list[dict], int]:
    seen: set[str] = set()
    kept = []
    for row in rows:
        if row["text"] in seen:
            continue
        seen.add(row["text"])
        kept.append(row)
    return kept, len(rows) - len(kept)


def max_jaccard(queries: list[str], pool: list[str]) -> np.ndarray:
    """For each pool text, the highest character 5-gram Jaccard with any query text."""
    vectorizer = CountVectorizer(analyzer="char", ngram_range=(5, 5), binary=True, lowercase=False)
    vectorizer.fit(queries + pool)
    q = vectorizer.transform(queries).astype(np.float32)
    p = vectorizer.transform(pool).astype(np.float32)
    inter = (p @ q.T).tocoo()
    p_sizes = np.asarray(p.sum(axis=1)).ravel()
    q_sizes = np.asarray(q.sum(axis=1)).ravel()
    best = np.zeros(len(pool))
    union = p_sizes[inter.row] + q_sizes[inter.col] - inter.data
    jac = np.where(union > 0, inter.data / np.maximum(union, 1), 0)
    np.maximum.at(best, inter.row, jac)
    return best


def squeeze(text: str) -> str:
    """The text without spaces and punctuation: the form the real-corpus checks compare."""
    return _NOT_TEXT.sub("", text).lower()


def real_closeness(real_texts: list[str], rows: list[dict]) -> dict[str, int]:
    """How many written rows equal, nearly duplicate, or contain a real message (counts only).

    ``equal`` and ``near`` (5-gram Jaccard >= 0.5 on squeezed text) make the build fail; ``contains`` (a
    whole real message of >= 4 characters inside a longer written line) is reported so it can be watched.
    """
    real_keys = [squeeze(t) for t in real_texts]
    keys = [squeeze(r["text"]) for r in rows]
    real_set = set(real_keys)
    equal = [k in real_set for k in keys]
    close = max_jaccard([k for k in real_keys if k], keys) >= JACCARD_LIMIT if keys else np.zeros(0, bool)
    near = [bool(c) and not e for c, e in zip(close, equal)]
    phrases = sorted({k for k in real_keys if len(k) >= 4}, key=len)
    contains = sum(not (e or n) and any(p in k for p in phrases if len(p) < len(k)) for e, n, k in zip(equal, near, keys))
    return {"equal": sum(equal), "near": sum(near), "contains": int(contains)}


def traditional_share(rows: list[dict]) -> float:
    import opencc

    converter = opencc.OpenCC("t2s.json")
    return sum(converter.convert(r["text"]) != r["text"] for r in rows) / max(len(rows), 1)


def length_bucket(text: str) -> str:
    return "<30" if len(text) < 30 else "30-120" if len(text) <= 120 else ">120"


def breakdown(rows: list[dict], field: str) -> dict[str, dict[str, int]]:
    """Per label, how many rows have each value of ``field`` (``length`` = length bucket)."""
    table: dict[str, Counter] = {label: Counter() for label in LABELS}
    for row in rows:
        table[row["label"]][length_bucket(row["text"]) if field == "length" else row[field] or "-"] += 1
    return {label: dict(counts.most_common()) for label, counts in table.items()}


def write(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps({k: row[k] for k in (*KEYS, "slice")}, ensure_ascii=False) + "\n")


def main() -> int:
    train, train_dupes = dedupe(read_slices(ROOT / "corpus" / "train"))
    heldout, held_dupes = dedupe(read_slices(ROOT / "corpus" / "heldout"))
    held_texts = {r["text"] for r in heldout}
    train = [r for r in train if r["text"] not in held_texts]
    closeness = max_jaccard([r["text"] for r in heldout], [r["text"] for r in train])
    leaking = closeness >= JACCARD_LIMIT
    train = [r for r, leak in zip(train, leaking) if not leak]
    write(ROOT / "train.jsonl", train)
    write(ROOT / "heldout.jsonl", heldout)
    check = max_jaccard([r["text"] for r in train], [r["text"] for r in heldout])
    report = {
        "train": dict(sorted(Counter(r["label"] for r in train).items())),
        "heldout": dict(sorted(Counter(r["label"] for r in heldout).items())),
        "train_total": len(train),
        "heldout_total": len(heldout),
        "exact_duplicates_dropped": {"train": train_dupes, "heldout": held_dupes},
        "train_removed_as_near_duplicates_of_heldout": int(leaking.sum()),
        "heldout_max_jaccard_to_train": round(float(check.max()) if len(check) else 0.0, 3),
        "traditional_share": {"train": round(traditional_share(train), 3), "heldout": round(traditional_share(heldout), 3)},
        "traditional_share_per_label": {
            label: round(traditional_share([r for r in train if r["label"] == label]), 3) for label in LABELS
        },
        "hard_negatives_in_train": sum(r["slice"] == "unrelated_hard" for r in train),
        "train_breakdown": {field: breakdown(train, field) for field in ("channel", "recipient", "sender", "length")},
        "heldout_breakdown": {field: breakdown(heldout, field) for field in ("channel", "recipient", "length")},
    }
    (ROOT / "corpus_report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if not k.endswith("breakdown")}, ensure_ascii=False, indent=2))
    closeness_failed = False
    if REAL_CORPUS.is_file():
        real_texts = [json.loads(line)["text"] for line in REAL_CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
        for name, rows in (("train", train), ("heldout", heldout)):
            found = real_closeness(real_texts, rows)
            print(f"{name}: lines equal to a real message {found['equal']}, near-duplicates {found['near']}, "
                  f"containing a whole real message of >= 4 characters {found['contains']} (not an error)")
            closeness_failed |= bool(found["equal"] or found["near"])
    else:
        print(f"real corpus not found at {REAL_CORPUS}: the closeness check against real messages was skipped")
    minimum = {"fraudulent": 800, "threatening": 800, "pressuring": 800, "compliant": 800, "unrelated": 2000}
    short = {k: v for k, v in minimum.items() if report["train"].get(k, 0) < v}
    short_held = {k: 150 for k in LABELS if report["heldout"].get(k, 0) < 150}
    if short or short_held or report["heldout_max_jaccard_to_train"] >= JACCARD_LIMIT or closeness_failed:
        print(f"NOT MET: train below minimum {short}, held-out below minimum {short_held}"
              + (", written lines equal or near-duplicate to real messages (see above)" if closeness_failed else ""),
              file=sys.stderr)
        return 1
    print("all corpus minimums met; no held-out message is a near-duplicate of a training one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
