"""End-to-end batch scoring benchmark on never-repeating text: messages per second, peak memory,
and speed relative to raw jieba and to a plain character TF-IDF + logistic regression.

Headline mode, ``--mode fresh`` (the default): every message is one real-length held-out text
(``data/heldout.jsonl``) with two random common Chinese characters (a fixed list of a few hundred,
seeded RNG) inserted into every clause, and no text repeats. Neither the per-clause tokenizer
cache nor the per-text rule cache can replay work, so the figure is the cost of a phone nobody
has scored before. ``--mode recombined`` is the older generator (heads and tails of held-out
texts with varied numbers: whole clauses repeat, so the caches help); ``--both`` prints the
other mode's figure as a second line.

Steps: write an SMS Backup & Restore XML of ``--n`` messages; score it with
``python -m collectclf score FILE -o OUT.csv --jobs J --quiet [--model DIR]`` in a subprocess
while sampling the memory of that process and all its children; check the rows written; then,
in this process over the same texts (``--jieba-limit`` of them), time raw single-process
``jieba.lcut`` and a plain character 1-4-gram ``TfidfVectorizer`` + ``LogisticRegression``
(fitted on ``data/train.jsonl`` beforehand, not timed) doing transform + predict_proba.
Finally, on ``--stage-n`` fresh texts in one process with the model's own pieces: normalisation,
feature transform, linear head, evidence, and ``model.classify`` (with evidence) against raw
jieba on the same sample, with the tokenizer and rule cache hit rates. The last line is a JSON
summary.

Usage::

    python benchmarks/bench_score.py --n 1000000 --jobs 2               # the headline figure
    python benchmarks/bench_score.py --n 200000 --jobs 2 --both         # also the recombined figure
    python benchmarks/bench_score.py --n 20000 --jieba-limit 5000 --model path/to/model_dir

Targets (speed issue), on fresh text:
  * with 2 workers, ``collectclf score`` end-to-end >= 2.0 x raw single-process jieba
    (stretch 3.0 x), peak memory of the process tree < 1 GiB;
  * in one process, ``model.classify`` with evidence >= 1.0 x raw jieba.
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "data" / "heldout.jsonl"
TRAIN = ROOT / "data" / "train.jsonl"
MODES = ("fresh", "recombined")
_CLAUSE = re.compile(r"[^，。！？；!?;]+[，。！？；!?;]*")
_TRAILING_PUNCT = re.compile(r"[，。！？；!?;]*$")
_DIGITS = re.compile(r"\d+")
_SUFFIXES = ("欠款{n}元。", "尾号{n}。", "订单号{n}。", "验证码{n}。", "编号{n}。", "合同号{n}。")
_SENDERS = ("10690000001", "95000", "+8613800000000", "106575550000", "13912345678", "4008001234")
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})
_BATCH = 10_000

# 427 common simplified characters, fixed so that runs compare. Numerals (which normalisation may
# turn into a number placeholder) and loaded characters (死, 杀, 法, 警, 债, 款, 钱, 欠, 还, 贷 …)
# are left out so that the inserts add cost without steering the labels.
COMMON_CHARS = (
    "的是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能"
    "好都然没日于起发成事只作当想看文无开手用主行方又如前所本见经头面同从动长知民样现分将外但身些与高意进把此实回理美"
    "点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什便位因重被走电第门相次东海口使教西再平真听世气信北"
    "少关并内加化由却代产入先山太水市眼体别处总才场师书比住员笑性通目华报立马张活难神数件安表原车白应路期叫常提感金何"
    "更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风干接它许特觉望直服毛林题建南度统色字请交爱让认"
    "算论吃义科怎元社术结功指思非流每青管夫连远资队跟带花快条变联言往展该领传近留红决周保达办运候必城父强步完深区即求"
    "品士转量空甚众技轻程告江语英基满式李息写呢识极令黄德收脸倒未持取设始版双历越史商片容研像找友孩站广改议形早房音火"
    "际则首单据影拿网香似斯专石若弟谁校读志飞观争究包组造落视济喜离虽兴切随"
)


# --------------------------------------------------------------------------- data
@functools.lru_cache(maxsize=1)
def _clauses() -> tuple[tuple[str, ...], ...]:
    """Each held-out text split into clauses (punctuation kept)."""
    out = []
    with open(HELDOUT, encoding="utf-8") as handle:
        for line in handle:
            text = json.loads(line)["text"].replace("\r", "").replace("\n", " ")
            out.append(tuple(_CLAUSE.findall(text) or [text]))
    return tuple(out)


def recombined_texts(n: int, seed: int = 0) -> Iterator[str]:
    """``n`` distinct texts, the older generator (``--mode recombined``).

    Message ``i`` is the head of one held-out text plus the tail of another, with every number
    replaced by one derived from ``i``, ending in a suffix carrying ``100000 + i``: the suffix
    alone makes every text distinct, but whole clauses recur, so per-clause caches help.
    """
    texts = _clauses()
    rng = random.Random(seed)
    for i in range(n):
        first = texts[rng.randrange(len(texts))]
        second = texts[rng.randrange(len(texts))]
        head = list(first[: rng.randint(1, len(first))])
        tail = list(second[rng.randint(0, len(second) - 1):]) if rng.random() < 0.5 else []
        body = "".join(head + tail)
        value = (i * 7919) % 100000

        def number(match: re.Match[str], value: int = value) -> str:
            width = len(match.group(0))
            return str(value % (10 ** min(width, 9))).zfill(min(width, 9))

        body = _DIGITS.sub(number, body)
        yield body + _SUFFIXES[i % len(_SUFFIXES)].format(n=100000 + i)


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and not ch.isspace()


def _sprinkle(clause: str, rng: random.Random) -> str:
    """The clause with two random common characters inserted before its closing punctuation,
    never between two visible ASCII characters (numbers, amounts, codes and links stay whole)."""
    body = clause[: _TRAILING_PUNCT.search(clause).start()]
    spots = [p for p in range(len(body) + 1) if not (0 < p < len(body) and _is_word_char(body[p - 1]) and _is_word_char(body[p]))]
    out = body
    for spot in sorted((rng.choice(spots) for _ in range(2)), reverse=True):
        out = out[:spot] + rng.choice(COMMON_CHARS) + out[spot:]
    return out + clause[len(body):]


def fresh_texts(n: int, seed: int = 0) -> Iterator[str]:
    """``n`` distinct never-repeating texts (``--mode fresh``, the headline).

    Each is one real-length held-out text with two random common characters inserted into every
    clause; a text equal to an earlier one (possible only for very short sources) is drawn again.
    """
    texts = _clauses()
    rng = random.Random(seed)
    seen: set[int] = set()
    while len(seen) < n:
        text = "".join(_sprinkle(clause, rng) for clause in texts[rng.randrange(len(texts))])
        digest = _digest(text)
        if digest not in seen:
            seen.add(digest)
            yield text


def generate_texts(n: int, mode: str = "fresh", seed: int = 0) -> Iterator[str]:
    """``n`` distinct, deterministic message texts of the given mode."""
    return (fresh_texts if mode == "fresh" else recombined_texts)(n, seed)


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def batches(n: int, mode: str, size: int = _BATCH) -> Iterator[list[str]]:
    """The first ``n`` texts of ``mode`` in lists of ``size`` (memory stays small for large ``n``)."""
    batch: list[str] = []
    for text in generate_texts(n, mode):
        batch.append(text)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def write_xml(path: Path, n: int, mode: str) -> None:
    """Stream-write an SMS Backup & Restore file of ``n`` generated messages."""
    start_ms = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n")
        out.write(f'<smses count="{n}" backup_set="bench" backup_date="{start_ms}" type="full">\n')
        for i, text in enumerate(generate_texts(n, mode)):
            sender = _SENDERS[i % len(_SENDERS)]
            kind = 2 if i % 17 == 0 else 1
            out.write(f'  <sms protocol="0" address="{sender}" date="{start_ms + i * 1000}" type="{kind}" subject="null" '
                      f'body="{text.translate(_XML_ESCAPES)}" toa="null" sc_toa="null" service_center="null" read="1" '
                      f'status="-1" locked="0" date_sent="0" contact_name="(Unknown)" />\n')
        out.write("</smses>\n")


def check_distinct(n: int, mode: str) -> int:
    """Number of distinct texts among the first ``n`` (64-bit digests, to keep memory small)."""
    return len({_digest(t) for t in generate_texts(n, mode)})


# --------------------------------------------------------------------------- memory and CPU of a process tree
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _tree_psutil(pid: int) -> dict[int, tuple[int, float]]:
    import psutil

    try:
        parent = psutil.Process(pid)
        procs = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return {}
    found = {}
    for proc in procs:
        try:
            with proc.oneshot():
                cpu = proc.cpu_times()
                found[proc.pid] = (proc.memory_info().rss, cpu.user + cpu.system)
        except psutil.NoSuchProcess:
            pass
    return found


def _tree_proc(pid: int) -> dict[int, tuple[int, float]]:
    """pid -> (VmRSS bytes, CPU seconds) for ``pid`` and its descendants, from /proc (no psutil)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as handle:
                rss_line = next((line for line in handle if line.startswith("VmRSS:")), "VmRSS: 0 kB")
        except OSError:
            continue
        # fields[0] is the state (field 3 of stat): ppid is field 4, utime/stime fields 14/15
        children.setdefault(int(fields[1]), []).append(int(entry))
        stats[int(entry)] = (int(rss_line.split()[1]) * 1024, (int(fields[11]) + int(fields[12])) / _TICKS)
    found, stack = {}, [pid]
    while stack:
        current = stack.pop()
        if current in stats:
            found[current] = stats[current]
        stack.extend(children.get(current, []))
    return found


