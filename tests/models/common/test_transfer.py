"""--init-from: weights matched by word, position and name; chain-thaw trains one group a step."""

import dataclasses

import torch
from safetensors.torch import load_file

from rnnkit.models.classify import train_classifier
from rnnkit.models.classify.model import ClassifierConfig, build_classifier
from rnnkit.models.common.transfer import transfer_weights
from rnnkit.nn import RNN
from rnnkit.text.vocab import Vocab
from rnnkit.training.finetune import FinetuneConfig, layer_groups
from tests.models.classify.test_artifact import make_texts
from tests.models.classify.test_train import small_config, write_csv


def test_shared_words_get_the_pretrained_rows():
    torch.manual_seed(0)
    cfg = ClassifierConfig(embedding_dim=4, hidden_size=3)
    src_vocab = Vocab.from_tokens(["good", "bad", "film"], specials=["<pad>", "<unk>"])
    dst_vocab = Vocab.from_tokens(["film", "great", "good"], specials=["<pad>", "<unk>"])
    source = build_classifier(cfg, len(src_vocab), 2)
    target = build_classifier(cfg, len(dst_vocab), 5)
    before = target.embedder.embedding.weight.detach().clone()
    report = transfer_weights(source, src_vocab, target, dst_vocab, "src")
    table, src_table = target.embedder.embedding.weight, source.embedder.embedding.weight
    for word in ("film", "good", "<unk>", "<pad>"):
        assert torch.equal(table[dst_vocab.id(word)], src_table[src_vocab.id(word)])
    assert torch.equal(table[dst_vocab.id("great")], before[dst_vocab.id("great")])
    assert report.shared_words == 4
    assert torch.equal(target.encoder.weight_hh_l0, source.encoder.weight_hh_l0)  # type: ignore[arg-type]
    assert all(name.startswith("head.") for name in report.new)  # 5 classes: a new head
    rows = dict((g, s) for g, s, _ in report.rows(layer_groups(target)))
    assert rows == {
        "embedder": "loaded",
        "encoder.l0": "loaded",
        "pooling": "loaded",
        "head": "new",
    }


def test_an_lm_style_rnn_initialises_the_encoder_by_position():
    torch.manual_seed(0)

    class LM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(5, 4)
            self.rnn = RNN("lstm", 4, 3, num_layers=2)
            self.decoder = torch.nn.Linear(3, 5)

    vocab = Vocab.from_tokens(["a", "b", "c"], specials=["<pad>", "<unk>"])
    lm = LM()
    cfg = ClassifierConfig(embedding_dim=4, hidden_size=3, num_layers=2, bidirectional=False)
    clf = build_classifier(cfg, len(vocab), 2)
    report = transfer_weights(lm, vocab, clf, vocab, "lm")
    assert torch.equal(clf.encoder.weight_ih_l1, lm.rnn.weight_ih_l1)  # type: ignore[arg-type]
    assert torch.equal(clf.embedder.embedding.weight, lm.embedding.weight)
    assert report.loaded["encoder.weight_ih_l1"] == "lm: rnn.weight_ih_l1"


def test_character_encoders_start_fresh_and_take_no_rnn_slot():
    """A char BiLSTM on either side is neither a source nor a target: the text encoder still
    meets the text encoder, and the character layers stay as they were."""
    torch.manual_seed(0)
    vocab = Vocab.from_tokens(["good", "bad"], specials=["<pad>", "<unk>"])
    plain = ClassifierConfig(embedding_dim=4, hidden_size=3)
    chars = dataclasses.replace(plain, char_encoder="lstm", char_dim=3, char_size=4)
    for src_cfg, dst_cfg in ((plain, plain), (chars, chars), (plain, chars)):
        source = build_classifier(
            src_cfg, len(vocab), 2, num_chars=9 if src_cfg.char_encoder != "none" else 0
        )
        target = build_classifier(
            dst_cfg, len(vocab), 2, num_chars=7 if dst_cfg.char_encoder != "none" else 0
        )
        before = {
            n: p.detach().clone() for n, p in target.named_parameters() if n.startswith("chars.")
        }
        report = transfer_weights(source, vocab, target, vocab, "src")
        assert torch.equal(target.encoder.weight_hh_l0, source.encoder.weight_hh_l0)  # type: ignore[arg-type]
        assert report.loaded["encoder.weight_hh_l0"] == "src: encoder.weight_hh_l0"
        words = target.encoder.weight_ih_l0[:, :4]  # type: ignore[index]
        assert torch.equal(words, source.encoder.weight_ih_l0[:, :4])  # type: ignore[index]
        for name, value in before.items():
            assert name in report.new and torch.equal(dict(target.named_parameters())[name], value)


