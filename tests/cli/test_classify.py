"""``rnnkit train classify`` / ``evaluate`` / ``predict`` through the command line."""

import json
import sys

import pytest

from rnnkit.cli import main
from tests.models.classify.test_artifact import make_texts
from tests.models.classify.test_train import write_csv

SETS = [
    "model.embeddings=none",
    "model.embedding_dim=8",
    "model.hidden_size=8",
    "data.pipeline=lower,split",
    "train.progress=false",
    "train.plots=false",
    "train.device=cpu",
]


def run(argv, capsys, stdin=None, monkeypatch=None):
    if stdin is not None:
        import io

        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code or 0, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cls")
    train = write_csv(tmp / "train.csv", *make_texts(160, seed=1))
    dev = write_csv(tmp / "dev.csv", *make_texts(40, seed=2))
    out = tmp / "run"
    argv = ["train", "classify", "--train", str(train), "--dev", str(dev), "--out", str(out)]
    argv += ["--epochs", "2", "--batch-size", "16", "--lr", "0.02"]
    for s in SETS:
        argv += ["--set", s]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert not exc.value.code
    return tmp, out


def test_shortcut_flags_land_in_config_json(trained):
    config = json.loads((trained[1] / "config.json").read_text(encoding="utf-8"))
    assert config["train"]["max_epochs"] == 2 and config["data"]["batch_size"] == 16
    assert config["train"]["optim"]["lr"] == 0.02


def test_evaluate_json_and_confusion_png(trained, capsys):
    tmp, out = trained
    code, stdout, _ = run(["evaluate", str(out), "--data", str(tmp / "dev.csv"), "--json"], capsys)
    assert code == 0
    report = json.loads(stdout)
    assert 0.0 <= report["macro_f1"] <= 1.0 and 0.0 <= report["accuracy"] <= 1.0
    assert {row["label"] for row in report["per_class"]} == set(report["labels"])
    assert (out / "confusion_dev.png").stat().st_size > 0


def test_predict_json_survives_empty_long_and_unknown_lines(trained, capsys, monkeypatch):
    _, out = trained
    lines = ["", "x" * 100_000, "zzqx unseenword qqq", "good " * 20_000]
    code, stdout, _ = run(
        ["predict", str(out), "--json", "--explain"], capsys, "\n".join(lines) + "\n", monkeypatch
    )
    assert code == 0
    rows = [json.loads(line) for line in stdout.splitlines()]
    assert len(rows) == len(lines)
    for row in rows:
        assert abs(sum(row["probabilities"].values()) - 1.0) < 1e-5
        assert row["label"] in row["probabilities"]
        assert len(row["tokens"]) == len(row["attention"])


def test_predict_explain_prints_one_line_per_text(trained, capsys):
    _, out = trained
    code, stdout, _ = run(["predict", str(out), "good film", "bad film", "--explain"], capsys)
    assert code == 0
    assert len(stdout.strip().splitlines()) == 2


def test_unseen_label_at_test_time_is_a_clear_error(trained, capsys, tmp_path):
    _, out = trained
    bad = write_csv(tmp_path / "bad.csv", ["good film", "meh"], ["pos", "sarcastic"])
    code, _, err = run(["evaluate", str(out), "--data", str(bad)], capsys)
    assert code == 2 and "Traceback" not in err
    assert "'sarcastic' never seen in training" in err and str(bad) in err


def test_unknown_override_names_the_valid_options(tmp_path, capsys):
    train = write_csv(tmp_path / "t.csv", ["a", "b"], ["x", "y"])
    argv = ["train", "classify", "--train", str(train), "--dev", str(train)]
    code, _, err = run([*argv, "--out", str(tmp_path / "r"), "--set", "model.hiden=3"], capsys)
    assert code == 2 and "did you mean model.hidden_size?" in err
    assert not (tmp_path / "r").exists()


def test_unseen_test_label_fails_before_training(tmp_path, capsys):
    train = write_csv(tmp_path / "train.csv", *make_texts(40, seed=1))
    test = write_csv(tmp_path / "test.csv", ["good film", "meh"], ["pos", "sarcastic"])
    out = tmp_path / "run"
    argv = ["train", "classify", "--train", str(train), "--dev", str(train), "--test", str(test)]
    code, _, err = run([*argv, "--out", str(out), "--epochs", "1000"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "'sarcastic' never seen in training" in err and str(test) in err
    assert not (out / "model.safetensors").exists() and not out.exists()
