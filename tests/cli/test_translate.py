"""``rnnkit train translate`` / ``translate`` / ``evaluate`` / ``predict`` through the CLI."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from rnnkit.cli import main

FIXTURES = Path(__file__).parent.parent / "fixtures" / "translate"
SETS = [
    "model.embedding_dim=8",
    "model.hidden_size=8",
    "model.decoder_hidden_size=8",
    "data.source_pipeline=split",
    "data.target_pipeline=split",
    "train.max_epochs=1",
    "train.progress=false",
    "train.plots=false",
    "train.device=cpu",
]


def run(
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch | None = None,
    stdin: str | None = None,
) -> tuple[int, str, str]:
    if stdin is not None and monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("translate") / "run"
    argv = ["train", "translate", "--train", str(FIXTURES / "train.tsv")]
    argv += ["--dev", str(FIXTURES / "dev.tsv"), "--out", str(out), "--json"]
    for s in SETS:
        argv += ["--set", s]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert not exc.value.code
    return out


def test_train_prints_scores_and_evaluate_matches(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    argv = ["evaluate", str(run_dir), "--data", str(FIXTURES / "dev.tsv"), "--json"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    assert json.loads(out) == metrics["dev"]
    code, out, _ = run(argv[:-1], capsys)
    assert code == 0 and out.startswith("BLEU ") and "chrF" in out
    beam = json.loads((run_dir / "config.json").read_text())["decode"]["beam_size"]
    assert beam > 1 and f"beam {beam} decoding" in out and metrics["dev"]["beam_size"] == beam
    code, out, _ = run([*argv[:-1], "--beam", "1"], capsys)
    assert code == 0 and "greedy decoding" in out


def test_translate_arguments_stdin_json_and_plot(
    run_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(["translate", str(run_dir), "One two.", "Three.", "--beam", "1"], capsys)
    assert code == 0 and len(out.splitlines()) == 2
    code, piped, _ = run(
        ["translate", str(run_dir), "--beam", "1"], capsys, monkeypatch, "One two.\n\nThree.\n"
    )
    assert code == 0 and piped == out
    png = run_dir.parent / "att.png"
    code, as_json, _ = run(
        ["translate", str(run_dir), "One two.", "--json", "--plot", str(png)], capsys
    )
    assert code == 0 and set(json.loads(as_json.splitlines()[0])) == {"translation", "score"}
    assert png.read_bytes()[:4] == b"\x89PNG"
    code, predicted, _ = run(["predict", str(run_dir)], capsys, monkeypatch, "One two.\n")
    assert code == 0 and len(predicted.splitlines()) == 1
    code, predicted, _ = run(
        ["predict", str(run_dir), "--json"], capsys, monkeypatch, "One two.\n\nThree.\n"
    )
    docs = [json.loads(line) for line in predicted.splitlines()]
    assert [(d["line"], d["text"]) for d in docs] == [(1, "One two."), (2, ""), (3, "Three.")]
    first = json.loads(as_json.splitlines()[0])["translation"]
    assert docs[1]["translation"] == "" and docs[0]["translation"] == first


def test_user_errors_exit_2(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["translate", str(run_dir.parent / "nope"), "x"], capsys)
    assert code == 2 and "not a run directory" in err
    argv = ["train", "translate", "--train", str(FIXTURES / "train.tsv"), "--dev"]
    argv += [str(FIXTURES / "dev.tsv"), "--out", str(run_dir), "--set", "model.attention=bogus"]
    code, _, err = run(argv, capsys)
    assert code == 2 and "model.attention" in err
