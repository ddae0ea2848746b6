"""``rnnkit config show|init TASK``: every key documented; the TOML round trip."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from rnnkit.cli import main
from rnnkit.cli.config import RUN_CONFIGS, run_config
from rnnkit.config import build_config, describe_config


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_show_lists_hidden_size_with_type_default_and_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(["config", "show", "classify"], capsys)
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("model.hidden_size "))
    assert line.split()[1:3] == ["int", "64"] and "per direction" in line
    code, out, _ = run(["config", "show", "lm", "--config", "ptb-small", "--json"], capsys)
    keys = {d["key"]: d for d in map(json.loads, out.splitlines())}
    assert keys["model.softmax"]["default"] == "adaptive"  # the shipped config's value
    assert keys["train.optim.lr"]["type"] == "float"


@pytest.mark.parametrize("task", sorted(RUN_CONFIGS))
def test_every_key_has_one_line_of_help(task: str) -> None:
    docs = describe_config(run_config(task))
    missing = [d.key for d in docs if not d.help]
    assert not missing, f"{task}: keys without help in their dataclass docstring: {missing}"
    assert all("\n" not in d.help for d in docs)


@pytest.mark.parametrize("task", sorted(RUN_CONFIGS))
def test_init_writes_a_toml_that_reads_back_to_the_defaults(
    task: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["config", "init", task], capsys)
    assert code == 0
    path = tmp_path / "cfg.toml"
    path.write_text(out, encoding="utf-8")
    tomllib.loads(out)
    default = run_config(task)
    assert build_config(type(default), path) == default
    assert "# H per direction. (int)\nhidden_size = 64" in out or task != "classify"


def test_an_unknown_task_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["config", "show", "parse"], capsys)
    assert (
        code == 2
        and err == "rnnkit: error: unknown task 'parse'; one of classify, tag, lm, translate\n"
    )


def test_train_accepts_the_init_file_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["config", "init", "lm", "--config", "ptb-small"], capsys)
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(out, encoding="utf-8")
    text = tmp_path / "train.txt"
    text.write_text("the cat sat on the mat\na dog sat on a log\n" * 4, encoding="utf-8")
    code, _, err = run(
        ["train", "lm", "--train", str(text), "--dev", str(text), "--out", str(tmp_path / "run"),
         "--config", str(cfg), "--epochs", "1", "--set", "model.softmax=full",
         "--set", "train.plots=false"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    saved = json.loads((tmp_path / "run" / "config.json").read_text(encoding="utf-8"))
    assert saved["model"]["hidden_size"] == 200 and saved["train"]["max_epochs"] == 1
