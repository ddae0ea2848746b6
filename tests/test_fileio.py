import os

import pytest

from rnnkit.fileio import atomic_path, write_json, write_text


def test_write_then_rename(tmp_path):
    target = tmp_path / "a" / "b.txt"
    write_text(target, "héllo\n")
    assert target.read_text(encoding="utf-8") == "héllo\n"
    assert os.listdir(target.parent) == ["b.txt"]


def test_failure_leaves_previous_file(tmp_path):
    target = tmp_path / "m.json"
    write_json(target, {"x": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("killed")
    assert target.read_text(encoding="utf-8").strip() == '{\n  "x": 1\n}'
    assert os.listdir(tmp_path) == ["m.json"]


def test_mode_follows_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "f.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644


def test_read_json_errors_name_file_and_line(tmp_path):
    from rnnkit.errors import DataFormatError
    from rnnkit.fileio import read_json

    good = tmp_path / "g.json"
    write_json(good, {"a": [1, 2]})
    assert read_json(good) == {"a": [1, 2]}
    bad = tmp_path / "b.json"
    bad.write_text('{\n "a": [1,]\n}', encoding="utf-8")
    with pytest.raises(DataFormatError, match="not valid JSON") as err:
        read_json(bad)
    assert str(err.value).startswith(f"{bad}:2:")
    binary = tmp_path / "x.json"
    binary.write_bytes(b"\xff\xfe{")
    with pytest.raises(DataFormatError, match="cannot read"):
        read_json(binary)
    with pytest.raises(DataFormatError, match="cannot read"):
        read_json(tmp_path / "missing.json")
