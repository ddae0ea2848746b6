"""Adversarial training of the word embeddings (Miyato et al. 2017, eq. 2-5)."""

import dataclasses
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnkit.data.chars import char_vocab
from rnnkit.errors import ConfigError
from rnnkit.models import load
from rnnkit.models.classify import train_classifier
from rnnkit.models.classify.adversarial import (
    adversarial_loss,
    adversarial_loss_fn,
    adversarial_perturbation,
    perturbed,
)
from rnnkit.models.classify.artifact import TextClassifier
from rnnkit.models.classify.model import (
    Classifier,
    ClassifierConfig,
    ClassifierOutput,
    build_classifier,
)
from rnnkit.text.pipeline import Pipeline
from rnnkit.text.vocab import Vocab
from tests.models.classify.test_artifact import make_texts
from tests.models.classify.test_train import small_config, write_csv

TEXTS = ["good great movie", "bad", "the awful awful plot", "love it"]


def tiny(char_encoder="none", **options):
    """A float64 classifier (E = 4, H = 3) and a padded batch of ``TEXTS`` with labels."""
    torch.manual_seed(0)
    pipeline = Pipeline(["lower", "split"])
    vocab = Vocab.build(pipeline.batch(TEXTS))
    config = ClassifierConfig(
        embedding_dim=4, hidden_size=3, char_encoder=char_encoder, char_size=4, **options
    )
    chars = char_vocab(pipeline.batch(TEXTS)) if char_encoder != "none" else None
    model = build_classifier(
        config, len(vocab), 3, num_chars=len(chars) if chars is not None else 0
    )
    clf = TextClassifier(model, config, vocab, ["a", "b", "c"], pipeline, 50, "head", chars)
    (batch,) = clf.batches(TEXTS, ["a", "b", "c", "a"], batch_size=8)
    model = model.double()
    model.class_weights = model.class_weights.float()  # the model's loss is a float32 one
    return model, batch


def run(model: Classifier, batch, perturb) -> ClassifierOutput:
    """The model's output on ``batch`` with its word embeddings perturbed by ``perturb``."""
    with perturbed(model, perturb):
        out: ClassifierOutput = model(batch)
    return out


def loss(model: Classifier, batch, perturb=None) -> torch.Tensor:
    """The model's own (class-weighted) loss, perturbed by ``perturb`` if given."""
    value = model(batch).loss if perturb is None else run(model, batch, perturb).loss
    assert value is not None
    return value


def logit_loss(model: Classifier, batch, perturb) -> torch.Tensor:
    """The model's (unweighted) cross-entropy, in float64 all through."""
    return F.cross_entropy(run(model, batch, perturb).logits, batch.labels)


def test_the_perturbation_has_norm_epsilon_along_the_gradient():
    """``r_adv = ε g / ‖g‖`` per text (eq. 5), ``g`` checked by central differences in float64."""
    model, batch = tiny()
    clean, r = adversarial_perturbation(model, batch, 0.7)
    assert r.shape == (*batch.ids.shape, 4) and not r.requires_grad
    torch.testing.assert_close(clean, model(batch).loss)
    norms = r.flatten(1).norm(dim=1)
    torch.testing.assert_close(norms, torch.full_like(norms, 0.7))
    grad = torch.zeros(r.numel(), dtype=r.dtype)
    h = 1e-6
    for k in range(r.numel()):
        step = torch.zeros(r.numel(), dtype=r.dtype)
        step[k] = h
        step = step.view(r.shape)
        with torch.no_grad():
            up, down = logit_loss(model, batch, step), logit_loss(model, batch, -step)
        grad[k] = (up - down) / (2 * h)
    grad = grad.view(r.shape)
    expected = 0.7 * grad / grad.flatten(1).norm(dim=1)[:, None, None]
    torch.testing.assert_close(r, expected, rtol=1e-5, atol=1e-7)
    padding = batch.ids == 0
    assert padding.any() and bool((r[padding] == 0).all())