def test_chain_thaw_changes_only_the_step_group(tmp_path):
    train = write_csv(tmp_path / "train.csv", *make_texts(80, seed=1))
    dev = write_csv(tmp_path / "dev.csv", *make_texts(20, seed=2))
    base = small_config()
    train_classifier(train, dev, tmp_path / "pre", base, seed=0)
    other = write_csv(tmp_path / "other.csv", *make_texts(80, seed=3))
    cfg = dataclasses.replace(
        base,
        train=dataclasses.replace(base.train, max_epochs=1),
        finetune=FinetuneConfig(strategy="chain-thaw", step_epochs=1),
    )
    result = train_classifier(other, dev, tmp_path / "ft", cfg, seed=1, init_from=tmp_path / "pre")
    names = [s.name for s in result.steps]
    assert names == ["new", "embedder", "encoder.l0", "pooling", "full"]
    groups = layer_groups(result.classifier.model)
    pre = load_file(tmp_path / "pre" / "model.safetensors")
    previous = None
    for step in result.steps:
        now = load_file(step.run_dir / "model.safetensors")
        for group, params in groups.items():
            changed = [not torch.equal(now[p], (previous or pre)[p]) for p in params]
            if previous is None and group in ("embedder", "head"):
                continue  # new words' rows and the new head have no pretrained value
            if group in step.trainable:
                assert any(changed), (step.name, group)
            else:
                assert not any(changed), (step.name, group)
        previous = now


def test_inherit_sizes_takes_the_runs_sizes_but_keeps_the_given_ones(tmp_path):
    import json

    from rnnkit.models.common.transfer import inherit_sizes

    run = tmp_path / "lm"
    run.mkdir()
    model = {"embedding_dim": 32, "mode": "gru", "hidden_size": 24, "num_layers": 2}
    doc = {"format": "rnnkit-run", "format_version": 1, "task": "lm", "model": model}
    (run / "config.json").write_text(json.dumps(doc), encoding="utf-8")
    start = ClassifierConfig(embeddings="glove-6b-50d", hidden_size=64)
    got = inherit_sizes(start, run)
    assert (got.embedding_dim, got.mode, got.hidden_size, got.num_layers) == (32, "gru", 24, 2)
    assert got.embeddings is None and got.bidirectional is False  # what a language model implies
    kept = inherit_sizes(start, run, keep={"hidden_size", "bidirectional"})
    assert (kept.hidden_size, kept.bidirectional, kept.embedding_dim) == (64, True, 32)


def test_an_exported_run_cannot_start_a_new_model(tmp_path):
    import pytest

    from rnnkit.errors import ConfigError
    from rnnkit.models.common.artifact import write_run_config
    from rnnkit.models.common.transfer import init_from_run

    write_run_config(tmp_path, "classify", {"export": {"format": "int8", "source": "runs/x"}})
    model = build_classifier(ClassifierConfig(hidden_size=4, embedding_dim=4), 10, 2)
    with pytest.raises(ConfigError, match=r"exported \(int8\) run cannot start a new model"):
        init_from_run(model, Vocab.build([["a"]]), tmp_path)
