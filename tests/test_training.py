"""Retraining and evaluation: corpora in every accepted form, the CLI end to end, the report
files, baselines, unknown labels, offline hub names and reproducibility."""

from __future__ import annotations

import csv
import importlib.machinery
import json
import socket
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import collectclf
from collectclf.cli import main
from collectclf.evaluation import REPORT_FILES, evaluate_to_report, keyword_baseline
from collectclf.training import SEARCH_GRIDS, CorpusError, data_sha256, evaluate_predictions, load_corpus, train

from .conftest import EXAMPLES

BANKS = ["工商银行", "招商银行", "建设银行", "中国银行", "平安银行"]
COMPLIANT = [f"【{bank}】{tail}" for bank in BANKS for tail in (
    "您的账单将于本月15日到期，请按时还款，客服热线95555。",
    "您的借款已逾期2天，请登录官方App还款，如已还款请忽略。",
    "温馨提示：本期应还1200元，如有困难可申请分期，谢谢配合。",
)]
THREATENING = [f"{head}{tail}" for head in ("再不还钱", "今天不还", "你个老赖", "装死是吧", "还不还钱") for tail in (
    "，就爆你通讯录，让你全家都知道。",
    "，后果自负，出门小心点。",
    "，我们知道你女儿在哪个学校上学。",
)]
UNRELATED = [f"{head}{tail}" for head in ("【顺丰】", "【美团】", "【移动】", "朋友：", "【京东】") for tail in (
    "您的验证码是4821，请勿告诉他人。",
    "您的快递已到驿站，请凭取件码领取。",
    "周末一起去爬山吗？天气不错。",
)]
ROWS = [(t, "compliant") for t in COMPLIANT] + [(t, "threatening") for t in THREATENING] + [(t, "unrelated") for t in UNRELATED]

HELDOUT = [
    ("【浦发银行】您的信用卡账单已出，请于25日前通过官方渠道还款，谢谢。", "compliant"),
    ("【交通银行】您本期贷款已逾期1天，请尽快还款，如已还款请忽略。", "compliant"),
    ("再拖着不还，我们就把你欠钱的事发到你通讯录每个人，后果自负。", "threatening"),
    ("老赖，你儿子的学校我们已经找到了，出门小心。", "threatening"),
    ("【淘宝】您的验证码是6612，请勿泄露给他人。", "unrelated"),
    ("今晚一起吃饭吗？老地方见。", "unrelated"),
    ("加微信私下和解，交2000元撤诉费即可撤案。", "fraudulent"),  # a label the model never saw
    ("校园贷账户未注销，请转账手续费到安全账户。", "fraudulent"),
]


def _write_csv(path: Path, rows: list[tuple[str, str]], *, text: str = "text", label: str = "label") -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([text, label])
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def corpus_csv(tmp_path_factory) -> Path:
    return _write_csv(tmp_path_factory.mktemp("corpus") / "train.csv", ROWS)


@pytest.fixture(scope="module")
def heldout_csv(tmp_path_factory) -> Path:
    return _write_csv(tmp_path_factory.mktemp("heldout") / "heldout.csv", HELDOUT)


FAST = {"calibration_cv": 3, "min_df": 1}


@pytest.fixture(scope="module")
def small_model(corpus_csv):
    import datasets

    dataset = datasets.load_dataset("csv", data_files=str(corpus_csv), split="train")
    return train(dataset, seed=0, **FAST)


# --------------------------------------------------------------------------- corpus inputs
def test_corpus_has_three_labels_and_enough_rows():
    assert len(ROWS) >= 30 and len({label for _, label in ROWS}) == 3
    assert len({text for text, _ in ROWS}) == len(ROWS)


def test_train_from_a_datasets_dataset(small_model, corpus_csv):
    assert list(small_model.classes_) == ["compliant", "threatening", "unrelated"]
    data = small_model.metadata_["training_data"]
    assert data["n"] == len(ROWS)
    assert data["counts"] == {"compliant": 15, "threatening": 15, "unrelated": 15}
    assert data["sha256"] == data_sha256([t for t, _ in ROWS], [label for _, label in ROWS])
    predicted = collectclf.predict([t for t, _ in HELDOUT[:6]], model=small_model)
    assert sum(p == label for p, (_, label) in zip(predicted, HELDOUT[:6])) >= 5