def tree_stats(pid: int) -> dict[int, tuple[int, float]]:
    """pid -> (resident bytes, CPU seconds so far) for ``pid`` and all its descendants."""
    try:
        return _tree_psutil(pid)
    except ImportError:
        return _tree_proc(pid)


def _pss(pid: int) -> int:
    """Proportional set size of one process (shared pages split between sharers), 0 if unknown."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


class TreeSampler:
    """Samples a process tree in a thread: peak summed RSS (every ``interval`` s), peak summed PSS
    (every ``pss_interval`` s; reading smaps is costly) and the CPU seconds each process used."""

    def __init__(self, pid: int, interval: float = 0.1, pss_interval: float = 2.0):
        self.pid, self.interval, self.pss_interval = pid, interval, pss_interval
        self.peak_rss = self.peak_pss = 0
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        next_pss = 0.0
        while not self._stop.is_set():
            stats = tree_stats(self.pid)
            self.peak_rss = max(self.peak_rss, sum(rss for rss, _ in stats.values()))
            for pid, (_, cpu) in stats.items():
                self.cpu[pid] = max(cpu, self.cpu.get(pid, 0.0))
            if time.monotonic() >= next_pss:
                self.peak_pss = max(self.peak_pss, sum(_pss(pid) for pid in stats))
                next_pss = time.monotonic() + self.pss_interval
            self._stop.wait(self.interval)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------- measurements
def run_score(xml: Path, output: Path, jobs: int, chunk_size: int | None, model: str | None) -> tuple[float, TreeSampler, str]:
    """(wall seconds, the tree sampler, summary line) of one CLI scoring run."""
    command = [sys.executable, "-m", "collectclf", "score", str(xml), "-o", str(output), "--jobs", str(jobs), "--quiet"]
    if chunk_size:
        command += ["--chunk-size", str(chunk_size)]
    if model:
        command += ["--model", model]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    with TreeSampler(process.pid) as sampler:
        stdout, stderr = process.communicate()
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"scoring failed (exit {process.returncode}):\n{stdout}\n{stderr}")
    return seconds, sampler, stderr.strip().splitlines()[-1] if stderr.strip() else ""


def count_rows(path: Path) -> int:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def score_mode(mode: str, args: argparse.Namespace, workdir: Path, *, verbose: bool = True) -> dict[str, Any]:
    """Generate ``args.n`` texts of ``mode``, score them with the CLI; the figures as a dict."""
    xml, output = workdir / f"bench-{mode}-{args.n}.xml", workdir / f"bench-{mode}-{args.n}.scored.csv"
    try:
        start = time.perf_counter()
        write_xml(xml, args.n, mode)
        distinct = None if args.skip_distinct_check else check_distinct(args.n, mode)
        if verbose:
            print(f"{mode} text: generated {args.n:,} messages ({xml.stat().st_size / 2**20:.1f} MiB) in "
                  f"{time.perf_counter() - start:.1f} s" + ("" if distinct is None else f"; {distinct:,} distinct"))
            print(f"load average before scoring: {_load()} ({os.cpu_count()} cores)")
        seconds, sampler, line = run_score(xml, output, args.jobs, args.chunk_size, args.model)
        rows = count_rows(output)
    finally:
        if not args.keep:
            for path in (xml, output):
                path.unlink(missing_ok=True)
    result = {"mode": mode, "seconds": seconds, "rate": args.n / seconds, "cpu": sampler.cpu_seconds,
              "processes": len(sampler.cpu), "peak_rss": sampler.peak_rss, "peak_pss": sampler.peak_pss, "rows": rows,
              "distinct": distinct, "line": line}
    if verbose:
        print(f"collectclf score --jobs {args.jobs}: {seconds:.1f} s wall, {result['rate']:,.0f} messages/s; "
              f"{result['cpu']:.1f} CPU-s over {result['processes']} processes = {args.n / result['cpu']:,.0f} messages per CPU-second")
        print(f"  peak memory of the process tree: RSS sum {sampler.peak_rss / 2**20:,.0f} MiB, "
              f"PSS sum {sampler.peak_pss / 2**20:,.0f} MiB; {rows:,} rows written; load average after: {_load()}")
        if line:
            print(f"  {line}")
    if rows != args.n:
        print(f"  WARNING: {rows:,} output rows for {args.n:,} {mode} messages")
    return result


def timed(function: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds of this process) of one call."""
    start, start_cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - start, time.process_time() - start_cpu


