"""``rnnkit train classify`` and the ``classify`` handlers of ``evaluate`` and ``predict``."""

from __future__ import annotations

import json
import sys

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
    register_task,
    train_app,
)


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
    )  # fmt: skip
    cfg = args.cfg
    result = train_classifier(
        args.train, args.dev, args.out, cfg, args.seed, args.resume, test_path=args.test,
        init_from=args.init_from,
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
    png = (args.out or args.run_dir) / f"confusion_{args.data.stem}.png"
    plot_confusion_matrix(report, png, title=f"{args.run_dir} on {args.data.name}")
    if args.as_json:
        print(json.dumps({**report.to_json(), "confusion_png": str(png)}, ensure_ascii=False))
        return
    console.print(report_table(report, title=f"{args.run_dir} on {args.data}"))
    console.print(f"wrote {png}", highlight=False)


def _predict(args: PredictArgs) -> None:
    from rnnkit.models.classify import predict_stream
    from rnnkit.models.classify.artifact import TextClassifier
    from rnnkit.models.classify.explain import explain_text

    clf = TextClassifier.load(args.run_dir)
    lines = args.texts if args.texts is not None else (line.rstrip("\n") for line in sys.stdin)
    for prediction in predict_stream(clf, lines, args.batch_size):
        if args.as_json:
            print(json.dumps(prediction.to_json(args.explain), ensure_ascii=False), flush=True)
        elif args.explain:
            console.print(explain_text(prediction))
        else:
            probs = "  ".join(f"{k} {v:.2f}" for k, v in prediction.probabilities.items())
            console.print(f"{prediction.label}\t{probs}", highlight=False)


register_task("classify", TaskHandlers(evaluate=_evaluate, predict=_predict))
