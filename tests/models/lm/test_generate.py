"""Generation: repeatable sampling, greedy decoding, the filters against brute force,
streaming, conditions."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.models.lm.artifact import TextLM
from rnnkit.models.lm.generate import (
    GenerationConfig,
    filter_distribution,
    generate,
    generate_batch,
    generate_text,
)
from rnnkit.models.lm.model import LanguageModel, LMConfig
from rnnkit.text.vocab import Vocab

WORDS = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran"]


def tiny_lm(seed: int = 0, level: str = "word", labels: list[str] | None = None) -> TextLM:
    torch.manual_seed(seed)
    condition = "label" if labels else None
    cfg = LMConfig(level=level, embedding_dim=6, hidden_size=7, condition=condition)  # type: ignore[arg-type]
    tokens = list("abc d") if level == "char" else WORDS
    vocab = Vocab.build([tokens], specials=("<unk>", "<eos>"))
    model = LanguageModel(cfg, len(vocab), len(labels or []))
    with torch.no_grad():  # a peaked model, so that greedy and sampling differ visibly
        for p in model.parameters():
            p.mul_(8)
    return TextLM(model.eval(), cfg, vocab, labels=labels)


def test_same_seed_same_text_and_other_seeds_differ() -> None:
    lm = tiny_lm()
    cfg = GenerationConfig(length=30, seed=7)
    first = generate_text(lm, "the cat", cfg)
    assert first == generate_text(lm, "the cat", cfg)
    others = {generate_text(lm, "the cat", GenerationConfig(length=30, seed=s)) for s in range(5)}
    assert len(others) > 1


def manual_greedy(lm: TextLM, prompt_ids: list[int], n: int) -> list[int]:
    ids = [lm.eos_id, *prompt_ids]
    out = []
    with torch.no_grad():
        for _ in range(n):  # re-reads the whole context every step: no carried state
            hidden = lm.model(torch.tensor([ids])).hidden[0, -1]
            nxt = int(lm.model.log_probs(hidden).argmax())
            out.append(nxt)
            ids.append(nxt)
    return out


def test_temperature_zero_is_greedy_decoding() -> None:
    lm = tiny_lm(1)
    zero = generate_text(lm, "a dog", GenerationConfig(length=12, temperature=0.0, seed=3))
    greedy = generate_text(lm, "a dog", GenerationConfig(length=12, greedy=True, seed=9))
    assert zero == greedy
    ids = manual_greedy(lm, lm.vocab.encode(["a", "dog"]), 12)
    expected = "".join("\n" if i == lm.eos_id else f" {lm.vocab.token(i)}" for i in ids)
    assert zero.replace("\n ", "\n") == expected.replace("\n ", "\n")


def test_generation_streams_pieces_and_stops_at_eos() -> None:
    lm = tiny_lm(2, level="char")
    pieces = generate(lm, "ab", GenerationConfig(length=25, seed=0))
    first = next(pieces)
    assert isinstance(first, str) and len(first) == 1
    assert len(list(pieces)) == 24
    stopped = generate_text(lm, "", GenerationConfig(length=500, seed=1, stop_at_eos=True))
    assert stopped.count("\n") <= 1 and (stopped.endswith("\n") or len(stopped) == 500)


def brute_force(log_probs: torch.Tensor, t: float, k: int | None, p: float | None) -> torch.Tensor:
    probs = torch.softmax(log_probs.double() / t, -1)
    order = sorted(range(len(probs)), key=lambda i: -float(probs[i]))
    kept = order[:k] if k is not None else order
    if p is not None:
        chosen, mass = [], 0.0
        for i in kept:
            if mass >= p:
                break
            chosen.append(i)
            mass += float(probs[i])
        kept = chosen
    out = torch.zeros_like(probs)
    out[kept] = probs[kept]
    return out / out.sum()


@pytest.mark.parametrize(
    ("t", "k", "p"), [(1.0, None, None), (0.5, 3, None), (2.0, None, 0.6), (1.0, 4, 0.5)]
)
def test_filters_match_brute_force(t: float, k: int | None, p: float | None) -> None:
    torch.manual_seed(4)
    log_probs = torch.log_softmax(torch.randn(10) * 2, -1)
    got = filter_distribution(log_probs, t, k, p)
    torch.testing.assert_close(got, brute_force(log_probs, t, k, p))


def test_conditions_and_bad_options() -> None:
    lm = tiny_lm(5, labels=["neg", "pos"])
    a = generate_text(lm, "", GenerationConfig(length=15, seed=2), condition="neg")
    b = generate_text(lm, "", GenerationConfig(length=15, seed=2), condition="pos")
    assert a != b
    with pytest.raises(ConfigError, match="needs a condition"):
        generate_text(lm, "", GenerationConfig(length=3))
    with pytest.raises(ConfigError, match="unknown label"):
        generate_text(lm, "", GenerationConfig(length=3), condition="meh")
    with pytest.raises(ConfigError, match="not conditioned"):
        generate_text(tiny_lm(), "", GenerationConfig(length=3), condition="pos")
    for bad in ({"temperature": -1.0}, {"top_k": 0}, {"top_p": 0.0}, {"length": -1}):
        with pytest.raises(ConfigError):
            GenerationConfig(**bad)


PROMPTS = ["the cat", "", "a dog ran on the mat", "the", "cat sat\nthe", "dog", "the mat", "ran"]


@pytest.mark.parametrize(
    "cfg",
    [
        GenerationConfig(length=12, greedy=True),
        GenerationConfig(length=12, seed=3, top_k=4),
        GenerationConfig(length=30, seed=5, stop_at_eos=True),
    ],
)
def test_generate_batch_equals_each_prompt_alone(cfg: GenerationConfig) -> None:
    lm = tiny_lm()
    prompts = PROMPTS * 2
    alone = [generate_text(lm, p, cfg) for p in prompts]
    assert generate_batch(lm, prompts, cfg, batch_size=3) == alone
    assert generate_batch(lm, [], cfg) == []


def test_generate_batch_conditions_every_prompt() -> None:
    lm = tiny_lm(labels=["neg", "pos"])
    cfg = GenerationConfig(length=8, greedy=True)
    batch = generate_batch(lm, PROMPTS, cfg, condition="pos", batch_size=2)
    assert batch == [generate_text(lm, p, cfg, condition="pos") for p in PROMPTS]
    with pytest.raises(ConfigError, match="needs a condition"):
        generate_batch(lm, PROMPTS, cfg)
    with pytest.raises(ConfigError, match="not conditioned"):
        generate_batch(tiny_lm(), PROMPTS, cfg, condition="pos")
