"""Dask scale-out benchmark: messages per second with 1 and 2 local workers on the same input.

Writes a Parquet file of ``--n`` distinct messages (held-out text i followed by held-out text
i+1+round, plus a numbered suffix, so the per-partition text cache never helps), then for each
worker count starts a ``LocalCluster`` (single-threaded worker processes), warms every worker
(model + jieba loaded, outside the timing), and times
``collectclf.distributed.score_path_with_dask`` end to end: read, count rows, score, write
partitioned Parquet. Cluster start-up is reported separately. Outputs of all runs must agree.

Usage::

    python benchmarks/bench_dask.py --n 50000 --workers 1 2
    python benchmarks/bench_dask.py --n 50000 --workers 1 2 --baseline   # plus in-process score_frame

The machine's load average is printed before and after: on a shared machine, other processes
take cores from the workers and the scaling ratio drops.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HELDOUT = ROOT / "data" / "heldout.jsonl"
_SUFFIXES = ("欠款{n}元。", "尾号{n}。", "订单号{n}。", "编号{n}。")


def generate_texts(n: int) -> list[str]:
    """``n`` distinct deterministic texts built from pairs of held-out messages."""
    with open(HELDOUT, encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle]
    size = len(texts)
    return [texts[k % size] + texts[(k % size + 1 + k // size) % size] + _SUFFIXES[k % len(_SUFFIXES)].format(n=100000 + k)
            for k in range(n)]


def write_input(path: Path, n: int) -> int:
    """Write the Parquet input; returns the number of distinct texts."""
    import pandas as pd

    texts = generate_texts(n)
    senders = [("10690000001", "95000", "+8613800000000", "106575550000")[k % 4] for k in range(n)]
    pd.DataFrame({"sender": senders, "text": texts}).to_parquet(path, index=False)
    return len(set(texts))


def run(workers: int, source: Path, output: Path) -> dict[str, float | int | str]:
    """Start a local cluster of ``workers`` processes, warm it, time one scoring run."""
    import distributed

    from collectclf.distributed import prepare_worker, score_path_with_dask

    start = time.perf_counter()
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster, \
            distributed.Client(cluster) as client:
        client.run(prepare_worker)
        ready = time.perf_counter()
        summary = score_path_with_dask(source, output, scheduler=cluster.scheduler_address)
        seconds = time.perf_counter() - ready
    return {"workers": workers, "startup_s": round(ready - start, 2), "seconds": round(seconds, 2),
            "messages_per_s": round(summary.read / seconds), "read": summary.read, "scored": summary.scored,
            "summary": summary.line()}


def labels_of(output: Path) -> list[str]:
    import pandas as pd

    frame = pd.read_parquet(output, columns=["id", "label"])
    return list(frame.sort_values("id", key=lambda s: s.astype(int))["label"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="distinct messages (default 50,000)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to time (default: 1 2)")
    parser.add_argument("--baseline", action="store_true", help="also time in-process collectclf.score_frame (no Dask)")
    parser.add_argument("--workdir", type=Path, default=None, help="where to write files (default: a temporary directory)")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="collectclf-bench-dask-"))
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / f"bench-{args.n}.parquet"
    try:
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        distinct = write_input(source, args.n)
        print(f"input: {args.n:,} messages ({distinct:,} distinct texts), {source.stat().st_size / 2**20:.1f} MiB Parquet")
        results, reference = [], None
        for workers in args.workers:
            output = workdir / f"scored-{workers}"
            result = run(workers, source, output)
            results.append(result)
            print(f"{workers} worker(s): {result['seconds']} s, {result['messages_per_s']:,} messages/s "
                  f"(cluster start-up and warm-up {result['startup_s']} s, not counted)")
            print(f"  {result['summary']}")
            labels = labels_of(output)
            if reference is None:
                reference = labels
            elif labels != reference:
                print("  WARNING: labels differ from the first run")
        if args.baseline:
            import pandas as pd

            import collectclf

            collectclf.load().predict(["预热"])
            frame = pd.read_parquet(source)
            start = time.perf_counter()
            collectclf.score_frame(frame, text_column="text")
            seconds = time.perf_counter() - start
            print(f"in-process score_frame (no Dask, one process): {seconds:.1f} s, {args.n / seconds:,.0f} messages/s")
        rates = {r["workers"]: r["messages_per_s"] for r in results}
        if 1 in rates and 2 in rates:
            print(f"scaling 2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(json.dumps({"n": args.n, "runs": [{k: v for k, v in r.items() if k != "summary"} for r in results]}))
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
