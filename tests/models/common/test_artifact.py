import json

import pytest

from rnnkit import __version__
from rnnkit.errors import ConfigError, DataFormatError, RnnkitError
from rnnkit.models.classify.model import ClassifierConfig
from rnnkit.models.common.artifact import (
    config_from_dict,
    config_to_dict,
    read_pipeline,
    read_run_config,
    read_strings,
    write_run_config,
)
from rnnkit.training.optim import OptimConfig
from rnnkit.training.recipe import TrainConfig


def test_nested_config_round_trips_through_json():
    cfg = TrainConfig(max_epochs=3, optim=OptimConfig(lr=0.01), early_stopping="macro_f1")
    data = json.loads(json.dumps(config_to_dict(cfg)))
    assert config_from_dict(TrainConfig, data) == cfg
    model = ClassifierConfig(pooling="max", attention_size=3, embeddings="glove-6b-50d")
    assert config_from_dict(ClassifierConfig, config_to_dict(model)) == model


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"max_epochs": 0}, "bad"),
        ({"nope": 1}, 'unknown keys in "TrainConfig": nope'),
        ({"optim": {"bogus": 1}}, "TrainConfig.optim"),
        ([1], "JSON object"),
    ],
)
def test_bad_config_names_the_file_and_key(data, message):
    with pytest.raises(DataFormatError, match=message) as info:
        config_from_dict(TrainConfig, data, source="run/config.json")
    assert str(info.value).startswith("run/config.json")


@pytest.mark.parametrize("labels", [None, [], "pos", ["pos", 3]])
def test_bad_label_lists_name_the_run_file(tmp_path, labels):
    source = tmp_path / "config.json"
    with pytest.raises(DataFormatError, match='"labels" must be a non-empty list') as err:
        read_strings({"labels": labels}, "labels", source)
    assert str(source) in str(err.value)
    assert read_strings({"labels": ["neg", "pos"]}, "labels", source) == ["neg", "pos"]


def test_bad_pipeline_is_the_run_files_error(tmp_path):
    with pytest.raises(DataFormatError, match="bad pipeline"):
        read_pipeline(["lower", "no-such-step"], tmp_path / "config.json")
    assert read_pipeline(["lower", "split"], tmp_path / "config.json")("A b") == ["a", "b"]


def test_run_config_round_trip_and_checks(tmp_path):
    path = write_run_config(tmp_path, "classify", {"labels": ["a", "b"]})
    doc = read_run_config(tmp_path, "classify")
    assert doc["labels"] == ["a", "b"] and doc["rnnkit_version"] == __version__
    with pytest.raises(DataFormatError, match="not 'tag'"):
        read_run_config(tmp_path, "tag")
    with pytest.raises(ConfigError):
        write_run_config(tmp_path, "classify", {"task": "x"})
    path.write_text("{not json")
    with pytest.raises(DataFormatError, match="not valid JSON"):
        read_run_config(tmp_path)
    path.write_text(json.dumps({"format": "other"}))
    with pytest.raises(DataFormatError, match="not an rnnkit run config"):
        read_run_config(tmp_path)
    path.unlink()
    with pytest.raises(DataFormatError, match="missing"):
        read_run_config(tmp_path)


def test_top_level_load_is_lazy_and_restores_runs(tmp_path):
    import subprocess
    import sys

    code = "import sys, rnnkit; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    import rnnkit

    with pytest.raises(RnnkitError, match="not a run directory"):
        rnnkit.load(tmp_path / "missing")
