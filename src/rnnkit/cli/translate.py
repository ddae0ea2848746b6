"""``rnnkit train translate``, ``rnnkit translate`` and the translate task's ``evaluate`` /
``predict`` handlers."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rnnkit.cli.common import (
    BatchSizeOption,
    ConfigFile,
    DevFile,
    DeviceOption,
    EpochsOption,
    EvaluateArgs,
    JsonFlag,
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
    app,
    console,
    numbered,
    register_task,
    train_app,
)

if TYPE_CHECKING:
    from rnnkit.models.translate.artifact import Translation

TASK = "translate"
BeamOption = Annotated[
    int | None, typer.Option("--beam", min=1, help="Beam size (1: greedy; default: the run's).")
]


@train_app.command("translate")
def train_translate(
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
    as_json: JsonFlag = False,
) -> None:
    """Train an encoder-decoder with attention on source<TAB>target pairs; print BLEU and chrF.

    Example: rnnkit train translate --train bible-en-es:train --dev bible-en-es:dev --out runs/bible
    """
    from rnnkit.models.translate import TranslateRunConfig, train_translator

    args = TrainArgs.resolve(
        TranslateRunConfig, train, dev, test, out, config, overrides, seed, resume,
        epochs=epochs, batch_size=batch_size, lr=lr, device=device, threads=threads,
        nproc=nproc,
    )  # fmt: skip
    cfg = args.cfg
    result = train_translator(
        args.train, args.dev, args.out, cfg, args.seed, args.resume, test_path=args.test
    )
    scores = {"dev": result.dev.to_json(), "train_seconds": result.seconds}
    if result.test is not None:
        scores["test"] = result.test.to_json()
    if as_json:
        print(json.dumps(scores))
        return
    for split, s in (("dev", result.dev), ("test", result.test)):
        if s is not None:
            console.print(f"{split}: BLEU {s.bleu:.2f}  chrF {s.chrf:.2f}  ({s.sentences} pairs)")
    console.print(f"trained in {result.seconds:.0f} s; wrote {args.out}", highlight=False)


def _read_texts(texts: list[str] | None) -> list[str]:
    if texts:
        return texts
    if sys.stdin.isatty():
        console.print("reading sentences from stdin, one per line (Ctrl-D to end)…", style="dim")
    return [line.rstrip("\n") for line in sys.stdin if line.strip()]


@app.command("translate")
def translate(
    run_dir: Annotated[Path, typer.Argument(help="A run directory of rnnkit train translate.")],
    texts: Annotated[
        list[str] | None, typer.Argument(help="Sentences (default: stdin, one per line).")
    ] = None,
    beam: BeamOption = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Draw the first sentence's attention (PNG).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per input.")] = False,
) -> None:
    """Translate sentences with a trained translator; optionally plot the attention.

    Example: rnnkit translate runs/bible "In the beginning was the Word." --beam 5 --plot att.png
    """
    from rnnkit.models.translate import plot_attention
    from rnnkit.models.translate.artifact import Translator

    sentences = _read_texts(texts)
    translations = Translator.load(run_dir).translate(sentences, beam)
    for t in translations:
        print(json.dumps(t.to_json(), ensure_ascii=False) if as_json else t.text)
    if plot is not None and translations:
        console.print(f"wrote {plot_attention(translations[0], plot)}", highlight=False)


def _evaluate(args: EvaluateArgs) -> None:
    from rnnkit.models.translate import evaluate_translator

    scores = evaluate_translator(args.run_dir, args.data, args.options.get("beam"))
    if args.as_json:
        print(json.dumps(scores.to_json()))
        return
    console.print(
        f"BLEU {scores.bleu:.2f}  chrF {scores.chrf:.2f}  ({scores.sentences} pairs, "
        f"{scores.decoding} decoding)",
        highlight=False,
    )


def _predict(args: PredictArgs) -> None:
    from rnnkit.data.batching import stream_in_chunks
    from rnnkit.inference.stream import input_lines, with_progress
    from rnnkit.models.translate.artifact import Translator

    translator = Translator.load(args.run_dir)
    lines = args.texts if args.texts is not None else input_lines()

    def run(texts: Iterator[str]) -> Iterator[Translation]:
        translate = partial(translator.translate, batch_size=args.batch_size)
        return with_progress(stream_in_chunks(texts, translate), "sentences")

    # plain: line N of the output is the translation of input line N (a blank line's is empty);
    # JSON also carries the input's number and text
    for number, text, t in numbered(lines, run):
        if args.as_json:
            found = t.to_json() if t is not None else {"translation": "", "score": None}
            print(json.dumps({"line": number, "text": text, **found}, ensure_ascii=False))
        else:
            print(t.text if t is not None else "")
        sys.stdout.flush()


register_task(
    TASK, TaskHandlers(evaluate=_evaluate, predict=_predict, options=frozenset({"--beam"}))
)
