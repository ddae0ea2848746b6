"""``rnnkit train tag`` / ``evaluate`` / ``predict`` through the command line."""

from __future__ import annotations

import io
import json
import logging
import sys
from pathlib import Path

import pytest

from rnnkit.cli import main

FIXTURES = Path(__file__).parent.parent / "fixtures" / "tagging"
SETS = [
    "model.embeddings=none",
    "model.embedding_dim=8",
    "model.hidden_size=8",
    "model.char_size=6",
    "data.batch_size=2",
    "train.max_epochs=2",
    "train.optim.lr=0.02",
    "train.progress=false",
    "train.plots=false",
    "train.device=cpu",
]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A run trained on the CoNLL-U fixture, and what the library logged meanwhile."""
    out = tmp_path_factory.mktemp("tag") / "run"
    conllu = str(FIXTURES / "words.conllu")
    argv = ["train", "tag", "--train", conllu, "--dev", conllu, "--out", str(out)]
    for s in SETS:
        argv += ["--set", s]
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    logging.getLogger("rnnkit").addHandler(handler)
    try:
        with pytest.raises(SystemExit) as exc:
            main(argv)
    finally:
        logging.getLogger("rnnkit").removeHandler(handler)
    assert not exc.value.code
    return out, log.getvalue()


def test_train_on_conllu_logs_the_skipped_lines(trained: tuple[Path, str]) -> None:
    out, log = trained
    assert "skipped 1 multi-word token line(s) and 1 empty node(s)" in log
    assert (out / "model.safetensors").exists() and (out / "metrics.json").exists()


def test_evaluate_json(trained: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    data = str(FIXTURES / "words.conllu")
    code, out, _ = run(["evaluate", str(trained[0]), "--data", data, "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert 0.0 <= doc["accuracy"] <= 1.0 and doc["tokens"] == 12 and doc["f1"] is None


def test_evaluate_json_draws_no_png_and_an_unseen_tag_is_an_error(
    trained: tuple[Path, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = trained[0]
    assert not list(out.glob("confusion_*.png"))  # nothing drawn by evaluate --json either
    data = tmp_path / "new.conll"
    data.write_text("Sue\tPROPN\nsings\tVERB\n\nwe\tPRON\nsing\tXTAG\n\n", encoding="utf-8")
    code, stdout, err = run(["evaluate", str(out), "--data", str(data)], capsys)
    assert code == 2 and stdout == ""
    assert err.startswith(f"rnnkit: error: {data}: sentence 2: tag 'XTAG' never seen in training")


def test_options_of_other_tasks_are_errors(
    trained: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(trained[0])
    code, _, err = run(["predict", out, "Sue sings.", "--explain"], capsys)
    assert code == 2 and "--explain does not apply to a tag run" in err
    data = str(FIXTURES / "words.conllu")
    code, _, err = run(["evaluate", out, "--data", data, "--beam", "2"], capsys)
    assert code == 2 and err.count("\n") == 1 and "--beam does not apply to a tag run" in err


def test_predict_text_conll_and_json(
    trained: tuple[Path, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(["predict", str(trained[0]), "Sue likes tea."], capsys)
    assert code == 0
    rows = [line.split("\t") for line in out.strip().splitlines()]
    assert [r[0] for r in rows] == ["Sue", "likes", "tea", "."]
    monkeypatch.setattr(sys, "stdin", io.StringIO("I\nknow\n\nBill\n"))
    code, out, _ = run(["predict", str(trained[0]), "--conll", "--json"], capsys)
    assert code == 0
    docs = [json.loads(line) for line in out.splitlines()]
    assert [d["tokens"] for d in docs] == [["I", "know"], ["Bill"]]
    assert all(len(d["tags"]) == len(d["tokens"]) for d in docs)
    assert [d["sentence"] for d in docs] == [1, 2]
    monkeypatch.setattr(sys, "stdin", io.StringIO("Sue likes tea.\n\nBill\n"))
    code, out, _ = run(["predict", str(trained[0]), "--json"], capsys)
    docs = [json.loads(line) for line in out.splitlines()]
    assert [(d["line"], len(d["tokens"]), len(d["tags"])) for d in docs] == [
        (1, 4, 4), (2, 0, 0), (3, 1, 1),
    ]  # fmt: skip


def test_bad_option_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    conllu = str(FIXTURES / "words.conllu")
    argv = ["train", "tag", "--train", conllu, "--dev", conllu, "--out", "/tmp/x"]
    code, _, err = run([*argv, "--set", "model.head=mlp"], capsys)
    assert code == 2 and "model.head" in err


def test_unseen_test_tag_fails_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conllu = str(FIXTURES / "words.conllu")
    test = tmp_path / "test.conll"
    test.write_text("Bill\tPROPN\nsings\tXTAG\n\n", encoding="utf-8")
    out = tmp_path / "run"
    argv = ["train", "tag", "--train", conllu, "--dev", conllu, "--test", str(test)]
    code, _, err = run([*argv, "--out", str(out), *(a for s in SETS for a in ("--set", s))], capsys)
    assert code == 2 and f"{test}: sentence 1: tag 'XTAG' never seen in training" in err
    assert not out.exists()