def test_every_input_kind_gives_the_same_model(small_model, corpus_csv, tmp_path):
    import datasets
    import pandas as pd

    frame = pd.read_csv(corpus_csv)
    jsonl = tmp_path / "corpus.jsonl"
    frame.to_json(jsonl, orient="records", lines=True, force_ascii=False)
    parquet = tmp_path / "corpus.parquet"
    frame.to_parquet(parquet)
    tsv = tmp_path / "corpus.tsv"
    frame.to_csv(tsv, sep="\t", index=False)
    saved = tmp_path / "saved"
    datasets.Dataset.from_pandas(frame).save_to_disk(str(saved))
    inputs = [frame, str(corpus_csv), jsonl, parquet, tsv, str(saved),
              datasets.load_dataset("csv", data_files=str(corpus_csv))]  # a DatasetDict
    expected = small_model.predict_proba([t for t, _ in HELDOUT])
    for data in inputs:
        model = train(data, seed=0, **FAST)
        assert model.metadata_["training_data"]["sha256"] == small_model.metadata_["training_data"]["sha256"], data
        np.testing.assert_array_equal(model.predict_proba([t for t, _ in HELDOUT]), expected)


def test_columns_label_map_and_class_labels(tmp_path):
    import datasets

    path = _write_csv(tmp_path / "renamed.csv", ROWS, text="message", label="category")
    texts, labels = load_corpus(path, text_column="message", label_column="category",
                                label_map={"unrelated": "other"})
    assert len(texts) == len(ROWS) and set(labels) == {"compliant", "threatening", "other"}
    assert load_corpus(path)[1] == [label for _, label in ROWS]  # message/category are detected
    with pytest.raises(CorpusError, match="column 'text' not found"):
        load_corpus(path, text_column="text")
    names = ["compliant", "threatening", "unrelated"]
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=names)})
    encoded = datasets.Dataset.from_dict({"text": [t for t, _ in ROWS], "label": [names.index(lb) for _, lb in ROWS]},
                                         features=features)
    assert load_corpus(encoded)[1] == [label for _, label in ROWS]


def test_bad_corpora_fail_with_a_clear_message(tmp_path):
    import pandas as pd

    with pytest.raises(CorpusError, match="no such file"):
        load_corpus(tmp_path / "missing.csv")
    (tmp_path / "corpus.txt").write_text("x", encoding="utf-8")
    with pytest.raises(CorpusError, match="no text column found"):
        load_corpus(tmp_path / "corpus.txt")
    with pytest.raises(CorpusError, match="xml export is not a table"):
        load_corpus(EXAMPLES / "sms-backup.xml")
    with pytest.raises(CorpusError, match="no 'label'"):
        load_corpus(pd.DataFrame({"text": ["a", "b"], "label": ["x", None]}))
    rare = pd.DataFrame({"text": [t for t, _ in ROWS] + ["孤单的一条"], "label": [lb for _, lb in ROWS] + ["lonely"]})
    with pytest.raises(CorpusError, match="'lonely' \\(1\\)"):
        train(rare, **FAST)


def test_corpus_files_read_as_score_reads_them_with_columns_detected(tmp_path):
    """GBK, UTF-16, a NUL byte, Chinese headers, XLSX with a cover sheet: the same pairs as the plain UTF-8 CSV."""
    import openpyxl

    expected = ([t for t, _ in ROWS], [label for _, label in ROWS])
    lines = "".join(f"{t},{label}\n" for t, label in ROWS)
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(("内容,标签\n" + lines).encode("gbk"))
    utf16 = tmp_path / "utf16.tsv"
    utf16.write_text("短信内容\t类别\n" + lines.replace(",", "\t"), encoding="utf-16")
    nul = tmp_path / "nul.csv"
    nul.write_bytes(("text,label\n" + lines).encode().replace("，就爆".encode(), "，\x00就爆".encode(), 1))
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["催收短信标注，共两页"])
    for name, part in (("一", ROWS[:20]), ("二", ROWS[20:])):
        sheet = book.create_sheet(name)
        sheet.append(["Message", "Class"])
        for row in part:
            sheet.append(list(row))
    workbook = tmp_path / "corpus.xlsx"
    book.save(workbook)
    for path in (gbk, utf16, nul, workbook):
        assert load_corpus(path) == expected, path.name
        assert load_corpus(str(path)) == expected, path.name


