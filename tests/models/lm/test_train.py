"""Language-model training: carried state, awkward corpora, character level, the
label-conditioned generator, exact resumption (exact evaluation: ``test_lm_eval.py``)."""

from __future__ import annotations

import dataclasses
import itertools
import math
from pathlib import Path

import pytest
import torch

from rnnkit.config import build_config
from rnnkit.errors import ConfigError
from rnnkit.models.common import artifact as base
from rnnkit.models.lm import (
    LMDataConfig,
    LMRunConfig,
    evaluate_conditional,
    train_lm,
)
from rnnkit.models.lm.artifact import TextLM
from rnnkit.models.lm.evaluate import evaluate_lm
from rnnkit.models.lm.model import LanguageModel, LMConfig
from rnnkit.models.lm.train import CarriedStateLoss
from rnnkit.text.vocab import Vocab
from rnnkit.training.bptt import BpttChunk
from rnnkit.training.optim import OptimConfig
from rnnkit.training.recipe import TrainConfig
from tests.resume import Killed, kill_after_steps

LINES = ["the cat sat on the mat", "", "a dog sat", "the dog saw the cat on a mat"]


def tiny_lm(seed: int = 0, **kw: object) -> TextLM:
    torch.manual_seed(seed)
    cfg = LMConfig(embedding_dim=6, hidden_size=7, num_layers=2, **kw)  # type: ignore[arg-type]
    vocab = Vocab.build([line.split() for line in LINES], specials=("<unk>", "<eos>"))
    return TextLM(LanguageModel(cfg, len(vocab)).eval(), cfg, vocab)


def test_carried_state_loss_resets_at_the_start_of_the_stream() -> None:
    lm = tiny_lm(3)
    loss_fn = CarriedStateLoss(bptt=4, scale_by_length=True)
    ids = lm.encode_stream(LINES).view(1, -1)
    w0 = BpttChunk(ids[:, 0:4], ids[:, 1:5], 0)
    w1 = BpttChunk(ids[:, 4:6], ids[:, 5:7], 4)
    loss_fn(lm.model, w0)
    carried = loss_fn(lm.model, w1)
    full = lm.model(ids[:, :6], ids[:, 1:7])
    last_two = lm.model.target_log_probs(full.hidden[0, 4:6], ids[0, 5:7])
    assert float(carried.detach()) == pytest.approx(-float(last_two.detach().mean()) / 2, rel=1e-5)
    assert loss_fn.state is not None and not loss_fn.state[0].requires_grad
    loss_fn(lm.model, w0)  # a new pass starts from zeros again
    torch.testing.assert_close(loss_fn.state[0], lm.model(ids[:, 0:4]).state[0])


def tiny_config(**model: object) -> LMRunConfig:
    return LMRunConfig(
        model=LMConfig(embedding_dim=8, hidden_size=8, num_layers=1, **model),  # type: ignore[arg-type]
        data=LMDataConfig(batch_size=2, bptt=5, eval_batch_size=3, variable_bptt=True),
        train=TrainConfig(max_epochs=2, progress=False, plots=False, shuffle=False),
    )


def test_awkward_corpus_trains_saves_and_evaluates(tmp_path: Path) -> None:
    long_line = " ".join(f"w{i % 13}" for i in range(600))
    train = tmp_path / "train.txt"
    train.write_text(f"\n\nthe cat sat\n{long_line}\n\n  \nthe dog\n", encoding="utf-8")
    dev = tmp_path / "dev.txt"
    dev.write_text("the zebra sat\n\nunseen words here w3\n", encoding="utf-8")
    result = train_lm(train, dev, tmp_path / "run", tiny_config(), test_path=dev)
    assert result.dev.tokens == 3 + 1 + 4 + 1
    assert result.test is not None and math.isfinite(result.test.perplexity)
    loaded = base.load(tmp_path / "run")
    assert isinstance(loaded, TextLM) and loaded.vocab == result.lm.vocab
    again = evaluate_lm(tmp_path / "run", dev)
    assert again.perplexity == pytest.approx(result.dev.perplexity, rel=1e-6)
    assert loaded.vocab.id("zebra") == loaded.vocab.unk_id
    with pytest.raises(ConfigError, match="already holds"):
        train_lm(train, dev, tmp_path / "run", tiny_config())


def test_character_level_counts_every_character_and_line_break(tmp_path: Path) -> None:
    f = tmp_path / "t.txt"
    f.write_text("abcab ba\n\ncab\n", encoding="utf-8")
    result = train_lm(f, f, tmp_path / "run", tiny_config(level="char"))
    assert result.dev.tokens == 8 + 1 + 3 + 1
    assert "bpc" in result.dev.to_json()
    assert result.lm.detokenize(result.lm.encode_stream(["ab c", "b"]).tolist()) == "ab c\nb\n"


