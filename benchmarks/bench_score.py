"""End-to-end batch scoring benchmark: messages per second, peak memory, and speed relative to jieba.

Writes an SMS Backup & Restore XML of ``--n`` distinct messages (fragments of
``data/heldout.jsonl`` recombined with varying numbers, so the scoring cache never helps),
scores it with ``python -m collectclf score FILE -o OUT.csv --jobs J --quiet`` in a subprocess
while sampling the resident memory of that process and all its children, then times plain
``jieba.lcut`` over the same texts in this process for comparison.

Usage::

    python benchmarks/bench_score.py --n 100000 --jobs 2
    python benchmarks/bench_score.py --n 100000 --jobs 1      # the per-core figure

Targets (issue 4): >= 10,000 distinct messages/s with 2 workers, peak memory < 1 GiB, per-core
scoring >= half the speed of jieba alone.
"""

from __future__ import annotations

import argparse
import csv
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "data" / "heldout.jsonl"
_CLAUSE = re.compile(r"[^，。！？；!?;]+[，。！？；!?;]*")
_DIGITS = re.compile(r"\d+")
_SUFFIXES = ("欠款{n}元。", "尾号{n}。", "订单号{n}。", "验证码{n}。", "编号{n}。", "合同号{n}。")
_SENDERS = ("10690000001", "95000", "+8613800000000", "106575550000", "13912345678", "4008001234")
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


# --------------------------------------------------------------------------- data
def _clauses() -> list[list[str]]:
    """Each held-out text split into clauses (punctuation kept)."""
    out = []
    with open(HELDOUT, encoding="utf-8") as handle:
        for line in handle:
            text = json.loads(line)["text"].replace("\r", "").replace("\n", " ")
            pieces = _CLAUSE.findall(text) or [text]
            out.append(pieces)
    return out


def generate_texts(n: int, seed: int = 0) -> Iterator[str]:
    """``n`` distinct, deterministic message texts.

    Message ``i`` is the head of one held-out text plus the tail of another, with every number
    replaced by one derived from ``i``, ending in a suffix carrying ``100000 + i``: the suffix
    alone makes every text distinct.
    """
    texts = _clauses()
    rng = random.Random(seed)
    for i in range(n):
        first = texts[rng.randrange(len(texts))]
        second = texts[rng.randrange(len(texts))]
        head = first[: rng.randint(1, len(first))]
        tail = second[rng.randint(0, len(second) - 1):] if rng.random() < 0.5 else []
        body = "".join(head + tail)
        value = (i * 7919) % 100000

        def number(match: re.Match[str], value: int = value) -> str:
            width = len(match.group(0))
            return str(value % (10 ** min(width, 9))).zfill(min(width, 9))

        body = _DIGITS.sub(number, body)
        yield body + _SUFFIXES[i % len(_SUFFIXES)].format(n=100000 + i)


def write_xml(path: Path, n: int) -> None:
    """Stream-write an SMS Backup & Restore file of ``n`` generated messages."""
    start_ms = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n")
        out.write(f'<smses count="{n}" backup_set="bench" backup_date="{start_ms}" type="full">\n')
        for i, text in enumerate(generate_texts(n)):
            sender = _SENDERS[i % len(_SENDERS)]
            kind = 2 if i % 17 == 0 else 1
            out.write(f'  <sms protocol="0" address="{sender}" date="{start_ms + i * 1000}" type="{kind}" subject="null" '
                      f'body="{text.translate(_XML_ESCAPES)}" toa="null" sc_toa="null" service_center="null" read="1" '
                      f'status="-1" locked="0" date_sent="0" contact_name="(Unknown)" />\n')
        out.write("</smses>\n")


def check_distinct(n: int) -> int:
    """Number of distinct texts among the first ``n`` (64-bit digests, to keep memory small)."""
    seen = {int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest(), "little") for t in generate_texts(n)}
    return len(seen)


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
def run_score(xml: Path, output: Path, jobs: int, chunk_size: int | None) -> tuple[float, TreeSampler, str]:
    """(wall seconds, the tree sampler, summary line) of one CLI scoring run."""
    command = [sys.executable, "-m", "collectclf", "score", str(xml), "-o", str(output), "--jobs", str(jobs), "--quiet"]
    if chunk_size:
        command += ["--chunk-size", str(chunk_size)]
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