def test_cli_train_reads_a_gbk_csv_and_quiet_silences_every_progress_bar(tmp_path, capsys, monkeypatch):
    import datasets

    import collectclf.training as training

    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(("内容,类别\n" + "".join(f"{t},{label}\n" for t, label in ROWS)).encode("gbk"))
    seen = []
    real = training.load_corpus

    def spy(*args, **kwargs):
        seen.append(datasets.is_progress_bar_enabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "load_corpus", spy)
    argv = ["train", str(gbk), "-o", str(tmp_path / "m"), "--cv", "0", "--param", "calibration_cv=3", "min_df=1"]
    assert main([*argv, "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and seen == [False] and datasets.is_progress_bar_enabled()
    config = json.loads((tmp_path / "m" / "config.json").read_text(encoding="utf-8"))
    assert config["training_data"]["sha256"] == data_sha256([t for t, _ in ROWS], [label for _, label in ROWS])
    assert main(argv[:3] + [str(tmp_path / "m2")] + argv[4:]) == 0
    assert "collectclf: read 45 messages" in capsys.readouterr().err and seen == [False, True]


def test_hub_name_fails_clearly_offline(monkeypatch, tmp_path):
    import datasets
    import huggingface_hub.constants

    def no_network(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "cache")
    with pytest.raises(CorpusError, match="network connection") as caught:
        train("someone/no-such-collection-corpus")
    assert "local CSV/TSV/JSONL/Parquet" in str(caught.value)
    assert main(["train", "someone/no-such-collection-corpus", "-o", str(tmp_path / "m")]) == 1


# --------------------------------------------------------------------------- reproducibility
def test_same_data_and_seed_give_the_same_model_and_metrics(corpus_csv, heldout_csv, tmp_path):
    first = train(str(corpus_csv), seed=3, cv=3, **FAST)
    second = train(str(corpus_csv), seed=3, cv=3, **FAST)
    texts = [t for t, _ in HELDOUT]
    np.testing.assert_array_equal(first.predict_proba(texts), second.predict_proba(texts))
    assert first.metadata_ == second.metadata_
    assert first.metadata_["metrics"]["cv"]["cv"] == 3
    a, b = first.save(tmp_path / "a"), second.save(tmp_path / "b")
    files = [json.loads((d / "config.json").read_text(encoding="utf-8"))["files"] for d in (a, b)]
    assert files[0] == files[1]  # byte-identical vocabulary and weights
    reports = [evaluate_to_report(m, heldout_csv, tmp_path / f"report-{i}") for i, m in enumerate((first, second))]
    assert reports[0] == reports[1]
    assert (tmp_path / "report-0" / "metrics.json").read_bytes() == (tmp_path / "report-1" / "metrics.json").read_bytes()


# --------------------------------------------------------------------------- evaluation report
def test_evaluate_writes_a_sane_report_and_counts_unknown_labels(small_model, heldout_csv, tmp_path):
    metrics = evaluate_to_report(small_model, heldout_csv, tmp_path / "report")
    for name in REPORT_FILES:
        assert (tmp_path / "report" / name).stat().st_size > 0, name
    for name in ("confusion_matrix.png", "reliability.png", "per_label.png"):
        assert (tmp_path / "report" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stored = json.loads((tmp_path / "report" / "metrics.json").read_text(encoding="utf-8"))
    assert stored == metrics
    assert metrics["n"] == len(HELDOUT)
    assert 0.0 <= metrics["macro_f1"] <= 1.0 and 0.0 <= metrics["accuracy"] <= 1.0 and 0.0 <= metrics["ece"] <= 1.0
    assert metrics["unknown_labels"] == {"fraudulent": 2}
    assert "fraudulent" in metrics["confusion"]["labels"] and "fraudulent" in metrics["per_label"]
    assert sum(map(sum, metrics["confusion"]["matrix"])) == len(HELDOUT)
    assert sum(row["support"] for row in metrics["per_label"].values()) == len(HELDOUT)
    assert metrics["per_label"]["fraudulent"]["recall"] == 0.0
    assert metrics["n_errors"] == round(len(HELDOUT) * (1 - metrics["accuracy"])) >= 2
    assert sum(row["n"] for row in metrics["reliability"]) == len(HELDOUT) - 2
    with open(tmp_path / "report" / "errors.csv", encoding="utf-8-sig", newline="") as handle:
        errors = list(csv.DictReader(handle))
    assert list(errors[0]) == ["row", "text", "true", "predicted", "confidence"]
    assert len(errors) == metrics["n_errors"]
    assert {e["text"] for e in errors if e["true"] == "fraudulent"} == {t for t, lb in HELDOUT if lb == "fraudulent"}
    confidences = [float(e["confidence"]) for e in errors]
    assert confidences == sorted(confidences, reverse=True)
    report = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "Labels the model does not know" in report and "![confusion matrix](confusion_matrix.png)" in report
    baselines = metrics["baselines"]
    assert baselines["majority"]["accuracy"] <= 3 / len(HELDOUT)
    assert baselines["keyword_rules"]["n"] == len(HELDOUT) and 0.0 <= baselines["keyword_rules"]["macro_f1"] <= 1.0
    if "fasttext" not in sys.modules:
        assert "skipped" in baselines["fasttext"]


def test_keyword_baseline_uses_the_most_severe_rule():
    texts = ["再不还钱就爆你通讯录，后果自负。", "今天18点前必须还清，否则起诉。", "晚上一起吃饭吗？", "加微信私下和解，交撤诉费。"]
    assert keyword_baseline(texts, ["compliant", "threatening", "pressuring", "fraudulent", "unrelated"]) == [
        "threatening", "pressuring", "unrelated", "fraudulent"]
    # rules for labels outside the label set are ignored; foreign label sets get no rule baseline
    assert keyword_baseline(texts[:1], ["threatening", "unrelated"]) == ["threatening"]
    assert keyword_baseline(texts[1:2], ["threatening", "unrelated"]) == ["unrelated"]
    assert keyword_baseline(texts, ["spam", "ham"]) is None


def test_foreign_label_set_gets_a_majority_baseline_only(tmp_path):
    import pandas as pd

    renamed = {"compliant": "ok", "threatening": "bad", "unrelated": "other"}
    frame = pd.DataFrame({"text": [t for t, _ in ROWS], "label": [lb for _, lb in ROWS]})
    model = train(frame, label_map=renamed, **FAST)
    held = pd.DataFrame({"text": [t for t, _ in HELDOUT[:6]], "label": [renamed[lb] for _, lb in HELDOUT[:6]]})
    metrics = evaluate_to_report(model, held, tmp_path)
    assert "skipped" in metrics["baselines"]["keyword_rules"]
    assert metrics["baselines"]["majority"]["n"] == 6
    assert metrics["unknown_labels"] == {}


def test_evaluate_picks_the_test_split_of_a_datasetdict(small_model, tmp_path):
    import datasets

    frame = {"text": [t for t, _ in HELDOUT], "label": [lb for _, lb in HELDOUT]}
    both = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": ["x", "y"], "label": ["a", "b"]}),
                                 "test": datasets.Dataset.from_dict(frame)})
    metrics = evaluate_to_report(small_model, both, tmp_path, baselines=False)
    assert metrics["n"] == len(HELDOUT) and metrics["data"]["split"] == "test" and metrics["baselines"] == {}


def test_fasttext_baseline_runs_when_the_package_is_importable(small_model, heldout_csv, tmp_path, monkeypatch):
    """A stand-in ``fasttext`` module checks the glue: training files, label codes, out-of-fold use."""
    seen: list[list[str]] = []

    class FakeModel:
        def __init__(self, lines: list[str]):
            self.codes = sorted({line.split(" ", 1)[0] for line in lines})

        def predict(self, texts: list[str], k: int = 1):
            assert k == -1 and all("\n" not in t for t in texts)
            share = 1.0 / len(self.codes)
            return [tuple(self.codes) for _ in texts], [np.full(len(self.codes), share) for _ in texts]

    def train_supervised(input: str, **options):
        assert options["thread"] == 1 and options["seed"] == 0
        lines = Path(input).read_text(encoding="utf-8").splitlines()
        seen.append(lines)
        return FakeModel(lines)

    fake = types.ModuleType("fasttext")
    fake.__spec__ = importlib.machinery.ModuleSpec("fasttext", None)
    fake.train_supervised = train_supervised
    monkeypatch.setitem(sys.modules, "fasttext", fake)
    frame = {"text": [t for t, _ in ROWS], "label": [lb for _, lb in ROWS]}
    import pandas as pd

    metrics = evaluate_to_report(small_model, pd.DataFrame(frame), tmp_path)
    row = metrics["baselines"]["fasttext"]
    assert "out-of-fold" in row["description"] and row["n"] == len(ROWS)
    assert len(seen) == 5 and all(len(lines) == len(ROWS) * 4 // 5 for lines in seen)
    assert seen[0][0].startswith("__label__") and " " in seen[0][0].split(" ", 1)[1]
    metrics = evaluate_to_report(small_model, heldout_csv, tmp_path / "with-train", baseline_train=pd.DataFrame(frame))
    assert "trained on the given training data" in metrics["baselines"]["fasttext"]["description"]
    assert len(seen[-1]) == len(ROWS)


def test_macro_f1_ignores_labels_absent_from_truth_and_predictions():
    proba = np.array([[0.9, 0.1, 0.0], [0.1, 0.9, 0.0]])
    metrics = evaluate_predictions(["a", "b"], proba, ["a", "b", "c"])
    assert metrics["macro_f1"] == 1.0 and metrics["per_label"]["c"]["support"] == 0


# --------------------------------------------------------------------------- command line
def test_cli_train_then_evaluate(corpus_csv, heldout_csv, tmp_path, capsys):
    model_dir = tmp_path / "model"
    assert main(["train", str(corpus_csv), "-o", str(model_dir), "--cv", "3", "--seed", "1"]) == 0
    captured = capsys.readouterr()
    for line in ("collectclf: read 45 messages", "collectclf: cross-validating (3 folds)", "collectclf: fold 3/3 done",
                 "collectclf: fitting logreg on 45 messages", "collectclf: model saved to"):
        assert line in captured.err, line
    assert "macro-F1" in captured.out and "(3-fold)" in captured.out
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    assert config["seed"] == 1 and config["training_data"]["n"] == 45 and config["metrics"]["cv"]["cv"] == 3
    assert "Cross-validation (3 folds)" in (model_dir / "MODEL_CARD.md").read_text(encoding="utf-8")

    report = tmp_path / "report"
    assert main(["evaluate", str(heldout_csv), "--model", str(model_dir), "--report", str(report)]) == 0
    assert f"on {len(HELDOUT)} messages; report in {report}" in capsys.readouterr().out
    assert sorted(p.name for p in report.iterdir()) == sorted(REPORT_FILES)
    metrics = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["n"] == len(HELDOUT) and metrics["model"]["training_data"]["n"] == 45
    assert metrics["unknown_labels"] == {"fraudulent": 2}


def test_cli_train_with_search(corpus_csv, tmp_path, capsys):
    model_dir = tmp_path / "searched"
    assert main(["train", str(corpus_csv), "-o", str(model_dir), "--search", "--cv", "0", "--family", "svm"]) == 0
    err = capsys.readouterr().err
    grid = SEARCH_GRIDS["svm"]
    size = len(grid["C"]) * len(grid["char_ngram_range"])
    assert f"searching {size} parameter settings with 3-fold CV" in err and f"setting {size}/{size}" in err
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    search = config["search"]
    assert len(search["results"]) == size and search["cv"] == 3
    assert search["best_params"]["C"] in grid["C"] and search["grid"]["C"] == grid["C"]
    assert config["params"]["C"] == search["best_params"]["C"] and config["params"]["model"] == "svm"
    assert config["params"]["char_ngram_range"] == search["best_params"]["char_ngram_range"]
    assert search["best_macro_f1"] == max(row["macro_f1_mean"] for row in search["results"])
    assert "Parameter search" in (model_dir / "MODEL_CARD.md").read_text(encoding="utf-8")


def test_cli_train_takes_the_calibration_with_class_offsets(tmp_path, capsys):
    corpus = _write_csv(tmp_path / "c.csv", ROWS)
    argv = ["train", str(corpus), "-o", str(tmp_path / "m"), "--cv", "0", "--quiet", "--param", "calibration_cv=3", "min_df=1"]
    assert main([*argv, "calibration=temperature+bias"]) == 0
    config = json.loads((tmp_path / "m" / "config.json").read_text(encoding="utf-8"))
    assert config["params"]["calibration"] == "temperature+bias"
    assert len(config["class_bias"]) == 3 and config["class_bias"][0] == 0 and any(config["class_bias"][1:])
    capsys.readouterr()
    assert main([*argv[:3], str(tmp_path / "m2"), *argv[4:], "calibration=isotonic"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown calibration 'isotonic'" in err[0]


def test_cli_train_takes_clause_crop_labels_as_json_and_refuses_unknown_ones(tmp_path, capsys):
    corpus = _write_csv(tmp_path / "c.csv", ROWS)
    argv = ["train", str(corpus), "-o", str(tmp_path / "m"), "--cv", "0", "--quiet", "--param", "calibration_cv=3", "min_df=1"]
    assert main([*argv, 'clause_crop_labels=["threatening"]']) == 0
    config = json.loads((tmp_path / "m" / "config.json").read_text(encoding="utf-8"))
    assert config["params"]["clause_crop_labels"] == ["threatening"]
    assert collectclf.load(tmp_path / "m").clause_crop_labels == ("threatening",)
    capsys.readouterr()
    assert main([*argv[:3], str(tmp_path / "m2"), *argv[4:], 'clause_crop_labels=["fraudulent"]']) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not have: fraudulent" in err[0]


class _LookupModel:
    """A stand-in estimator whose prediction for each text is fixed in advance (for exact CV arithmetic)."""

    def __init__(self, table=None):
        self.table = table

    def get_params(self, deep=True):
        return {"table": self.table}

    def set_params(self, **params):
        self.table = params["table"]
        return self

    def fit(self, texts, labels, **_):
        self.classes_ = np.array(sorted(set(labels) | set(self.table.values())))
        return self

    def predict_proba(self, texts):
        return np.array([[float(c == self.table[t]) for c in self.classes_] for t in texts])


def test_cross_validation_reports_strata_and_the_alternative_label_figure():
    from sklearn.metrics import f1_score

    from collectclf.crossval import cross_validate_model

    labels = ["threatening", "pressuring"] * 6
    texts = [f"t{i}" for i in range(12)]
    predictions = list(labels)
    predictions[0], predictions[3], predictions[5] = "pressuring", "threatening", "threatening"
    alternatives = [None] * 12
    alternatives[0] = "pressuring"  # wrong by its own label, right by its defensible alternative
    alternatives[3] = "compliant"   # wrong either way
    clear = [a is None for a in alternatives]
    metrics = cross_validate_model(_LookupModel(dict(zip(texts, predictions))), texts, labels, cv=3, repeats=2,
                                   strata={"clear": clear}, alternatives=alternatives)
    assert metrics["macro_f1"] == pytest.approx(f1_score(labels, predictions, average="macro"))
    allowed = [p if p == a else y for y, p, a in zip(labels, predictions, alternatives)]
    assert metrics["macro_f1_alternative_allowed"] == pytest.approx(f1_score(allowed, predictions, average="macro"))
    assert metrics["macro_f1_alternative_allowed"] > metrics["macro_f1"]
    keep = np.array(clear)
    assert metrics["strata"]["clear"] == {
        "n": 10, "macro_f1": pytest.approx(f1_score(np.array(labels)[keep], np.array(predictions)[keep], average="macro"))}
    with pytest.raises(ValueError, match="alternatives has 2 entries for 12 texts"):
        cross_validate_model(_LookupModel(dict(zip(texts, predictions))), texts, labels, cv=3, alternatives=[None, None])
