"""``rnnkit train tag`` and the ``tag`` handlers of ``evaluate`` and ``predict``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rnnkit.cli.common import (
    BatchSizeOption,
    ConfigFile,
    DevFile,
    DeviceOption,
    EpochsOption,
    EvaluateArgs,
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
    from rnnkit.data.records import TaggedSentence


@train_app.command("tag")
def train_tag(
    train: TrainFile,
    dev: DevFile,
    out: OutDir,
    test: TestFile = None,
    config: ConfigFile = None,
    overrides: SetOption = None,
    seed: SeedOption = None,
    resume: ResumeFlag = False,
    epochs: EpochsOption = None,
    batch_size: BatchSizeOption = None,
    lr: LrOption = None,
    device: DeviceOption = None,
    threads: ThreadsOption = None,
    nproc: NprocOption = None,
) -> None:
    """Train a sequence tagger (BiLSTM-CRF with character features) on CoNLL or CoNLL-U files.

    CoNLL: token<TAB>tag lines (other columns: --set data.tag_column=N), a blank line between
    sentences. CoNLL-U (.conllu): UPOS tags (--set data.tag_field=xpos for XPOS); multi-word
    token lines and empty nodes are skipped and counted. Chunk tags (B-X/I-X, IOB1/IOB2/BIOES)
    get constrained CRF decoding and span F1.

    Example: rnnkit train tag --train brown-upos:train --dev brown-upos:dev --test brown-upos:test
    --out runs/pos
    """
    from rnnkit.models.tag import TagRunConfig, train_tagger
    from rnnkit.training.tag_metrics import tagging_tables

    args = TrainArgs.resolve(
        TagRunConfig, train, dev, test, out, config, overrides, seed, resume,
        epochs=epochs, batch_size=batch_size, lr=lr, device=device, threads=threads,
        nproc=nproc,
    )  # fmt: skip
    cfg = args.cfg
    result = train_tagger(
        args.train, args.dev, args.out, cfg, args.seed, args.resume, test_path=args.test
    )
    for table in tagging_tables(result.dev, title=f"dev: {args.dev}"):
        console.print(table)
    if result.test is not None:
        for table in tagging_tables(result.test, title=f"test: {args.test}"):
            console.print(table)
    console.print(
        f"trained in {result.seconds:.0f} s ({result.tokens_per_second:.0f} tokens/s); "
        f"wrote {args.out}",
        highlight=False,
    )


def _evaluate(args: EvaluateArgs) -> None:
    from rnnkit.models.tag import evaluate_tagger
    from rnnkit.training.tag_metrics import tagging_tables

    plot_dir = (args.out or args.run_dir) if args.plots else None
    name = args.data.stem
    report = evaluate_tagger(args.run_dir, args.data, plot_dir=plot_dir, name=name)
    png = plot_dir / f"confusion_{name}.png" if plot_dir is not None else None
    drawn = png if png is not None and png.exists() else None  # none without confused tags
    if args.as_json:
        doc = {**report.to_json(), "confusion_png": str(drawn) if drawn else None}
        print(json.dumps(doc, ensure_ascii=False))
        return
    for table in tagging_tables(report, title=f"{args.run_dir} on {args.data}"):
        console.print(table)
    if drawn is not None:
        console.print(f"wrote {drawn}", highlight=False)


def _predict(args: PredictArgs) -> None:
    from rnnkit.inference.stream import input_lines, with_progress
    from rnnkit.models.tag import conll_token_lists, predict_stream
    from rnnkit.models.tag.artifact import TextTagger

    tagger = TextTagger.load(args.run_dir)
    lines = args.texts if args.texts is not None else input_lines()

    def run(inputs: Iterator[str] | Iterator[list[str]]) -> Iterator[TaggedSentence]:
        return with_progress(predict_stream(tagger, inputs, args.batch_size), "sentences")

    # JSON carries the input's number: its line, or with --conll its sentence; the answer to a
    # blank line is an empty sentence
    key = "sentence" if args.conll else "line"
    if args.conll:
        answers: Iterator[tuple[int, TaggedSentence | None]] = enumerate(
            run(conll_token_lists(lines)), 1
        )
    else:
        answers = ((number, sentence) for number, _, sentence in numbered(lines, run))
    for number, sentence in answers:
        tokens, tags = (sentence.tokens, sentence.tags) if sentence is not None else ((), ())
        if args.as_json:
            doc = {key: number, "tokens": list(tokens), "tags": list(tags)}
            print(json.dumps(doc, ensure_ascii=False), flush=True)
        else:
            print("".join(f"{w}\t{t}\n" for w, t in zip(tokens, tags, strict=True)), flush=True)


register_task(
    "tag",
    TaskHandlers(evaluate=_evaluate, predict=_predict, options=frozenset({"--conll", "--plots"})),
)