def test_the_adversarial_loss_is_the_clean_plus_the_perturbed_loss_and_not_smaller():
    """To first order ``L(s + r_adv) - L(s) = ε Σ_i ‖g_i‖ >= 0``, and no other perturbation of
    the same norms raises the loss more."""
    model, batch = tiny()
    eps = 1e-4
    with torch.no_grad():
        plain = loss(model, batch)
    total = adversarial_loss(model, batch, eps)
    clean, r = adversarial_perturbation(model, batch, eps)
    with torch.no_grad():
        attacked = loss(model, batch, r)
    torch.testing.assert_close(total, clean + attacked)
    assert float(attacked) > float(plain)
    generator = torch.Generator().manual_seed(0)
    for _ in range(5):
        other = (
            torch.randn(r.shape, generator=generator, dtype=r.dtype) * (batch.ids != 0)[..., None]
        )
        other = eps * other / other.flatten(1).norm(dim=1)[:, None, None]
        with torch.no_grad():
            assert float(loss(model, batch, other)) < float(attacked)
    with torch.no_grad():  # evaluation: the model's own loss
        torch.testing.assert_close(adversarial_loss(model, batch, eps), plain)


def test_only_the_word_embeddings_of_a_character_model_are_perturbed():
    model, batch = tiny(char_encoder="cnn", embedding_dropout=0.3)
    model.eval()
    with torch.no_grad():
        zero = torch.zeros(*batch.ids.shape, 4, dtype=torch.float64)
        torch.testing.assert_close(run(model, batch, zero).logits, model(batch).logits)
        r = torch.ones_like(zero)
        with perturbed(model, r):
            shifted = model.embed(batch)  # (B, T, E + K)
        plain = model.embed(batch)
        np.testing.assert_array_equal(shifted[..., :4].numpy(), (plain[..., :4] + r).numpy())
        np.testing.assert_array_equal(shifted[..., 4:].numpy(), plain[..., 4:].numpy())
        assert model.embedder._forward_hooks == {}  # the hook is gone
    model.train()  # both passes draw the same dropout masks: ε = 0 doubles the loss
    torch.manual_seed(1)
    total = adversarial_loss(model, batch, 0.0)
    torch.manual_seed(1)
    clean = adversarial_perturbation(model, batch, 0.0)[0]
    torch.testing.assert_close(total, 2 * clean)
    torch.manual_seed(2)  # and the masks are drawn: another seed, another loss
    assert adversarial_perturbation(model, batch, 0.0)[0].item() != clean.item()


@pytest.mark.parametrize("value", [-0.5, math.nan, math.inf])
def test_config_rejects_a_bad_epsilon_naming_the_key(value):
    with pytest.raises(ConfigError, match=r"model\.adversarial"):
        ClassifierConfig(adversarial=value)


def test_no_epsilon_leaves_the_models_own_loss():
    assert adversarial_loss_fn(0.0) is None and adversarial_loss_fn(1.0) is not None


def test_a_character_model_trains_adversarially_and_loads_to_identical_predictions(tmp_path):
    """End to end on a tiny set, with the class-weighted loss and the char encoder: the option
    changes training (other weights than without it), and the saved run predicts, explains and
    reads its config back as the trained one."""
    train = write_csv(tmp_path / "train.csv", *make_texts(160, seed=1))
    dev = write_csv(tmp_path / "dev.csv", *make_texts(40, seed=2))
    base = small_config(char_encoder="cnn", char_size=6, class_weights="balanced")
    base = dataclasses.replace(base, train=dataclasses.replace(base.train, max_epochs=2))
    adv = dataclasses.replace(base, model=dataclasses.replace(base.model, adversarial=0.5))
    result = train_classifier(train, dev, tmp_path / "adv", adv, seed=0, test_path=dev)
    plain = train_classifier(train, dev, tmp_path / "plain", base, seed=0)
    assert result.dev.accuracy > 0.8
    texts = ["good great loooove", "", "bad awfulll #hate", "GOOD"]
    probs = result.classifier.predict_proba(texts)
    assert not np.array_equal(probs, plain.classifier.predict_proba(texts))
    loaded = load(tmp_path / "adv")
    assert loaded.config.adversarial == 0.5
    np.testing.assert_array_equal(loaded.predict_proba(texts), probs)
    one, two = loaded.predict(texts), result.classifier.predict(texts)
    assert [p.attention for p in one] == [p.attention for p in two]
    doc = json.loads((tmp_path / "adv" / "config.json").read_text())
    assert doc["model"]["adversarial"] == 0.5
