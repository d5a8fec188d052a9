"""The ``collectclf`` command line: ``info``, ``explain``, ``score``, ``train``, ``evaluate``, ``report``.

Every sub-command returns an exit code; errors print one line (``collectclf: error: …``) and exit
non-zero; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from . import __version__

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def _print(text: str = "") -> None:
    sys.stdout.write(text + "\n")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (``collectclf score: error: …``), exit 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(value: str) -> int:
    """An argparse type: a whole number of 1 or more."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {number}")
    return number


def _probability(value: str) -> float:
    """An argparse type: a number in (0, 1]."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {value!r}") from None
    if not 0 < number <= 1:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1, got {value}")
    return number


# --------------------------------------------------------------------------- info / explain
def _cmd_info(args: argparse.Namespace) -> int:
    from . import load

    model = load(args.model, trusted=args.trusted)
    config = getattr(model, "config_", {})
    if args.json:
        _print(json.dumps({"version": __version__, **config}, ensure_ascii=False, indent=2))
        return EXIT_OK
    _print(f"collectclf {__version__}")
    _print(f"model: {args.model or 'shipped default'} ({config.get('params', {}).get('model', model.model)})")
    _print(f"labels: {', '.join(map(str, model.classes_))}")
    for name, version in (config.get("versions") or {}).items():
        _print(f"  {name} {version}")
    data = config.get("training_data") or {}
    if data:
        _print(f"training data: {data.get('n')} messages, sha256 {str(data.get('sha256'))[:16]}…")
    held = (config.get("metrics") or {}).get("heldout")
    if held:
        _print(f"held-out: macro-F1 {held['macro_f1']:.3f}, accuracy {held['accuracy']:.3f}, ECE {held['ece']:.3f} (n={held['n']})")
    return EXIT_OK


_COLOURS = {"fraudulent": "\033[41;97m", "threatening": "\033[31;1m", "pressuring": "\033[33;1m",
            "compliant": "\033[32m", "unrelated": "\033[36m"}
_RESET = "\033[0m"


def highlight(text: str, evidence: Sequence[Any], *, colour: bool) -> str:
    """The text with evidence spans marked: ANSI colours on a terminal, [brackets] otherwise."""
    marks = sorted({(e.start, e.end, e.label) for e in evidence if e.end > e.start})
    out, position = [], 0
    for start, end, label in marks:
        if start < position:
            continue
        out.append(text[position:start])
        piece = text[start:end]
        out.append(f"{_COLOURS.get(label, _COLOURS['pressuring'])}{piece}{_RESET}" if colour else f"[{piece}]")
        position = end
    out.append(text[position:])
    return "".join(out)


def _cmd_explain(args: argparse.Namespace) -> int:
    from . import load
    from .results import to_json

    if args.text:
        texts = args.text
    elif sys.stdin is None or sys.stdin.isatty():  # nothing piped in: say how to use it rather than wait
        args.parser.print_usage(sys.stderr)
        sys.stderr.write(f"{args.parser.prog}: error: give the message text as an argument or on stdin\n")
        return EXIT_USAGE
    else:
        texts = [line.rstrip("\r\n") for line in sys.stdin if line.strip()]  # one message per non-blank line
    if not texts or any(not text.strip() for text in texts):
        from .batch import EMPTY_TEXT  # the error ``score`` gives a blank message

        sys.stderr.write(f"collectclf: error: {EMPTY_TEXT}: nothing to classify\n")
        return EXIT_USAGE
    model = load(args.model, trusted=args.trusted)
    results = model.classify(texts, abstain_below=args.abstain_below)
    if args.json:
        _print(to_json(results if len(results) > 1 else results[0]))
        return EXIT_OK
    colour = sys.stdout.isatty()
    for text, result in zip(texts, results):
        _print(highlight(text, result.evidence, colour=colour))
        _print(f"label: {result.label}")
        _print("scores: " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(result.scores.items(), key=lambda kv: -kv[1])))
        for item in result.evidence:
            what = f"rule {item.rule_id} ({item.description}; {item.cites})" if item.kind == "rule" else "n-gram"
            _print(f"  [{item.start}:{item.end}] {item.text!r} → {item.label} {item.weight:+.3f} {what}")
        _print()
    return EXIT_OK


# --------------------------------------------------------------------------- score
def _cmd_score(args: argparse.Namespace) -> int:
    from .batch import ScoreOptions, score_file

    options = ScoreOptions(
        jobs=args.jobs or 0, include_text=not args.no_text, incoming_only=args.incoming_only, resume=args.resume,
        restart=args.restart,
        redact=args.redact, progress=False if args.quiet else None, abstain_below=args.abstain_below,
        evidence=not args.no_evidence, **({"chunk_size": args.chunk_size} if args.chunk_size is not None else {}),
        **({"tz": args.tz} if args.tz is not None else {}),
    )
    if args.scheduler or args.dask:
        from .distributed import score_path_with_dask

        unsupported = [flag for flag, given in (
            ("--jobs", args.jobs), ("--resume", args.resume), ("--restart", args.restart), ("--redact", args.redact), ("--incoming-only", args.incoming_only),
            ("--abstain-below", args.abstain_below is not None), ("--no-evidence", args.no_evidence), ("--format", args.format),
            ("--trusted", args.trusted), ("--chunk-size", args.chunk_size is not None), ("--tz", args.tz is not None),
            ("--sheet", args.sheet is not None),
        ) if given]
        if unsupported:
            raise ValueError(f"{', '.join(unsupported)} cannot be combined with --dask/--scheduler "
                             "(Dask scoring takes --text-column, --no-text and --model)")

        summary = score_path_with_dask(args.input, args.output, scheduler=args.scheduler, text_column=args.text_column,
                                       model_path=args.model, include_text=not args.no_text)
    else:
        fmt = args.format
        if args.sheet is not None:  # the journal records the sheet with the format, so --resume checks it
            if fmt not in (None, "xlsx"):
                raise ValueError(f"--sheet applies to XLSX workbooks, not to --format {fmt}")
            fmt = f"xlsx:{args.sheet}"
        summary = score_file(args.input, args.output, model=args.model, trusted=args.trusted, fmt=fmt,
                             text_column=args.text_column, options=options)
    line = summary.line()
    if args.incoming_only:
        line += "; --incoming-only: messages of unknown direction were scored as incoming"
    sys.stderr.write(line + "\n")
    return EXIT_OK


# --------------------------------------------------------------------------- train / evaluate / report
def _literal(value: str) -> Any:
    """A --param value: JSON when it parses (numbers, lists), else the string itself."""
    try:
        return json.loads(value)
    except ValueError:
        return value


@contextlib.contextmanager
def _progress_bars(*, enabled: bool) -> Iterator[None]:
    """HuggingFace datasets' and hub progress bars off for the block when not ``enabled`` (``train --quiet``)."""
    if enabled:
        yield
        return
    import datasets
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    datasets_on, hub_on = datasets.is_progress_bar_enabled(), not are_progress_bars_disabled()
    datasets.disable_progress_bars()
    disable_progress_bars()
    try:
        yield
    finally:
        if datasets_on:
            datasets.enable_progress_bars()
        if hub_on:
            enable_progress_bars()


