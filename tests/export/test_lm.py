"""The language model exported to ONNX and int8: the step's log-probabilities from a carried
state, greedy generation, and perplexity, as the torch model's (LSTM and a conditional GRU)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rnnkit.models.lm.artifact import TextLM
from rnnkit.models.lm.evaluate import evaluate_lm
from rnnkit.models.lm.generate import GenerationConfig, generate_text
from rnnkit.models.lm.model import LanguageModel, LMConfig
from rnnkit.text.vocab import Vocab
from tests.export.common import exported

WORDS = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "to", "big", "red", "house"]
TEXT = ["the cat sat on the mat", "a dog ran to the big red house", "the red cat ran"]


def make_lm(mode: str, labels: list[str] | None = None, **config: object) -> TextLM:
    torch.manual_seed(0)
    cfg = LMConfig(
        embedding_dim=8,
        mode=mode,
        hidden_size=10,
        num_layers=2,
        condition="label" if labels else None,
        **config,  # type: ignore[arg-type]
    )
    vocab = Vocab.build([WORDS], specials=("<unk>", "<eos>"))
    model = LanguageModel(cfg, len(vocab), len(labels or []))
    return TextLM(model, cfg, vocab, None, labels).eval()


CASES = [
    ("lstm", None, {}),
    ("gru", ["pos", "neg"], {"tie_weights": True}),
    ("lstm", None, {"softmax": "adaptive", "cutoffs": (6,)}),
]


@pytest.mark.parametrize(("mode", "labels", "extra"), CASES, ids=["lstm", "gru-cond", "adaptive"])
def test_onnx_steps_score_and_generate_as_torch(
    mode: str, labels: list[str] | None, extra: dict[str, object], tmp_path: Path
) -> None:
    lm = make_lm(mode, labels, **extra)
    onnx = exported(lm, tmp_path, "onnx")
    condition = torch.tensor([0, 1, 1]) if labels else None
    for batch, length in ((3, 1), (3, 7)):
        ids = torch.randint(0, len(lm.vocab), (batch, length))
        with torch.no_grad():
            a = lm.model(ids, condition=condition)
            a2 = lm.model(ids[:, :1], state=a.state)
        b = onnx.model(ids, condition=condition)
        b2 = onnx.model(ids[:, :1], state=b.state)
        for x, y in ((a, b), (a2, b2)):  # from zeros (or the label's state), then carried
            torch.testing.assert_close(
                onnx.model.log_probs(y.hidden), lm.model.log_probs(x.hidden), atol=1e-4, rtol=0
            )
    greedy = GenerationConfig(length=12, greedy=True)
    cond = labels[1] if labels else None
    assert generate_text(onnx, "the cat", greedy, cond) == generate_text(
        lm, "the cat", greedy, cond
    )
    if not labels:
        assert evaluate_lm(onnx, TEXT).perplexity == pytest.approx(
            evaluate_lm(lm, TEXT).perplexity, rel=1e-4
        )


def test_int8_perplexity_is_close(tmp_path: Path) -> None:
    lm = make_lm("lstm")
    int8 = exported(lm, tmp_path, "int8")
    assert evaluate_lm(int8, TEXT).perplexity == pytest.approx(
        evaluate_lm(lm, TEXT).perplexity, rel=0.02
    )
    text = generate_text(int8, "the", GenerationConfig(length=5, greedy=True))
    assert len(text.split()) == 5
