"""``rnnkit train classify`` and the ``classify`` handlers of ``evaluate`` and ``predict``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rich.table import Table

from rnnkit.cli.common import (
    BatchSizeOption,
    ConfigFile,
    DevFile,
    DeviceOption,
    EpochsOption,
    EvaluateArgs,
    InitFrom,
    LrOption,
    NprocOption,
    OutDir,
    PredictArgs,
    ResumeFlag,
    SeedOption,
    SetOption,
    TaskHandlers,
    TestFile,
    ThreadsOption,
    TrainArgs,
    TrainFile,
    console,
    numbered,
    register_task,
    train_app,
)

if TYPE_CHECKING:
    from rnnkit.models.classify.artifact import Prediction


@train_app.command("classify")
def train_classify(
    train: TrainFile,
    dev: DevFile,
    out: OutDir,
    test: TestFile = None,
    config: ConfigFile = None,
    overrides: SetOption = None,
    seed: SeedOption = None,
    resume: ResumeFlag = False,
    init_from: InitFrom = None,
    epochs: EpochsOption = None,
    batch_size: BatchSizeOption = None,
    lr: LrOption = None,
    device: DeviceOption = None,
    threads: ThreadsOption = None,
    nproc: NprocOption = None,
) -> None:
    """Train a text classifier (embeddings → RNN → pooling → MLP) on CSV/JSONL files.

    Writes the run directory: config.json (with the preprocessing pipeline, vocabulary and
    labels), model.safetensors, metrics.json, train_log.jsonl and plots.

    With --init-from, the embeddings (by shared word) and the encoder of a pretrained run
    (a language model, or a classifier trained by distant supervision) start the model, and
    --set finetune.strategy=full|last|new-then-full|chain-thaw|gradual says how it is trained.

    Example: rnnkit train classify --train tweets:train --dev tweets:dev --test tweets:test
    --out runs/tweets --set model.hidden_size=64
    """
    from rnnkit.models.classify import ClassifyRunConfig, train_classifier
    from rnnkit.training.metrics import report_table

    args = TrainArgs.resolve(
        ClassifyRunConfig, train, dev, test, out, config, overrides, seed, resume, init_from,
        epochs=epochs, batch_size=batch_size, lr=lr, device=device, threads=threads,
        nproc=nproc,
    )  # fmt: skip
    cfg = args.cfg
    result = train_classifier(
        args.train, args.dev, args.out, cfg, args.seed, args.resume, test_path=args.test,
        init_from=args.init_from, keep=args.keep,
    )  # fmt: skip
    if len(result.steps) > 1:
        steps = Table("step", "trains", "seconds", title=f"{cfg.finetune.strategy} fine-tuning")
        for step in result.steps:
            steps.add_row(step.name, ", ".join(step.trainable), f"{step.seconds:.0f}")
        console.print(steps)
    console.print(report_table(result.dev, title=f"dev: {args.dev}"))
    if result.test is not None:
        console.print(report_table(result.test, title=f"test: {args.test}"))
    console.print(f"trained in {result.seconds:.0f} s; wrote {args.out}", highlight=False)


def _evaluate(args: EvaluateArgs) -> None:
    from rnnkit.models.classify import evaluate_classifier
    from rnnkit.training.metrics import plot_confusion_matrix, report_table

    report = evaluate_classifier(args.run_dir, args.data)
    png = None
    if args.plots:
        png = (args.out or args.run_dir) / f"confusion_{args.data.stem}.png"
        plot_confusion_matrix(report, png, title=f"{args.run_dir} on {args.data.name}")
    if args.as_json:
        doc = {**report.to_json(), "confusion_png": str(png) if png else None}
        print(json.dumps(doc, ensure_ascii=False))
        return
    console.print(report_table(report, title=f"{args.run_dir} on {args.data}"))
    console.print(f"wrote {png}", highlight=False)


#: The JSON answer to a blank line: no label.
_EMPTY: dict[str, object] = {"label": None, "probabilities": {}}


def _predict(args: PredictArgs) -> None:
    from rnnkit.inference.stream import input_lines, with_progress
    from rnnkit.models.classify import predict_stream
    from rnnkit.models.classify.artifact import TextClassifier
    from rnnkit.models.classify.explain import explain_numbers, explain_text

    clf = TextClassifier.load(args.run_dir)
    lines = args.texts if args.texts is not None else input_lines()

    def run(texts: Iterator[str]) -> Iterator[Prediction]:
        return with_progress(predict_stream(clf, texts, args.batch_size), "texts")

    # each answer carries its input: the text (plain, after a tab) or its number and text (JSON)
    for number, text, prediction in numbered(lines, run):
        if args.as_json:
            found = prediction.to_json(args.explain) if prediction else _EMPTY
            print(json.dumps({"line": number, "text": text, **found}, ensure_ascii=False))
        elif prediction is None:
            print()
        elif args.explain and console.is_terminal:
            console.print(explain_text(prediction))
        elif args.explain:
            print(f"{explain_numbers(prediction)}\t{text}")
        else:
            probs = "  ".join(f"{k} {v:.2f}" for k, v in prediction.probabilities.items())
            print(f"{prediction.label}\t{probs}\t{text}")
        sys.stdout.flush()


register_task(
    "classify",
    TaskHandlers(evaluate=_evaluate, predict=_predict, options=frozenset({"--explain", "--plots"})),
)