def load_jieba() -> Callable[[str], list[str]]:
    """``jieba.lcut`` with its dictionary already loaded (loading is not timed)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba.lcut


def fit_char_tfidf_lr() -> tuple[Any, Any, float, int]:
    """(vectorizer, classifier, fit seconds, training texts): a plain character 1-4-gram TF-IDF
    + logistic regression on ``data/train.jsonl`` (raw text, no normalisation, no rules)."""
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    with open(TRAIN, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    texts, labels = [str(row["text"]) for row in rows], [str(row["label"]) for row in rows]
    start = time.perf_counter()
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), min_df=2, sublinear_tf=True, dtype=np.float32)
    # saga on one thread: lbfgs takes minutes on a busy 2-core machine; the fitted model has the
    # same shape either way, so transform + predict_proba (the timed part) costs the same
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier = LogisticRegression(C=10.0, solver="saga", tol=1e-3, max_iter=200).fit(vectorizer.fit_transform(texts), labels)
    return vectorizer, classifier, time.perf_counter() - start, len(texts)


def time_baselines(count: int, mode: str, lcut: Callable[[str], list[str]], tfidf: tuple[Any, Any] | None) -> dict[str, float]:
    """Wall and CPU seconds of raw ``jieba.lcut`` (and of the TF-IDF + LR baseline's transform +
    predict_proba, when given) over the first ``count`` texts of ``mode``; generation is not timed."""
    out = {"jieba_wall": 0.0, "jieba_cpu": 0.0, "tfidf_wall": 0.0, "tfidf_cpu": 0.0}
    vectorizer, classifier = tfidf if tfidf is not None else (None, None)
    for batch in batches(count, mode):
        _, wall, cpu = timed(lambda batch=batch: [lcut(text) for text in batch])
        out["jieba_wall"] += wall
        out["jieba_cpu"] += cpu
        if tfidf is not None:
            _, wall, cpu = timed(lambda batch=batch: classifier.predict_proba(vectorizer.transform(batch)))
            out["tfidf_wall"] += wall
            out["tfidf_cpu"] += cpu
    return out


# --------------------------------------------------------------------------- one process, per stage
def _caches() -> dict[str, Any]:
    """The memoised functions whose hits could replay work: the tokenizer's per-clause cut (only
    if the installed collectclf has it) and the per-text rule matches."""
    found = {}
    for module_name, attribute in (("collectclf.tokenizer", "_cut_piece"), ("collectclf.rules", "_rule_hits")):
        try:
            module = __import__(module_name, fromlist=[attribute])
        except ImportError:
            continue
        function = getattr(module, attribute, None)
        if hasattr(function, "cache_info"):
            found[f"{module_name.rsplit('.', 1)[1]}.{attribute}"] = function
    return found


def clear_caches() -> None:
    for function in _caches().values():
        if hasattr(function, "cache_clear"):
            function.cache_clear()


def cache_stats() -> dict[str, dict[str, float]]:
    stats = {}
    for name, function in _caches().items():
        info = function.cache_info()
        total = info.hits + info.misses
        stats[name] = {"hits": info.hits, "misses": info.misses, "hit_rate": round(info.hits / total, 4) if total else 0.0}
    return stats


def _evidence_pieces(model: Any, texts: list[str], mapped: list[Any], X: Any, proba: Any) -> None:
    """The evidence part of ``Classifier.analyse`` (every label gets evidence, as ``classify`` does)."""
    import numpy as np

    from collectclf.labels import UNCERTAIN

    explainer = model._explainer
    for i, label in enumerate(model.decide(proba)):
        target = label if label != UNCERTAIN else str(model.classes_[int(np.argmax(proba[i]))])
        lo, hi = X.indptr[i], X.indptr[i + 1]
        explainer.evidence(texts[i], mapped[i], X.indices[lo:hi], X.data[lo:hi], target, 5)


def stage_timing(model: Any, n: int, lcut: Callable[[str], list[str]]) -> dict[str, Any]:
    """Seconds per stage over ``n`` fresh texts in this process, with the caches emptied first."""
    from collectclf.text import normalize_with_offsets

    texts = list(fresh_texts(n, seed=1))
    warm = list(fresh_texts(200, seed=2))
    model.classify(warm)  # loads the tokenizer's dictionary and builds the explainer: not timed
    model.predict_proba(warm)
    pipeline = model._fitted()
    features, head = pipeline.named_steps["features"], pipeline.named_steps["model"]

    clear_caches()
    seconds: dict[str, float] = {}
    mapped, seconds["normalize_with_offsets"], _ = timed(lambda: [normalize_with_offsets(text) for text in texts])
    X, seconds["features.transform"], _ = timed(lambda: features.transform([m.text for m in mapped]).tocsr())
    proba, seconds["model.predict_proba"], _ = timed(lambda: head.predict_proba(X))
    evidence_how = "the explainer per text"
    try:
        _, seconds["evidence"], _ = timed(lambda: _evidence_pieces(model, texts, mapped, X, proba))
    except (AttributeError, TypeError, ValueError, KeyError) as error:
        evidence_how = f"classify - predict_proba (the pieces failed: {type(error).__name__})"
    clear_caches()
    _, classify_wall, _ = timed(lambda: model.classify(texts))
    caches = cache_stats()
    if "evidence" not in seconds:
        clear_caches()
        _, proba_wall, _ = timed(lambda: model.predict_proba(texts))
        seconds["evidence"] = max(0.0, classify_wall - proba_wall)
    _, jieba_wall, _ = timed(lambda: [lcut(text) for text in texts])
    return {"n": n, "seconds": seconds, "evidence_how": evidence_how, "classify": classify_wall, "jieba": jieba_wall,
            "caches": caches}


def _load() -> str:
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="distinct messages to generate (default 1,000,000)")
    parser.add_argument("--mode", choices=MODES, default="fresh",
                        help="fresh: never-repeating text, the headline (default); recombined: the older generator")
    parser.add_argument("--both", action="store_true", help="also score the other mode and print its figure as a second line")
    parser.add_argument("--jobs", type=int, default=2, help="--jobs passed to collectclf score (default 2)")
    parser.add_argument("--chunk-size", type=int, default=None, help="--chunk-size passed to collectclf score (default: its own)")
    parser.add_argument("--model", default=None, help="model directory, for the CLI run and the stage timing (default: shipped)")
    parser.add_argument("--jieba-limit", type=int, default=None,
                        help="time raw jieba and the char TF-IDF+LR baseline on only this many of the texts (default: all)")
    parser.add_argument("--stage-n", type=int, default=5000, help="fresh texts for the one-process stage timing (0: skip)")
    parser.add_argument("--skip-distinct-check", action="store_true", help="do not verify that every text is distinct")
    parser.add_argument("--keep", action="store_true", help="keep the generated XML and the output CSV")
    parser.add_argument("--workdir", type=Path, default=None, help="where to write the files (default: a temporary directory)")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="collectclf-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    model_name = args.model or "shipped"
    try:
        main_run = score_mode(args.mode, args, workdir)

        lcut = load_jieba()
        vectorizer, classifier, fit_seconds, n_train = fit_char_tfidf_lr()
        count = min(args.n, args.jieba_limit) if args.jieba_limit else args.n
        base = time_baselines(count, args.mode, lcut, (vectorizer, classifier))
        jieba_rate, tfidf_rate = count / base["jieba_wall"], count / base["tfidf_wall"]
        rate = main_run["rate"]
        print(f"in this process over the same {count:,} {args.mode} texts: raw jieba.lcut {jieba_rate:,.0f} messages/s "
              f"({base['jieba_wall']:.1f} s wall, {base['jieba_cpu']:.1f} CPU-s); plain char 1-4-gram TF-IDF+LR "
              f"transform+predict_proba {tfidf_rate:,.0f} messages/s (fitted on {n_train:,} texts in {fit_seconds:.1f} s, not timed)")
        x_jieba, x_tfidf = rate / jieba_rate, rate / tfidf_rate
        per_cpu_vs_jieba = (args.n / main_run["cpu"]) / (count / base["jieba_cpu"])
        print(f"HEADLINE ({args.mode} text, --jobs {args.jobs}, model {model_name}): {rate:,.0f} messages/s = "
              f"{x_jieba:.2f} x raw jieba (target >= 2.0, stretch 3.0), {x_tfidf:.2f} x plain char TF-IDF+LR; "
              f"peak RSS {main_run['peak_rss'] / 2**20:,.0f} MiB (target < 1024); per CPU-second {per_cpu_vs_jieba:.2f} x jieba")

        stages: dict[str, Any] | None = None
        if args.stage_n > 0:
            import collectclf

            stages = stage_timing(collectclf.load(args.model), args.stage_n, lcut)
            n_stage, seconds = stages["n"], stages["seconds"]
            total = sum(seconds.values())
            print(f"one process, {n_stage:,} fresh texts, model {model_name} (caches emptied first):")
            for name, value in seconds.items():
                how = f"  [{stages['evidence_how']}]" if name == "evidence" else ""
                print(f"  {name:<24} {value:7.2f} s  {n_stage / value if value else float('inf'):>9,.0f} messages/s  "
                      f"{100 * value / total:5.1f} %{how}")
            classify_rate, stage_jieba_rate = n_stage / stages["classify"], n_stage / stages["jieba"]
            stages["classify_x_jieba"] = classify_rate / stage_jieba_rate
            print(f"  {'sum of the stages':<24} {total:7.2f} s  {n_stage / total:>9,.0f} messages/s")
            print(f"  model.classify (evidence) {stages['classify']:6.2f} s  {classify_rate:>9,.0f} messages/s = "
                  f"{stages['classify_x_jieba']:.2f} x raw jieba on the same texts ({stage_jieba_rate:,.0f}/s; target >= 1.0)")
            for name, info in stages["caches"].items():
                print(f"  cache {name} during classify: {info['hits']:,} hits, {info['misses']:,} misses "
                      f"({100 * info['hit_rate']:.1f} % hits)" + ("; one hit per text is evidence reusing the features' matches"
                                                               if name.endswith("_rule_hits") else ""))

        other: dict[str, Any] | None = None
        if args.both:
            mode = next(m for m in MODES if m != args.mode)
            other = score_mode(mode, args, workdir, verbose=False)
            other_base = time_baselines(count, mode, lcut, None)
            other["jieba_rate"] = count / other_base["jieba_wall"]
            print(f"second line ({mode} text, --jobs {args.jobs}): {other['rate']:,.0f} messages/s = "
                  f"{other['rate'] / other['jieba_rate']:.2f} x raw jieba on those texts ({other['jieba_rate']:,.0f}/s); "
                  f"peak RSS {other['peak_rss'] / 2**20:,.0f} MiB; {other['rows']:,} rows")

        summary: dict[str, Any] = {
            "mode": args.mode, "n": args.n, "jobs": args.jobs, "model": model_name, "seconds": round(main_run["seconds"], 2),
            "messages_per_s": round(rate), "cpu_seconds": round(main_run["cpu"], 1),
            "peak_rss_mib": round(main_run["peak_rss"] / 2**20), "peak_pss_mib": round(main_run["peak_pss"] / 2**20),
            "rows": main_run["rows"], "distinct": main_run["distinct"], "baseline_texts": count,
            "jieba_messages_per_s": round(jieba_rate), "char_tfidf_lr_messages_per_s": round(tfidf_rate),
            "x_raw_jieba": round(x_jieba, 3), "x_char_tfidf_lr": round(x_tfidf, 3),
            "per_cpu_second_vs_jieba": round(per_cpu_vs_jieba, 3),
        }
        if stages is not None:
            summary["one_process"] = {
                "n": stages["n"], "seconds": {k: round(v, 3) for k, v in stages["seconds"].items()},
                "classify_seconds": round(stages["classify"], 3), "jieba_seconds": round(stages["jieba"], 3),
                "classify_x_jieba": round(stages["classify_x_jieba"], 3), "caches": stages["caches"],
            }
        if other is not None:
            summary[other["mode"]] = {"messages_per_s": round(other["rate"]), "x_raw_jieba": round(other["rate"] / other["jieba_rate"], 3),
                                      "jieba_messages_per_s": round(other["jieba_rate"]),
                                      "peak_rss_mib": round(other["peak_rss"] / 2**20), "rows": other["rows"]}
        print(json.dumps(summary))
    finally:
        if args.keep:
            print(f"kept {workdir}")
        elif args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
