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
    "train.max_epochs=2",
    "train.optim.lr=0.02",
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
    for s in SETS:
        argv += ["--set", s]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert not exc.value.code
    return tmp, out


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
    assert code == 2 and "model.hidden_size" in err and not (tmp_path / "r").exists()
