"""Configurations from TOML files and ``--set`` overrides, type-checked."""

from dataclasses import dataclass, field

import pytest

from rnnkit.config import build_config, parse_override, shipped_configs
from rnnkit.errors import ConfigError, DataFormatError


@dataclass(frozen=True)
class Inner:
    size: int = 3
    rate: float = 0.5
    name: str | None = None
    flag: bool = False
    steps: tuple[str, ...] = ("a", "b")
    pair: tuple[float, float] = (0.9, 0.99)

    def __post_init__(self):
        if self.size < 1:
            raise ConfigError("size must be >= 1")


@dataclass(frozen=True)
class Outer:
    model: Inner = field(default_factory=Inner)
    seed: int | None = None


def test_overrides_parse_by_field_type():
    cfg = build_config(
        Outer,
        overrides=[
            "model.size=7",
            "model.rate=1e-3",
            "model.name=glove-6b-50d",
            "model.flag=true",
            "model.steps=lower, tweet",
            "model.pair=0.8,0.9",
            "seed=none",
        ],
    )
    assert cfg == Outer(Inner(7, 1e-3, "glove-6b-50d", True, ("lower", "tweet"), (0.8, 0.9)))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model.sise=3", "model.size"),
        ("model.size=three", "expected int"),
        ("model.flag=maybe", "expected true or false"),
        ("model=3", "a section"),
        ("model.size=0", "size must be >= 1"),
        ("model.pair=1", "expected 2"),
        ("noequals", "expected key=value"),
    ],
)
def test_bad_overrides_say_what_is_wrong(override, message):
    with pytest.raises(ConfigError, match=message):
        build_config(Outer, overrides=[override])


def test_toml_file_then_overrides(tmp_path):
    path = tmp_path / "cfg.toml"
    path.write_text('seed = 4\n[model]\nsize = 5\nsteps = ["x"]\n', encoding="utf-8")
    cfg = build_config(Outer, path, ["model.size=6"])
    assert cfg == Outer(Inner(size=6, steps=("x",)), seed=4)


def test_toml_errors_name_file_and_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[model]\nsize = = 3\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"bad\.toml:2:"):
        build_config(Outer, path)
    path.write_text("[model]\nsise = 3\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"unknown keys .*sise \(did you mean size\?\)"):
        build_config(Outer, path)


def test_missing_config_lists_shipped_ones(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        build_config(Outer, tmp_path / "nope.toml")
    assert all(isinstance(name, str) for name in shipped_configs())


def test_none_only_where_allowed():
    assert parse_override("null", int | None) is None
    with pytest.raises(ConfigError):
        parse_override("none", int)


def test_train_config_takes_auto_epochs_and_patience_from_overrides():
    from rnnkit.training.recipe import TrainConfig

    cfg = build_config(
        TrainConfig,
        overrides=["max_epochs=none", "patience=null", "auto_epochs=6", "min_steps=500"],
    )
    assert (cfg.max_epochs, cfg.patience, cfg.auto_epochs, cfg.min_steps) == (None, None, 6, 500)
    cfg = build_config(TrainConfig, overrides=["max_epochs=12", "patience=5"])
    assert (cfg.max_epochs, cfg.patience) == (12, 5)
    cfg = build_config(TrainConfig, overrides=["schedule.name=stlr", "schedule.ratio=16"])
    assert (cfg.schedule.name, cfg.schedule.ratio) == ("stlr", 16.0)
    with pytest.raises(ConfigError, match="expected int"):
        build_config(TrainConfig, overrides=["max_epochs=auto"])
    with pytest.raises(ConfigError, match="patience"):
        build_config(TrainConfig, overrides=["patience=0"])


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("train.max_epoch", "train.max_epochs"),  # a letter missing
        ("trian.max_epochs", "train.max_epochs"),  # the section misspelt
        ("train.lr", "train.optim.lr"),  # the section left out
        ("optim.lr", "train.optim.lr"),
        ("batch_size", "data.batch_size"),
        ("model.hiden_size", "model.hidden_size"),
    ],
)
def test_misspelt_key_suggests_the_closest(key, meant):
    from rnnkit.models.tag import TagRunConfig

    with pytest.raises(ConfigError, match=rf"--set {key}: no such option; did you mean {meant}\?"):
        build_config(TagRunConfig, overrides=[f"{key}=3"])


def test_no_suggestion_when_nothing_is_close():
    with pytest.raises(ConfigError) as err:
        build_config(Outer, overrides=["model.xyzzy=3"])
    assert "did you mean" not in str(err.value) and "model.size" in str(err.value)
