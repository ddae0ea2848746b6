"""``rnnkit train lm``, ``rnnkit generate`` and the ``lm`` handler of ``rnnkit evaluate``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

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
    register_task,
    train_app,
)


@train_app.command("lm")
def train_lm_command(
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
    """Train a language model (embeddings → stacked RNN → softmax) with truncated BPTT.

    Plain UTF-8 text, one sentence or paragraph per line; words unseen in training read as
    <unk>. With --set model.condition=label the files are classification CSV/JSONL and a
    label-conditioned generator is trained. Shipped configs: ptb-small, ptb-medium,
    shakespeare-char.

    Example: rnnkit train lm --train ptb:train --dev ptb:dev --test ptb:test --out runs/ptb
    --config ptb-small
    """
    from rnnkit.models.lm import LMRunConfig, train_lm

    args = TrainArgs.resolve(
        LMRunConfig, train, dev, test, out, config, overrides, seed, resume,
        epochs=epochs, batch_size=batch_size, lr=lr, device=device, threads=threads,
        nproc=nproc,
    )  # fmt: skip
    cfg = args.cfg
    result = train_lm(
        args.train, args.dev, args.out, cfg, args.seed, args.resume, test_path=args.test
    )
    for name, ev in (("dev", result.dev), ("test", result.test)):
        if ev is not None:
            console.print(f"{name}: {_figures(ev.to_json())}", highlight=False)
    console.print(f"trained in {result.seconds:.0f} s; wrote {args.out}", highlight=False)


def _figures(scores: dict[str, float]) -> str:
    parts = [f"perplexity {scores['perplexity']:.2f}"]
    if "bpc" in scores:
        parts.append(f"bits per character {scores['bpc']:.4f}")
    if "label_accuracy" in scores:
        parts.append(f"texts most likely under their own label {scores['label_accuracy']:.1%}")
    return ", ".join(parts) + f" over {int(scores['tokens']):,} tokens"


@app.command("generate")
def generate_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory of rnnkit train lm.")],
    prompt: Annotated[str, typer.Option(help="Text to continue (default: none).")] = "",
    length: Annotated[int, typer.Option(min=0, help="Tokens (words or characters).")] = 50,
    temperature: Annotated[float, typer.Option(min=0.0, help="0 means greedy.")] = 1.0,
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, help="Sample among k.")] = None,
    top_p: Annotated[
        float | None, typer.Option("--top-p", help="Nucleus sampling: keep mass p.")
    ] = None,
    greedy: Annotated[bool, typer.Option(help="Always take the most probable token.")] = False,
    seed: Annotated[int | None, typer.Option(help="Seed for repeatable sampling.")] = None,
    condition: Annotated[
        str | None, typer.Option(help="The label, for a label-conditioned generator.")
    ] = None,
    stop_at_eos: Annotated[
        bool, typer.Option("--stop-at-eos", help="Stop at the first line break.")
    ] = False,
) -> None:
    """Generate text from a language model, streamed as it is drawn.

    Example: rnnkit generate runs/ptb --prompt "the company said" --length 30 --top-p 0.9
    --seed 1
    """
    from rnnkit.models.lm.artifact import TextLM
    from rnnkit.models.lm.generate import GenerationConfig, generate

    lm = TextLM.load(run_dir)
    cfg = GenerationConfig(length, temperature, top_k, top_p, greedy, seed, stop_at_eos)
    sys.stdout.write(prompt)
    for piece in generate(lm, prompt, cfg, condition):
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")


def _evaluate(args: EvaluateArgs) -> None:
    from rnnkit.models.lm import evaluate_conditional
    from rnnkit.models.lm.artifact import TextLM
    from rnnkit.models.lm.evaluate import evaluate_lm

    lm = TextLM.load(args.run_dir)
    score = evaluate_conditional if lm.labels is not None else evaluate_lm
    scores = score(lm, args.data).to_json()
    if args.as_json:
        print(json.dumps(scores))
        return
    console.print(f"{args.run_dir} on {args.data}: {_figures(scores)}", highlight=False)


register_task("lm", TaskHandlers(evaluate=_evaluate))