def test_label_conditioned_generator(tmp_path: Path) -> None:
    rows = ["text,label"] + [
        f"{'good fine nice' if i % 2 else 'bad awful poor'} day {i % 3},{'pos' if i % 2 else 'neg'}"
        for i in range(20)
    ]
    csv = tmp_path / "t.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = train_lm(csv, csv, tmp_path / "run", tiny_config(condition="label"))
    assert result.lm.labels == ["neg", "pos"]
    assert result.dev.tokens == 20 * 6
    again = evaluate_conditional(tmp_path / "run", csv)
    assert again.perplexity == pytest.approx(result.dev.perplexity, rel=1e-6)
    assert again.label_accuracy == pytest.approx(brute_label_accuracy(result.lm, rows[1:]))
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhello,neutral\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="neutral"):
        evaluate_conditional(tmp_path / "run", bad)


def brute_label_accuracy(lm: TextLM, rows: list[str]) -> float:
    """Each text alone, token by token, under each label: how often its own label wins."""
    model, right = lm.model, 0
    assert lm.labels is not None
    for row in rows:
        text, label = row.rsplit(",", 1)
        ids = [lm.eos_id, *lm.vocab.encode(lm.tokenize(text)), lm.eos_id]
        scores = []
        with torch.no_grad():
            for y in range(len(lm.labels)):
                state = model.initial_state(torch.tensor([y]))
                total = 0.0
                for prev, nxt in itertools.pairwise(ids):
                    step = model(torch.tensor([[prev]]), state=state)
                    state = step.state
                    total += float(model.log_probs(step.hidden)[0, 0, nxt])
                scores.append(total)
        right += scores.index(max(scores)) == lm.labels.index(label)
    return right / len(rows)


def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text("the cat sat on the mat\na dog sat on a log\n" * 6, encoding="utf-8")
    cfg = tiny_config(dropout=0.3, output_dropout=0.3)
    cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, variable_bptt=False))
    cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, checkpoint_every=5))
    whole = train_lm(text, text, tmp_path / "a", cfg).lm.model.state_dict()
    with pytest.MonkeyPatch.context() as patch:
        kill_after_steps(patch, 5)  # mid-epoch, a checkpoint with the carried state on disk
        with pytest.raises(Killed):
            train_lm(text, text, tmp_path / "b", cfg)
    resumed = train_lm(text, text, tmp_path / "b", cfg, resume=True).lm.model.state_dict()
    for name, value in whole.items():
        torch.testing.assert_close(resumed[name], value, msg=name)


@pytest.mark.parametrize("name", ["ptb-small", "ptb-medium", "shakespeare-char"])
def test_shipped_configs_build(name: str) -> None:
    cfg = build_config(LMRunConfig, name, ["train.max_epochs=2"])
    assert cfg.train.max_epochs == 2 and not cfg.train.shuffle
    assert cfg.train.schedule.metric in ("perplexity", "bpc")
    assert (cfg.model.level == "char") == (name == "shakespeare-char")


def test_word_vectors_start_the_table_and_a_run_starts_another(tmp_path: Path) -> None:
    """``model.embeddings`` fills the rows of the words the vectors hold; ``init_from`` (ULMFiT
    stage 2) then carries the words both vocabularies share and the recurrent layers, never the
    softmax, whose rows are the other vocabulary's words."""
    pytest.importorskip("gensim")
    train = tmp_path / "train.txt"
    train.write_text("the cat sat\nthe dog sat\n" * 20, encoding="utf-8")
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("cat 1 2 3 4 5 6 7 8\ndog 8 7 6 5 4 3 2 1\n", encoding="utf-8")
    config = dataclasses.replace(
        tiny_config(embeddings=str(vectors)),
        train=TrainConfig(max_steps=1, optim=OptimConfig(lr=1e-9), progress=False, plots=False),
    )
    first = train_lm(train, train, tmp_path / "first", config).lm
    table = first.model.embedding.weight.detach()
    torch.testing.assert_close(table[first.vocab.id("dog")], torch.arange(8.0, 0.0, -1.0))
    other = tmp_path / "other.txt"
    other.write_text("a cat and a bird\n" * 20, encoding="utf-8")
    second = train_lm(other, other, tmp_path / "second", config, init_from=tmp_path / "first").lm
    rows = second.model.embedding.weight.detach()
    torch.testing.assert_close(rows[second.vocab.id("cat")], table[first.vocab.id("cat")])
    torch.testing.assert_close(second.model.rnn.weight_hh_l0, first.model.rnn.weight_hh_l0)
    assert second.model.decoder is not None and first.model.decoder is not None
    assert not torch.equal(second.model.decoder.bias[:3], first.model.decoder.bias[:3])
    wide = dataclasses.replace(config, model=dataclasses.replace(config.model, embedding_dim=4))
    with pytest.raises(ConfigError, match=r"model\.embedding_dim=8"):
        train_lm(train, train, tmp_path / "wide", wide)
