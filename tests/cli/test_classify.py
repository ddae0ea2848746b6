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
    argv = ["evaluate", str(out), "--data", str(tmp / "dev.csv"), "--json"]
    code, stdout, _ = run(argv, capsys)
    assert code == 0
    report = json.loads(stdout)
    assert 0.0 <= report["macro_f1"] <= 1.0 and 0.0 <= report["accuracy"] <= 1.0
    assert {row["label"] for row in report["per_class"]} == set(report["labels"])
    assert report["confusion_png"] is None and not (out / "confusion_dev.png").exists()
    code, stdout, _ = run([*argv, "--plots"], capsys)
    assert code == 0 and json.loads(stdout)["confusion_png"] == str(out / "confusion_dev.png")
    assert (out / "confusion_dev.png").stat().st_size > 0


def test_options_of_other_tasks_are_errors(trained, capsys):
    tmp, out = trained
    code, stdout, err = run(["predict", str(out), "good", "--conll"], capsys)
    assert code == 2 and stdout == ""
    assert err.startswith(f"rnnkit: error: --conll does not apply to a classify run ({out})")
    code, _, err = run(
        ["evaluate", str(out), "--data", str(tmp / "dev.csv"), "--beam", "3"], capsys
    )
    assert code == 2 and "--beam does not apply to a classify run" in err


def test_predict_json_survives_empty_long_and_unknown_lines(trained, capsys, monkeypatch):
    _, out = trained
    lines = ["", "x" * 100_000, "zzqx unseenword qqq", "good " * 20_000, "  "]
    code, stdout, _ = run(
        ["predict", str(out), "--json", "--explain"], capsys, "\n".join(lines) + "\n", monkeypatch
    )
    assert code == 0
    rows = [json.loads(line) for line in stdout.splitlines()]
    assert [(row["line"], row["text"]) for row in rows] == list(enumerate(lines, 1))
    for row in rows[1:4]:
        assert abs(sum(row["probabilities"].values()) - 1.0) < 1e-5
        assert row["label"] in row["probabilities"]
        assert len(row["tokens"]) == len(row["attention"])
    for blank in (rows[0], rows[4]):  # an empty answer, not a label
        assert blank["label"] is None and blank["probabilities"] == {}


def test_predict_plain_carries_the_text_and_explain_prints_numbers(trained, capsys, monkeypatch):
    _, out = trained
    code, stdout, _ = run(["predict", str(out)], capsys, "good film\n\nbad film\n", monkeypatch)
    assert code == 0
    rows = [line.split("\t") for line in stdout.split("\n")[:-1]]
    assert [row[-1] for row in rows] == ["good film", "", "bad film"] and rows[1] == [""]
    code, stdout, _ = run(["predict", str(out), "good film", "--explain"], capsys)
    _, weights, text = stdout.rstrip("\n").split("\t")
    assert code == 0 and text == "good film" and "\x1b[" not in stdout
    found = [pair.rsplit(":", 1) for pair in weights.split()]
    assert [t for t, _ in found] == ["good", "film"]
    assert abs(sum(float(w) for _, w in found) - 1.0) < 2e-3


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
    # progress lines (loading the vectors) may come first; the error is one line, the last
    assert code == 2 and err.splitlines()[-1].startswith("rnnkit: error: ")
    assert err.count("rnnkit: error") == 1 and err.endswith("\n")
    assert "'sarcastic' never seen in training" in err and str(test) in err
    assert not (out / "model.safetensors").exists() and not out.exists()


def test_predict_stdin_bad_utf8_names_the_line_and_prints_nothing(trained, capsys, monkeypatch):
    import io

    _, out = trained
    data = "\ufeffgood film\r\nbad film\n".encode() + b"caf\xe9\n" + b"great\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    code, stdout, err = run(["predict", str(out), "--json"], capsys)
    assert code == 2 and stdout == ""
    assert err.startswith("rnnkit: error: <stdin>:3: invalid UTF-8")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data[:-11]), encoding="utf-8"))
    code, stdout, _ = run(["predict", str(out), "--json"], capsys)
    together = [json.loads(line) for line in stdout.splitlines()]
    code2, alone, _ = run(["predict", str(out), "--json", "good film", "bad film"], capsys)
    assert code == code2 == 0 and together == [json.loads(line) for line in alone.splitlines()]


def test_init_from_a_default_lm_run_with_the_defaults_works(tmp_path, capsys, caplog):
    text = tmp_path / "lm.txt"
    text.write_text("good film , great cast\na bad film and a poor plot\n" * 6, encoding="utf-8")
    lm = tmp_path / "lm"
    code, _, err = run(
        ["train", "lm", "--train", str(text), "--dev", str(text), "--out", str(lm),
         "--epochs", "1", "--set", "train.plots=false"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    train = write_csv(tmp_path / "train.csv", *make_texts(40, seed=1))
    out = tmp_path / "clf"
    code, _, err = run(
        ["train", "classify", "--train", str(train), "--dev", str(train), "--out", str(out),
         "--epochs", "1", "--init-from", str(lm), "--set", "train.plots=false",
         "--set", "model.tfidf_member=false"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "its sizes model.embedding_dim=200" in caplog.text
    model = json.loads((out / "config.json").read_text(encoding="utf-8"))["model"]
    assert (model["embedding_dim"], model["hidden_size"], model["num_layers"]) == (200, 200, 2)
    assert model["bidirectional"] is False and model["embeddings"] is None
    # a size the user sets is kept
    code, _, err = run(
        ["train", "classify", "--train", str(train), "--dev", str(train),
         "--out", str(tmp_path / "clf2"), "--epochs", "1", "--init-from", str(lm),
         "--set", "model.bidirectional=true", "--set", "train.plots=false",
         "--set", "model.tfidf_member=false"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    model = json.loads((tmp_path / "clf2" / "config.json").read_text(encoding="utf-8"))["model"]
    assert model["bidirectional"] is True and model["hidden_size"] == 200


def test_the_cut_of_long_texts_is_logged(tmp_path, capsys, caplog):
    train = write_csv(tmp_path / "train.csv", *make_texts(40, seed=1))
    argv = ["train", "classify", "--train", str(train), "--dev", str(train), "--out"]
    argv += [str(tmp_path / "run"), "--epochs", "1", "--set", "data.max_length=3"]
    argv += ["--set", "model.tfidf_member=false"]
    for s in SETS:
        argv += ["--set", s]
    code, _, err = run(argv, capsys)
    assert code == 0, err
    assert "texts have data.max_length=3 tokens or more; the model reads that many" in caplog.text