def _cmd_train(args: argparse.Namespace) -> int:
    from .training import model_card, train

    def say(message: str) -> None:
        if not args.quiet:
            sys.stderr.write(f"collectclf: {message}\n")

    label_map = dict(pair.split("=", 1) for pair in args.label_map) if args.label_map else None
    params = {key: _literal(value) for key, value in (pair.split("=", 1) for pair in args.param or [])}
    with _progress_bars(enabled=not args.quiet):
        model = train(args.data, text_column=args.text_column, label_column=args.label_column, label_map=label_map,
                      model=args.family, seed=args.seed, cv=args.cv, search=args.search, progress=say, **params)
    cv = model.metadata_.get("metrics", {}).get("cv")
    if cv:
        _print(f"{'label':<14}{'precision':>10}{'recall':>10}{'f1':>8}{'support':>9}")
        for label, row in cv["per_label"].items():
            _print(f"{label:<14}{row['precision']:>10.3f}{row['recall']:>10.3f}{row['f1']:>8.3f}{row['support']:>9}")
        _print(f"macro-F1 {cv['macro_f1_mean']:.3f} ± {cv['macro_f1_std']:.3f} ({cv['cv']}-fold), ECE {cv['ece']:.3f}")
    path = model.save(args.output, card=model_card(model, title=f"collectclf model trained on {args.data}"))
    say(f"model saved to {path}")
    return EXIT_OK


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from . import load
    from .evaluation import evaluate_to_report

    model = load(args.model, trusted=args.trusted)
    metrics = evaluate_to_report(model, args.data, args.report, text_column=args.text_column,
                                 label_column=args.label_column)
    _print(f"macro-F1 {metrics['macro_f1']:.3f}, accuracy {metrics['accuracy']:.3f}, ECE {metrics['ece']:.3f} "
           f"on {metrics['n']} messages; report in {args.report}")
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import build_report

    path = build_report(args.input, args.output, as_json=args.json, model=args.model, fmt=args.format,
                        text_column=args.text_column, redact=args.redact)
    sys.stderr.write(f"collectclf: report written to {path}\n")
    return EXIT_OK


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    from .exports import FORMATS

    parser = _Parser(prog="collectclf", description="Label Chinese debt-collection messages.")
    parser.add_argument("--version", action="version", version=f"collectclf {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def model_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--model", help="model directory (default: the shipped model)")
        p.add_argument("--trusted", action="store_true", help="allow unpickling a .joblib model file (runs its code)")

    p = sub.add_parser("info", help="show the model, its labels, versions and metrics")
    model_options(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("explain", help="label one or more messages and show the evidence")
    p.add_argument("text", nargs="*", help="message text (read from stdin, one message per line, when absent)")
    model_options(p)
    p.add_argument("--json", action="store_true", help="print the result structure as JSON")
    p.add_argument("--abstain-below", type=_probability, metavar="P", help="label 'uncertain' below this confidence (0 < P ≤ 1)")
    p.set_defaults(func=_cmd_explain, parser=p)

    p = sub.add_parser("score", help="label every message of an SMS export or table")
    p.add_argument("input")
    p.add_argument("-o", "--output", help="CSV, XLSX, JSONL or Parquet by extension (default: beside the input)")
    p.add_argument("--format", choices=FORMATS, help="input format: %(choices)s (default: detected from content)")
    p.add_argument("--text-column", help="column holding the message text (tables)")
    p.add_argument("--sheet", metavar="NAME", help="read only this sheet of an XLSX workbook (default: every sheet with a text column)")
    p.add_argument("--jobs", type=_positive_int, metavar="N", help="worker processes, 1 or more (default: all cores)")
    p.add_argument("--chunk-size", type=_positive_int, metavar="N", help="messages per work unit")
    p.add_argument("--no-text", action="store_true", help="leave the message text out of the output")
    p.add_argument("--incoming-only", action="store_true",
                   help="score only incoming messages; an unknown direction counts as incoming (others keep a row)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run into the same output")
    p.add_argument("--restart", action="store_true", help="discard an interrupted run's rows and start over")
    p.add_argument("--redact", action="store_true", help="mask phone, ID, card numbers and names in the output")
    p.add_argument("--abstain-below", type=_probability, metavar="P", help="label 'uncertain' below this confidence (0 < P ≤ 1)")
    p.add_argument("--no-evidence", action="store_true", help="leave the evidence column empty (faster)")
    p.add_argument("--tz", metavar="ZONE", help="time zone of the local_time column (default: Asia/Shanghai)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--scheduler", help="Dask scheduler address: score Parquet/CSV on a cluster")
    p.add_argument("--dask", action="store_true", help="score with Dask on a local cluster")
    model_options(p)
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("train", help="train a model on a labelled corpus")
    p.add_argument("data", help="CSV/TSV/XLSX/JSONL/Parquet file (any encoding score reads), a saved dataset or a hub dataset name")
    p.add_argument("-o", "--output", required=True, help="model directory to write")
    p.add_argument("--text-column", help="default: detected as score detects it (text, content, 内容, …)")
    p.add_argument("--label-column", help="default: detected (label, labels, class, category, 标签, 类别)")
    p.add_argument("--label-map", nargs="*", metavar="OLD=NEW", help="rename labels")
    p.add_argument("--family", default="logreg",
                   help="logreg, svm, nbsvm (SVM on naive-Bayes-scaled features), sgd or cnb")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cv", type=int, default=5, help="cross-validation folds (0 to skip)")
    p.add_argument("--search", action="store_true", help="run the small documented hyper-parameter search")
    p.add_argument("--param", nargs="*", metavar="KEY=VALUE", help="Classifier parameters, e.g. C=0.5 min_df=1")
    p.add_argument("--quiet", action="store_true", help="no progress lines or bars (HuggingFace datasets' included)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="evaluate a model on a labelled file and write a report")
    p.add_argument("data")
    p.add_argument("--report", required=True, help="directory for metrics.json, report.md, plots, errors.csv")
    p.add_argument("--text-column", help="default: detected as score detects it")
    p.add_argument("--label-column", help="default: detected (label, labels, class, category, 标签, 类别)")
    model_options(p)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("report", help="per-sender HTML report of an SMS export")
    p.add_argument("input")
    p.add_argument("-o", "--output", default="report.html")
    p.add_argument("--json", action="store_true", help="write the report data as JSON")
    p.add_argument("--redact", action="store_true",
                   help="mask numbers and names in texts and evidence; senders become stable pseudonyms")
    p.add_argument("--format", choices=FORMATS, help="input format: %(choices)s (default: detected from content)")
    p.add_argument("--text-column")
    p.add_argument("--model")
    p.set_defaults(func=_cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.func(args)
    except KeyboardInterrupt as error:
        sys.stderr.write(f"collectclf: {str(error) or 'interrupted'}\n")
        return 130
    except Exception as error:  # one clear line unless --debug
        if args.debug:
            raise
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        notes = [note for note in getattr(error, "__notes__", ()) if note]
        sys.stderr.write(f"collectclf: error: {'; '.join([message, *notes])}\n")
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
