"""Scale-out on Dask: score a Dask DataFrame partition by partition, on a cluster or locally.

:func:`score_dask` maps :func:`score_partition` over the partitions of a Dask DataFrame; the
result has exactly the columns of :func:`collectclf.score_frame`. Only the model *path* travels
with the tasks: each worker process loads the model once (a per-process cache) and builds its
jieba tokenizer once (``collectclf.text`` caches it per process), so tasks stay a few hundred
bytes however large the model is. :func:`score_path_with_dask` is what ``collectclf score INPUT
--dask`` / ``--scheduler ADDRESS`` runs: Parquet or CSV in, a directory of Parquet files out.

:func:`score_partition` is a plain pandas → pandas function, so the same code runs under other
engines (for example PySpark's ``mapInPandas``).

Dask is optional (``pip install collectclf[dask]``); ``import collectclf`` never imports it.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .batch import ScoreOptions, Summary, score_messages
from .exports import ID_COLUMNS, TableMapper, UnreadableInput, detect_text_encoding, messages_from_frame, pick_column
from .output import column_names

__all__ = ["output_columns", "prepare_worker", "score_dask", "score_partition", "score_path_with_dask", "with_row_ids"]

log = logging.getLogger(__name__)

_INSTALL_HINT = "pip install collectclf[dask]"
#: Partition sizes for file scoring: at most this many rows (bounds worker memory) …
MAX_PARTITION_ROWS = 100_000
#: … and no fewer than this many, unless the input is smaller (per-task overhead).
MIN_PARTITION_ROWS = 1_000
_PART_FILE = re.compile(r"^(part\.\d+\.parquet|_metadata|_common_metadata)$")

# Per-process state: how many partitions this process scored (the model cache is _loading's).
_scored: Counter = Counter()


def _require_dask() -> Any:
    """``dask.dataframe``, or an ImportError that says how to install it."""
    try:
        import dask.dataframe as dd
    except ImportError as error:
        raise ImportError(f"Dask scoring needs dask and distributed: {_INSTALL_HINT}") from error
    return dd


def _require_distributed() -> Any:
    try:
        import distributed
    except ImportError as error:
        raise ImportError(f"Dask scoring on a cluster needs distributed: {_INSTALL_HINT}") from error
    return distributed


# --------------------------------------------------------------------------- per-process model cache
def _model(path: str | os.PathLike[str] | None) -> Any:
    """The model at ``path`` (None = shipped default), loaded at most once in this process."""
    from ._loading import cached_model

    return cached_model(path)


def _check_path(model: Any) -> str | None:
    if model is None or isinstance(model, (str, os.PathLike)):
        return None if model is None else os.fspath(model)
    raise TypeError("pass a model directory path (or None for the shipped model), not a model object: workers load it "
                    "once each instead of receiving it with every task; save a trained model with model.save(path)")


def prepare_worker(model_path: str | None = None) -> int:
    """Load the model and jieba in this process now (e.g. ``client.run(prepare_worker)``); returns the pid."""
    _model(model_path).predict(["预热"])
    return os.getpid()


def _load_counts() -> dict[str | None, int]:
    """How many times this process loaded each model directory (for tests)."""
    from ._loading import path_load_counts

    return path_load_counts()


def _partition_count() -> int:
    """How many partitions this process has scored (for tests)."""
    return _scored["partitions"]


# --------------------------------------------------------------------------- the partition function
def output_columns(model_path: str | None = None, include_text: bool = True) -> dict[str, str]:
    """Output column → ``"string"`` or ``"double"``, in order (e.g. to build a Spark schema)."""
    from ._loading import model_labels

    labels = model_labels(model_path)
    return {c: "double" if c.startswith("p_") else "string" for c in column_names(labels, include_text=include_text)}


def _meta(model_path: str | None, include_text: bool) -> Any:
    """An empty DataFrame with the output columns and the dtypes ``score_frame`` gives them."""
    import pandas as pd

    text = pd.Series([""]).dtype  # the string dtype pandas infers (str on pandas 3, object before)
    columns = output_columns(model_path, include_text)
    return pd.DataFrame({c: pd.Series([], dtype="float64" if kind == "double" else text) for c, kind in columns.items()})


def score_partition(
    frame: Any, text_column: str | None = "text", model_path: str | None = None, include_text: bool = True,
    partition: int | str | None = None,
) -> Any:
    """Score one pandas DataFrame; returns the rows :func:`collectclf.score_frame` would, with fixed dtypes.

    The model comes from the per-process cache, so calling this for every partition costs one
    load per process. When the frame has no id column (``id``, ``message_id``, …), row ids are
    ``f"{partition}-{position}"`` if ``partition`` is given (unique across pieces), else the
    position in this frame. Duplicate messages are flagged within this frame only.
    """
    import pandas as pd

    meta = _meta(model_path, include_text)
    model = _model(model_path)
    options = ScoreOptions(jobs=1, include_text=include_text, progress=False)
    rows = list(score_messages(messages_from_frame(frame, text_column=text_column), model=model, options=options))
    out = pd.DataFrame(rows, columns=list(meta.columns)).astype(meta.dtypes.to_dict())
    if partition is not None and pick_column([str(c) for c in frame.columns], ID_COLUMNS) is None:
        out["id"] = pd.Series([f"{partition}-{i}" for i in range(len(out))], dtype=meta["id"].dtype)
    _scored["partitions"] += 1
    return out


def _score_numbered(frame: Any, text_column: str | None, model_path: str | None, include_text: bool,
                    partition_info: dict[str, Any] | None = None) -> Any:
    """:func:`score_partition` with the partition number Dask passes in."""
    number = partition_info["number"] if partition_info else None
    return score_partition(frame, text_column, model_path, include_text, partition=number)


# --------------------------------------------------------------------------- Dask DataFrames
def score_dask(ddf: Any, text_column: str | None = "text", model: str | os.PathLike[str] | None = None, *,
               include_text: bool = True) -> Any:
    """Score a Dask DataFrame lazily; returns a Dask DataFrame with the columns of ``score_frame``.

    ``model`` is a model directory readable here and by every worker, or None for the shipped
    model; it is loaded once per worker process. Row ids: an existing id column is kept; otherwise ids are
    ``"<partition>-<position>"`` (add ids 0…n-1 like ``score_frame``'s with :func:`with_row_ids`).
    ``text_column=None`` detects the column as ``score_frame`` does.
    """
    _require_dask()
    model_path = _check_path(model)
    TableMapper([str(c) for c in ddf.columns], "dask", text_column)  # unknown text column: fail now, not on a worker
    meta = _meta(model_path, include_text)
    return ddf.map_partitions(_score_numbered, text_column, model_path, include_text, meta=meta, enforce_metadata=False)


def _with_ids(frame: Any, offsets: Sequence[int], partition_info: dict[str, Any] | None = None) -> Any:
    import pandas as pd

    first = offsets[partition_info["number"]] if partition_info else 0
    ids = pd.Series([str(first + i) for i in range(len(frame))], index=frame.index, dtype=pd.Series([""]).dtype)
    return frame.assign(id=ids)


def _lengths(ddf: Any) -> list[int]:
    """Rows per partition (reads a single column)."""
    if not len(ddf.columns):
        return [0] * ddf.npartitions
    return [int(n) for n in ddf[[ddf.columns[0]]].map_partitions(len).compute().tolist()]


def _add_ids(ddf: Any, lengths: Sequence[int]) -> Any:
    offsets, total = [], 0
    for length in lengths:
        offsets.append(total)
        total += length
    return ddf.map_partitions(_with_ids, offsets, meta=_with_ids(ddf._meta, [0]), enforce_metadata=False)


def with_row_ids(ddf: Any) -> Any:
    """``ddf`` with an ``id`` column holding the global row number ("0", "1", …), as ``score_frame`` numbers rows.

    Counts the rows of every partition first (one pass over a single column). Frames that
    already have an id column are returned unchanged.
    """
    _require_dask()
    if pick_column([str(c) for c in ddf.columns], ID_COLUMNS) is not None:
        return ddf
    return _add_ids(ddf, _lengths(ddf))


# --------------------------------------------------------------------------- files
def _read(dd: Any, source: str) -> Any:
    """A Dask DataFrame of a Parquet file/directory/glob or a CSV/TSV file/glob."""
    lowered = source.lower().rstrip("/")
    local = Path(source)
    if lowered.endswith((".parquet", ".pq")) or (local.is_dir() and "://" not in source):
        return dd.read_parquet(source)
    if lowered.endswith((".csv", ".tsv", ".txt")):
        encoding = "utf-8"
        if "://" not in source and local.is_file():
            encoding = detect_text_encoding(local)
            if encoding == "mixed":
                raise UnreadableInput(f"{source} mixes UTF-8 and GB18030 lines; score it without --dask, or convert it to UTF-8")
        # one partition per file: quoted fields may hold newlines, which byte-range splitting would cut
        return dd.read_csv(source, sep="\t" if lowered.endswith(".tsv") else ",", dtype=str, keep_default_na=False,
                           encoding=encoding, blocksize=None)
    raise UnreadableInput(f"{source}: Dask scoring reads Parquet (.parquet, a directory) or CSV/TSV; "
                          "convert other exports with 'collectclf score' first")


def _default_output(source: str) -> str:
    path = Path(source.rstrip("/"))
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    return str(path.with_name(stem + ".scored.parquet"))


def _prepare_output(target: str, *, clear: bool) -> None:
    """Check that ``target`` can become the output directory; with ``clear``, empty (or create) it.

    Files of an earlier collectclf run there (``part.N.parquet``) are replaced; anything else is refused.
    """
    if "://" in target:
        return
    path = Path(target)
    if path.suffix.lower() in (".csv", ".jsonl", ".json", ".xlsx"):
        raise ValueError(f"output {target}: Dask scoring writes a directory of Parquet files; name a directory")
    if path.exists() and not path.is_dir():
        raise ValueError(f"output {target} exists and is not a directory")
    entries = list(path.iterdir()) if path.is_dir() else []
    foreign = [e.name for e in entries if not (e.is_file() and _PART_FILE.match(e.name))]
    if foreign:
        raise ValueError(f"output directory {target} holds other files ({', '.join(sorted(foreign)[:3])}); choose an empty one")
    if clear:
        for entry in entries:
            entry.unlink()
        path.mkdir(parents=True, exist_ok=True)


def _tally(frame: Any) -> Any:
    """Counts of one scored partition, as a two-column frame (key, n)."""
    import pandas as pd

    counts: Counter = Counter(read=len(frame), scored=int((frame["label"] != "").sum()), errored=int((frame["error"] != "").sum()),
                              duplicates=int(frame["flags"].str.contains("duplicate", regex=False).sum()))
    for label, n in frame.loc[frame["label"] != "", "label"].value_counts().items():
        counts[f"label:{label}"] = int(n)
    return pd.DataFrame({"key": list(counts), "n": list(counts.values())}).astype({"key": object, "n": "int64"})


def _connect(scheduler: str | None) -> tuple[Any, Any]:
    """(client, cluster or None): a client of ``scheduler``, or of a new local cluster when None."""
    distributed = _require_distributed()
    if scheduler:
        log.info("connecting to Dask scheduler %s", scheduler)
        return distributed.Client(scheduler), None
    # No dashboard; the scheduler's HTTP server (health, metrics) would still default to port 8787
    # and warn when that is taken, so it gets a free loopback port instead.
    cluster = distributed.LocalCluster(threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                                       scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    log.info("started a local Dask cluster with %d workers", len(cluster.workers))
    return distributed.Client(cluster), cluster


def score_path_with_dask(
    input: str | os.PathLike[str], output: str | os.PathLike[str] | None = None, *, scheduler: str | None = None,
    text_column: str | None = None, model_path: str | os.PathLike[str] | None = None, include_text: bool = True,
    partitions: int | None = None,
) -> Summary:
    """Score a Parquet/CSV file (or directory/glob) on a Dask cluster into a directory of Parquet files.

    ``scheduler`` is a scheduler address (``tcp://host:8786``); None starts a local cluster with
    one single-threaded worker process per core. Input, output and model paths must be readable
    (writable) by every worker. Row ids are the input's id column, else the row number, as
    ``collectclf score`` gives them. The work is split into ``partitions`` pieces (default: four
    per worker thread, but at least 1,000 and at most 100,000 rows each). Returns the run's
    :class:`~collectclf.batch.Summary`; every input row gets one output row.
    """
    dd = _require_dask()
    import dask

    from ._loading import model_labels

    source = os.fspath(input)
    target = os.fspath(output) if output is not None else _default_output(source)
    model = None if model_path is None else os.fspath(model_path)
    start = time.perf_counter()
    ddf = _read(dd, source)
    TableMapper([str(c) for c in ddf.columns], "dask", text_column)
    model_labels(model)  # a bad or corrupted model path fails here, before a cluster starts
    _prepare_output(target, clear=False)
    client, cluster = _connect(scheduler)
    try:
        _prepare_output(target, clear=True)
        with dask.config.set(scheduler=client):
            lengths = _lengths(ddf)
            if pick_column([str(c) for c in ddf.columns], ID_COLUMNS) is None:
                ddf = _add_ids(ddf, lengths)
            threads = sum(client.nthreads().values()) or 1
            rows = sum(lengths)
            wanted = partitions or max(1, -(-rows // MAX_PARTITION_ROWS), min(4 * threads, -(-rows // MIN_PARTITION_ROWS)))
            if wanted != ddf.npartitions:
                ddf = ddf.repartition(npartitions=wanted)
            log.info("scoring %s in %d partitions on %d worker threads", source, ddf.npartitions, threads)
            scored = score_dask(ddf, text_column, model, include_text=include_text)
            write = scored.to_parquet(target, write_index=False, compute=False)
            tallies = scored.map_partitions(_tally, meta={"key": object, "n": "int64"}, enforce_metadata=False)
            _, counts = dask.compute(write, tallies)  # one pass: both share the scored partitions
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    totals = counts.groupby("key")["n"].sum().to_dict() if len(counts) else {}
    summary = Summary(read=int(totals.get("read", 0)), scored=int(totals.get("scored", 0)), errored=int(totals.get("errored", 0)),
                      duplicates=int(totals.get("duplicates", 0)), output=target,
                      labels=Counter({k.split(":", 1)[1]: int(v) for k, v in totals.items() if k.startswith("label:")}))
    summary.seconds = time.perf_counter() - start
    return summary
