"""The command line: exit codes, one-line errors, help texts."""

import pytest
from typer.main import get_command

from rnnkit import __version__
from rnnkit.cli import app, main


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_version(capsys):
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.strip() == f"rnnkit {__version__}"


def _commands(group, prefix=()):
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, (*prefix, name))
        else:
            yield (*prefix, name)


@pytest.mark.parametrize("path", sorted(_commands(get_command(app))))
def test_every_command_has_an_example(path, capsys):
    code, out, _ = run([*path, "--help"], capsys)
    assert code == 0
    assert f"Example: rnnkit {' '.join(path)}" in " ".join(out.split())


def test_check_ragged_conll_is_one_line_exit_2(tmp_path, capsys):
    f = tmp_path / "bad.conll"
    f.write_text("The\tDET\ncat\tNOUN\textra\n\n", encoding="utf-8")
    code, _, err = run(["data", "check", str(f)], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{f}:2:" in err


def test_check_prints_stats(tmp_path, capsys):
    f = tmp_path / "ok.conll"
    f.write_text("The\tDET\ncat\tNOUN\n\nA\tDET\n\n", encoding="utf-8")
    code, out, _ = run(["data", "check", str(f), "--json"], capsys)
    assert code is None or code == 0
    assert '"NOUN": 1' in out and '"DET": 2' in out


def test_tfidf_without_label_column_exit_2(tmp_path, capsys):
    f = tmp_path / "nolabel.csv"
    f.write_text("text,sentiment\ngood,positive\n", encoding="utf-8")
    out_dir = tmp_path / "run"
    code, _, err = run(
        [
            "baseline",
            "tfidf",
            "--train",
            str(f),
            "--dev",
            str(f),
            "--test",
            str(f),
            "--out",
            str(out_dir),
        ],
        capsys,
    )
    assert code == 2
    assert err.strip().startswith(f"rnnkit: error: {f}:") and err.count("\n") == 1
    assert not out_dir.exists()


def test_missing_file_exit_2(tmp_path, capsys):
    code, _, err = run(["data", "check", str(tmp_path / "nope.csv")], capsys)
    assert code == 2 and "nope.csv" in err and err.count("\n") == 1


def test_unknown_dataset_lists_names(capsys):
    code, _, err = run(["data", "info", "no-such-set"], capsys)
    assert code == 2 and "tweets" in err


def test_data_distant_writes_a_classification_csv(tmp_path, capsys):
    src = tmp_path / "raw.txt"
    src.write_text("good game :)\nawful :(\nnothing here\nyay :) :D\n", encoding="utf-8")
    out = tmp_path / "distant.csv"
    code, stdout, _ = run(
        ["data", "distant", str(src), "--labels", "emoticon", "--out", str(out)], capsys
    )
    assert code in (None, 0)
    from rnnkit.data.formats import read_classification

    rows = [(e.text, e.label) for e in read_classification(out)]
    assert rows == [("good game", ":)"), ("awful", ":("), ("yay", ":)"), ("yay", ":D")]
    assert "4 examples" in stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "classify", "--bogus"],
        ["train", "lm", "--train", "a.txt", "--dev", "b.txt"],
        ["evaluate"],
        ["generate", "runs/x", "--length", "-3"],
        ["frob"],
        ["config", "show"],
        ["embed", "neighbors", "v.txt"],
    ],
)
def test_usage_errors_are_one_line_too(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    assert exc.value.code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("rnnkit: error: rnnkit")
    assert err.rstrip().endswith(" -h)")
