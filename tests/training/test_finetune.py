"""Fine-tuning plans: which groups each strategy trains, freezing, discriminative rates."""

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.models.classify.model import ClassifierConfig, build_classifier
from rnnkit.training.finetune import (
    FinetuneConfig,
    layer_groups,
    optimizer_groups,
    plan_steps,
    set_trainable,
)
from rnnkit.training.optim import OptimConfig
from rnnkit.training.trainer import Trainer

GROUPS = ["embedder", "encoder.l0", "encoder.l1", "pooling", "head"]


def steps(strategy, new=("head",)):
    plan = plan_steps(GROUPS, list(new), FinetuneConfig(strategy=strategy, step_epochs=2))
    return [(s.name, s.trainable, s.max_epochs) for s in plan]


def test_chain_thaw_is_new_then_each_layer_then_all():
    assert steps("chain-thaw") == [
        ("new", ("head",), 2),
        ("embedder", ("embedder",), 2),
        ("encoder.l0", ("encoder.l0",), 2),
        ("encoder.l1", ("encoder.l1",), 2),
        ("pooling", ("pooling",), 2),
        ("full", tuple(GROUPS), None),
    ]


def test_other_strategies():
    assert steps("full") == [("full", tuple(GROUPS), None)]
    assert steps("last", ["pooling", "head"]) == [("new", ("pooling", "head"), None)]
    assert steps("new-then-full") == [("new", ("head",), 2), ("full", tuple(GROUPS), None)]
    gradual = steps("gradual")
    assert [t for _, t, _ in gradual] == [tuple(GROUPS[-k:]) for k in range(1, 6)]
    assert steps("chain-thaw", GROUPS) == [("full", tuple(GROUPS), None)]  # nothing pretrained


def test_plans_need_new_layers_and_known_groups():
    with pytest.raises(ConfigError, match="needs new layers"):
        plan_steps(GROUPS, [], FinetuneConfig(strategy="last"))
    with pytest.raises(ConfigError, match="not among"):
        plan_steps(GROUPS, ["decoder"], FinetuneConfig())
    with pytest.raises(ConfigError, match="chain-thaw"):
        FinetuneConfig(strategy="thaw")


def test_layer_groups_of_a_stacked_classifier():
    model = build_classifier(ClassifierConfig(num_layers=2, mlp_hidden=4), 20, 3)
    groups = layer_groups(model)
    assert list(groups) == GROUPS
    assert sorted(groups["encoder.l1"]) == sorted(
        f"encoder.{kind}_{m}_l1{rev}"
        for kind in ("weight", "bias")
        for m in ("ih", "hh")
        for rev in ("", "_reverse")
    )
    assert sum(len(v) for v in groups.values()) == len(list(model.parameters()))


def test_frozen_groups_get_no_gradient_and_no_optimiser_state():
    torch.manual_seed(0)
    model = build_classifier(ClassifierConfig(embedding_dim=4, hidden_size=3), 10, 2)
    groups = layer_groups(model)
    set_trainable(model, groups, ["head"])
    trainer = Trainer(model, OptimConfig(name="adam"))
    held = {id(p) for g in trainer.optimizer.param_groups for p in g["params"]}
    assert held == {id(p) for p in model.head.parameters()}
    rates = optimizer_groups(model, groups, ["embedder", "head"], lr=1.0, lr_decay=0.5)
    assert [g["lr"] for g in rates] == [0.5 ** (len(groups) - 1), 1.0]
