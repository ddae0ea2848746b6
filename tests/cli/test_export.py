"""``rnnkit export`` through the command line: a tiny tagger and classifier trained with the CLI,
exported to both formats, then ``rnnkit predict`` and ``evaluate`` on the exported directories;
bad input gives one line and exit status 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from rnnkit.cli import main
from tests.cli.test_tag import FIXTURES, SETS, run
from tests.export.common import FORMATS, needs
from tests.models.classify.test_artifact import make_texts
from tests.models.classify.test_train import write_csv


@pytest.fixture(scope="module")
def tag_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tag") / "run"
    data = str(FIXTURES / "pos.conll")
    argv = ["train", "tag", "--train", data, "--dev", data, "--out", str(out)]
    for s in SETS:
        argv += ["--set", s]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert not exc.value.code
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_then_predict_and_evaluate_a_tagger(
    fmt: str, tag_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    needs(fmt)
    out = tmp_path / fmt
    code, stdout, _ = run(["export", str(tag_run), "--format", fmt, "--out", str(out)], capsys)
    assert code == 0 and f"wrote {out}" in stdout
    config = json.loads((out / "config.json").read_text())
    assert config["export"]["format"] == fmt and config["task"] == "tag"
    assert (out / "metrics.json").read_bytes() == (tag_run / "metrics.json").read_bytes()
    text = "The dog sees a bird ."
    predicted = []
    for d in (tag_run, out):
        code, stdout, _ = run(["predict", str(d), text, "--json"], capsys)
        assert code == 0
        predicted.append(json.loads(stdout))
    assert predicted[1]["tokens"] == predicted[0]["tokens"]
    if fmt == "onnx":
        assert predicted[1] == predicted[0]
    data = str(FIXTURES / "pos.conll")
    scores = []
    for d in (tag_run, out):
        code, stdout, _ = run(["evaluate", str(d), "--data", data, "--json"], capsys)
        assert code == 0
        scores.append(json.loads(stdout)["accuracy"])
    assert scores[1] == pytest.approx(scores[0], abs=0.0 if fmt == "onnx" else 0.05)


def test_export_a_classifier_and_predict_from_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    needs("onnx")
    data = write_csv(tmp_path / "train.csv", *make_texts(40, seed=1))
    run_dir = tmp_path / "run"
    argv = ["train", "classify", "--train", str(data), "--dev", str(data), "--out", str(run_dir)]
    # the TF-IDF member (its C grid takes seconds) is exported in tests/export/test_classify.py
    for s in ("model.embeddings=none", "model.embedding_dim=8", "model.tfidf_member=false"):
        argv += ["--set", s]
    argv += [
        "--set",
        "train.max_epochs=1",
        "--set",
        "train.progress=false",
        "--set",
        "train.plots=false",
    ]
    assert run(argv, capsys)[0] == 0
    out = tmp_path / "onnx"
    assert run(["export", str(run_dir), "--format", "onnx", "--out", str(out)], capsys)[0] == 0
    answers = []
    for d in (run_dir, out):
        monkeypatch.setattr(sys, "stdin", open(data, encoding="utf-8"))  # noqa: SIM115
        code, stdout, _ = run(["predict", str(d), "--json"], capsys)
        assert code == 0
        answers.append([json.loads(line)["label"] for line in stdout.splitlines()])
    assert answers[1] == answers[0] and len(answers[0]) == 41  # the header line is a text too
    code, stdout, _ = run(["evaluate", str(out), "--data", str(data), "--json"], capsys)
    assert code == 0 and "macro_f1" in json.loads(stdout)


def test_bad_input_is_one_line_and_exit_2(
    tag_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    cases = [
        (["--format", "tflite", "--out", str(out)], str(tag_run), "unknown export format 'tflite'"),
        (["--format", "int8", "--out", str(out)], str(tmp_path / "nope"), "not a run directory"),
        (
            ["--format", "int8", "--out", str(tag_run)],
            str(tag_run),
            "already exists and is not empty",
        ),
    ]
    for options, src, message in cases:
        code, stdout, err = run(["export", src, *options], capsys)
        assert code == 2 and stdout == ""
        assert err.startswith("rnnkit: error: ") and message in err and err.count("\n") == 1
    assert not out.exists() and not list(tmp_path.glob(".out.*"))
    exported = tmp_path / "int8"
    assert run(["export", str(tag_run), "--format", "int8", "--out", str(exported)], capsys)[0] == 0
    code, _, err = run(["export", str(exported), "--format", "onnx", "--out", str(out)], capsys)
    assert code == 2 and "already an exported (int8) run" in err and not out.exists()


def test_onnx_without_onnxruntime_names_the_extra(
    tag_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    out = tmp_path / "out"
    code, _, err = run(["export", str(tag_run), "--format", "onnx", "--out", str(out)], capsys)
    assert code == 2 and "pip install rnnkit[onnx]" in err and err.count("\n") == 1
    assert not out.exists()