def time_jieba(n: int, limit: int | None) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, texts) spent in ``jieba.lcut`` alone over the first ``limit`` (or all) texts."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    count = min(n, limit) if limit else n
    wall = cpu = 0.0
    batch: list[str] = []
    for text in generate_texts(count):
        batch.append(text)
        if len(batch) == 10000:
            wall, cpu = _cut(jieba.lcut, batch, wall, cpu)
            batch = []
    wall, cpu = _cut(jieba.lcut, batch, wall, cpu)
    return wall, cpu, count


def _cut(lcut: Any, texts: list[str], wall: float, cpu: float) -> tuple[float, float]:
    start, start_cpu = time.perf_counter(), time.process_time()
    for text in texts:
        lcut(text)
    return wall + time.perf_counter() - start, cpu + time.process_time() - start_cpu


def _load() -> str:
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="distinct messages to generate (default 1,000,000)")
    parser.add_argument("--jobs", type=int, default=2, help="--jobs passed to collectclf score (default 2)")
    parser.add_argument("--chunk-size", type=int, default=None, help="--chunk-size passed to collectclf score (default: its own)")
    parser.add_argument("--jieba-limit", type=int, default=None, help="time jieba on only this many texts (default: all)")
    parser.add_argument("--skip-distinct-check", action="store_true", help="do not verify that every text is distinct")
    parser.add_argument("--keep", action="store_true", help="keep the generated XML and the output CSV")
    parser.add_argument("--workdir", type=Path, default=None, help="where to write the files (default: a temporary directory)")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="collectclf-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    xml, output = workdir / f"bench-{args.n}.xml", workdir / f"bench-{args.n}.scored.csv"
    try:
        start = time.perf_counter()
        write_xml(xml, args.n)
        print(f"generated {args.n:,} messages ({xml.stat().st_size / 2**20:.1f} MiB) in {time.perf_counter() - start:.1f} s: {xml}")
        if not args.skip_distinct_check:
            print(f"distinct texts: {check_distinct(args.n):,} of {args.n:,}")

        print(f"load average before scoring: {_load()} ({os.cpu_count()} cores)")
        seconds, sampler, line = run_score(xml, output, args.jobs, args.chunk_size)
        rows = count_rows(output)
        rate, cpu = args.n / seconds, sampler.cpu_seconds
        print(f"collectclf score --jobs {args.jobs}: {seconds:.1f} s wall, {rate:,.0f} messages/s; "
              f"{cpu:.1f} CPU-s over {len(sampler.cpu)} processes = {args.n / cpu:,.0f} messages per CPU-second")
        print(f"  peak memory of the process tree: RSS sum {sampler.peak_rss / 2**20:,.0f} MiB, "
              f"PSS sum {sampler.peak_pss / 2**20:,.0f} MiB; {rows:,} rows written; load average after: {_load()}")
        print(f"  {line}")
        if rows != args.n:
            print(f"  WARNING: {rows:,} output rows for {args.n:,} messages")

        jieba_wall, jieba_cpu, cut = time_jieba(args.n, args.jieba_limit)
        jieba_rate = cut / jieba_wall
        per_core = rate / args.jobs
        print(f"jieba.lcut alone: {cut:,} texts in {jieba_wall:.1f} s wall ({jieba_cpu:.1f} CPU-s), {jieba_rate:,.0f} messages/s")
        print(f"per-core scoring speed (wall rate / --jobs) {per_core:,.0f} messages/s = {per_core / jieba_rate:.2f} x jieba; "
              f"per CPU-second {args.n / cpu:,.0f} = {(args.n / cpu) / (cut / jieba_cpu):.2f} x jieba per CPU-second")
        print(json.dumps({"n": args.n, "jobs": args.jobs, "seconds": round(seconds, 2), "messages_per_s": round(rate),
                          "cpu_seconds": round(cpu, 1), "peak_rss_mib": round(sampler.peak_rss / 2**20),
                          "peak_pss_mib": round(sampler.peak_pss / 2**20), "rows": rows,
                          "jieba_messages_per_s": round(jieba_rate), "per_core_vs_jieba": round(per_core / jieba_rate, 3),
                          "per_cpu_second_vs_jieba": round((args.n / cpu) / (cut / jieba_cpu), 3)}))
    finally:
        if args.keep:
            print(f"kept {workdir}")
        elif args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            for path in (xml, output):
                path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
