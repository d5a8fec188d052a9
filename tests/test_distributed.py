"""Scale-out on Dask: same rows as score_frame, one model load per worker, one pass, the CLI path."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

import collectclf
from collectclf.batch import ScoreOptions, score_file
from collectclf.cli import main

from .conftest import EXAMPLES, ROOT, child_env

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
import dask  # noqa: E402  (after the importorskip guards)

from collectclf import distributed as cd  # noqa: E402


def heldout_pairs(n: int) -> list[str]:
    """``n`` distinct texts: held-out text i followed by held-out text i+1+round (deterministic)."""
    with open(ROOT / "data" / "heldout.jsonl", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle]
    size = len(texts)
    return [texts[k % size] + texts[(k % size + 1 + k // size) % size] for k in range(n)]


@pytest.fixture(scope="module")
def client():
    # dashboard_address=None still puts the scheduler's HTTP server on port 8787 (a warning, so an error
    # here, when that port is taken); scheduler_kwargs moves it to a free loopback port.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                                  scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def test_import_collectclf_does_not_import_dask():
    code = "import sys, collectclf, collectclf.distributed; collectclf.load(); assert 'dask' not in sys.modules, 'dask imported'"
    subprocess.run([sys.executable, "-P", "-c", code], check=True, cwd=ROOT, env=child_env())


def test_missing_dask_names_the_extra(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)
    with pytest.raises(ImportError, match=r"pip install collectclf\[dask\]"):
        cd.score_dask(pd.DataFrame({"text": ["x"]}))
    assert main(["score", str(EXAMPLES / "messages.parquet"), "--dask", "-o", str(tmp_path / "out")]) == 1
    assert "pip install collectclf[dask]" in capsys.readouterr().err


def test_score_dask_matches_score_frame_on_10000_messages(client):
    texts = heldout_pairs(10_000)
    assert len(set(texts)) == 10_000
    texts[17], texts[4242] = None, "   "  # rows that error must error the same way
    frame = pd.DataFrame({"text": texts, "sender": [f"1069{k % 7}" for k in range(10_000)]})
    ddf = dd.from_pandas(frame, npartitions=8)
    with dask.config.set(scheduler=client):
        before = sum(client.run(cd._partition_count).values())
        scored = cd.score_dask(cd.with_row_ids(ddf)).persist()  # runs on the workers while score_frame runs here
        expected = collectclf.score_frame(frame, text_column="text")
        assert list(scored.columns) == list(expected.columns)
        got = scored.compute().reset_index(drop=True)
        scored_partitions = sum(client.run(cd._partition_count).values()) - before

    pd.testing.assert_frame_equal(got, expected)  # ids, labels, probabilities (exactly), evidence, errors, dtypes
    assert set(got["label"]) == {*collectclf.LABELS, ""} and list(got.loc[[17, 4242], "error"]) == ["no text", "empty text"]
    assert scored_partitions == 8  # each partition scored once
    loads = client.run(cd._load_counts)
    assert len(loads) == 2 and all(counts == {None: 1} for counts in loads.values())  # shipped model: once per worker


def test_model_path_loads_once_per_worker_and_ids_are_unique(client):
    from collectclf._loading import default_model_dir

    path = str(default_model_dir())
    frame = pd.DataFrame({"body": heldout_pairs(400)})
    ddf = dd.from_pandas(frame, npartitions=4)
    with dask.config.set(scheduler=client):
        first = cd.score_dask(ddf, text_column=None, model=path).compute()
        second = cd.score_dask(ddf, text_column="body", model=path, include_text=False).compute()
    assert first["id"].is_unique and set(first["id"].str.split("-").str[0]) == {"0", "1", "2", "3"}
    assert list(first["id"]) == list(second["id"])  # stable
    assert "text" not in second.columns and list(first["label"]) == list(second["label"])
    assert all(counts.get(path, 0) <= 1 for counts in client.run(cd._load_counts).values())
    assert sum(counts.get(path, 0) for counts in client.run(cd._load_counts).values()) >= 1
    with pytest.raises(TypeError, match="model directory path"):
        cd.score_dask(ddf, "body", model=collectclf.load())
    with pytest.raises(collectclf.exports.UnreadableInput, match="not found"):
        cd.score_dask(ddf, "text")


def test_existing_ids_and_nullable_strings_are_kept(client):
    frame = pd.DataFrame({"message_id": ["a", "b", "c", "d"], "text": pd.array(["晚上吃饭吗", None, "验证码1234", "老赖还钱"], dtype="string")})
    with dask.config.set(scheduler=client):
        got = cd.score_dask(dd.from_pandas(frame, npartitions=2)).compute()
    assert list(got["id"]) == ["a", "b", "c", "d"]
    assert got.loc[got["id"] == "b", "error"].item() == "no text"  # pd.NA is missing, not the text '<NA>'


def test_csv_on_an_existing_scheduler_matches_score_file(client, tmp_path):
    source = EXAMPLES / "messages_gbk.csv"
    reference = tmp_path / "ref.csv"
    score_file(source, reference, options=ScoreOptions(jobs=1, progress=False))
    summary = cd.score_path_with_dask(source, tmp_path / "scored", scheduler=client.scheduler.address, partitions=3)
    assert sorted(p.name for p in (tmp_path / "scored").iterdir()) == [f"part.{i}.parquet" for i in range(3)]
    got = pd.read_parquet(tmp_path / "scored").sort_values("id", key=lambda s: s.astype(int)).reset_index(drop=True)
    expected = pd.read_csv(reference, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(got["id"]) == list(expected["id"]) and list(got["label"]) == list(expected["label"])
    assert list(got["sender"]) == list(expected["sender"]) and list(got["timestamp"]) == list(expected["timestamp"])
    assert (summary.read, summary.scored, summary.errored) == (len(expected), len(expected), 0)
    assert sum(summary.labels.values()) == summary.scored and summary.output == str(tmp_path / "scored")


def test_cli_dask_on_a_local_cluster(tmp_path, capsys):
    source = EXAMPLES / "messages.parquet"
    out = tmp_path / "scored"
    assert main(["score", str(source), "--dask", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    got = pd.read_parquet(out)
    expected = collectclf.score_frame(pd.read_parquet(source))
    n = len(expected)
    assert f"{n} read, {n} scored, 0 errored" in err and f"written to {out}" in err
    got = got.sort_values("id", key=lambda s: s.astype(int)).reset_index(drop=True)
    assert list(got.columns) == list(expected.columns)
    assert list(got["id"]) == list(expected["id"]) and list(got["label"]) == list(expected["label"])
    pd.testing.assert_frame_equal(got.filter(like="p_"), expected.filter(like="p_"))
    assert [p.name for p in out.iterdir()] == ["part.0.parquet"]  # 14 rows: one partition, not one per worker


def test_output_checks_fail_before_any_work(tmp_path):
    source = EXAMPLES / "messages.parquet"
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="holds other files"):
        cd.score_path_with_dask(source, tmp_path / "busy", scheduler="tcp://127.0.0.1:1")
    assert (tmp_path / "busy" / "notes.txt").exists()
    with pytest.raises(ValueError, match="directory of Parquet"):
        cd.score_path_with_dask(source, tmp_path / "out.csv", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(collectclf.exports.UnreadableInput, match="Parquet"):
        cd.score_path_with_dask(EXAMPLES / "sms-backup.xml", tmp_path / "x", scheduler="tcp://127.0.0.1:1")


def test_an_empty_input_gives_an_empty_output(client, tmp_path):
    pd.DataFrame({"text": pd.Series([], dtype=str)}).to_parquet(tmp_path / "empty.parquet", index=False)
    summary = cd.score_path_with_dask(tmp_path / "empty.parquet", None, scheduler=client.scheduler.address)
    assert (summary.read, summary.scored) == (0, 0) and summary.output == str(tmp_path / "empty.scored.parquet")
    got = pd.read_parquet(summary.output)
    assert len(got) == 0 and "p_compliant" in got.columns
