import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit.errors import ConfigError, DataFormatError, RnnkitError
from rnnkit.text.vocab import Vocab

CORPUS = [["b", "a", "c", "a"], ["c", "d", "a", "<unk>"], ["e", "b"]]


def _oracle(
    corpus: list[list[str]], min_freq: int, max_size: int | None, specials: tuple[str, ...]
) -> list[str]:
    counts = Counter(t for seq in corpus for t in seq if t not in specials)
    ranked = [t for t, n in counts.items() if n >= min_freq]
    ranked.sort(key=lambda t: (-counts[t], t))
    if max_size is not None:
        ranked = ranked[: max_size - len(specials)]
    return [*specials, *ranked]


def test_build_orders_by_count_then_code_point() -> None:
    vocab = Vocab.build(CORPUS)
    assert vocab.tokens == ["<pad>", "<unk>", "<bos>", "<eos>", "a", "b", "c", "d", "e"]
    assert vocab.counts == [0, 0, 0, 0, 3, 2, 2, 1, 1]
    assert (vocab.pad_id, vocab.unk_id) == (0, 1)
    assert vocab.specials == ("<pad>", "<unk>", "<bos>", "<eos>")


def test_build_does_not_depend_on_corpus_order() -> None:
    shuffled = [list(reversed(s)) for s in reversed(CORPUS)]
    assert Vocab.build(shuffled) == Vocab.build(CORPUS)


@settings(deadline=None)  # the 2-core machine is shared: no timing limit
@given(
    st.lists(st.lists(st.sampled_from("abcdefg") | st.sampled_from(["<pad>", "x y"]), max_size=8)),
    st.integers(1, 3),
    st.none() | st.integers(4, 9),
)
def test_build_matches_oracle(corpus: list[list[str]], min_freq: int, max_size: int | None) -> None:
    specials = ("<pad>", "<unk>", "<bos>", "<eos>")
    vocab = Vocab.build(corpus, min_freq=min_freq, max_size=max_size)
    assert vocab.tokens == _oracle(corpus, min_freq, max_size, specials)
    assert max_size is None or len(vocab) <= max_size


def test_min_freq_max_size_and_specials() -> None:
    assert Vocab.build(CORPUS, min_freq=2).tokens[4:] == ["a", "b", "c"]
    assert Vocab.build(CORPUS, max_size=6).tokens[4:] == ["a", "b"]
    no_unk = Vocab.build(CORPUS, specials=("<pad>",))  # the corpus' own <unk> is then a word
    assert no_unk.tokens == ["<pad>", "a", "b", "c", "<unk>", "d", "e"] and no_unk.unk_id == 4
    with pytest.raises(ConfigError, match="max_size"):
        Vocab.build(CORPUS, max_size=3)
    with pytest.raises(ConfigError, match="min_freq"):
        Vocab.build(CORPUS, min_freq=0)
    with pytest.raises(ConfigError, match="got a string"):
        Vocab.build(["a sentence"])
    with pytest.raises(ConfigError, match="id 0"):
        Vocab.build(CORPUS, specials=("<unk>", "<pad>"))


def test_encode_decode() -> None:
    vocab = Vocab.build(CORPUS)
    ids = vocab.encode(["a", "zzz", "<unk>", "e"], bos=True, eos=True)
    assert ids == [2, 4, 1, 1, 8, 3]
    assert vocab.decode(ids) == ["<bos>", "a", "<unk>", "<unk>", "e", "<eos>"]
    assert vocab.decode(ids, skip_specials=True) == ["a", "<unk>", "<unk>", "e"]
    assert vocab.decode(np.array([4, 0, 0])) == ["a", "<pad>", "<pad>"]
    assert vocab.id("b") == 5 and vocab.token(5) == "b" and "b" in vocab and "z" not in vocab
    with pytest.raises(RnnkitError, match=r"0\.\.8"):
        vocab.decode([4, 9])
    with pytest.raises(RnnkitError, match="-1"):
        vocab.decode([-1])


@settings(deadline=None)  # the 2-core machine is shared: no timing limit
@given(st.lists(st.lists(st.text(max_size=5), max_size=6), max_size=6), st.data())
def test_decode_inverts_encode_for_known_tokens(
    corpus: list[list[str]], data: st.DataObject
) -> None:
    vocab = Vocab.build(corpus)
    known = [t for seq in corpus for t in seq]
    tokens = data.draw(st.lists(st.sampled_from(known), max_size=10)) if known else []
    assert vocab.decode(vocab.encode(tokens)) == tokens


def test_label_vocab_without_unk_refuses_unknown_labels() -> None:
    labels = Vocab.from_tokens(["negative", "neutral", "positive"])
    assert labels.encode(["positive", "negative"]) == [2, 0]
    assert labels.unk_id is None
    with pytest.raises(RnnkitError, match="'mixed' is not in the vocabulary"):
        labels.encode(["mixed"])
    with pytest.raises(RnnkitError, match="<pad>"):
        _ = labels.pad_id
    with pytest.raises(RnnkitError, match="<bos>"):
        labels.encode([], bos=True)


def test_save_load_round_trip(tmp_path: Path) -> None:
    vocab = Vocab.build([*CORPUS, ["é", "日本", "😂"]])
    path = tmp_path / "sub" / "vocab.json"
    vocab.save(path)
    loaded = Vocab.load(path)
    assert loaded == vocab and loaded.tokens == vocab.tokens and loaded.counts == vocab.counts
    assert Vocab.from_dict(json.loads(json.dumps(vocab.to_dict()))) == vocab
    labels = Vocab.from_tokens(["x", "y"])
    labels.save(path)
    assert Vocab.load(path).tokens == ["x", "y"] and Vocab.load(path).counts is None


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        ('{"format": "rnnkit-vocab",\n "tokens": [1,]}', "not valid JSON", 2),
        ('["a", "b"]', "not an rnnkit vocabulary", None),
        ('{"format": "rnnkit-vocab", "format_version": 9}', "format_version 9", None),
        (
            '{"format": "rnnkit-vocab", "format_version": 1, "specials": [], "tokens": "ab"}',
            '"tokens" must be a list of strings',
            None,
        ),
        (
            '{"format": "rnnkit-vocab", "format_version": 1, "specials": ["<pad>"],'
            ' "tokens": ["a", "a"]}',
            "duplicate entries: ['a']",
            None,
        ),
        (
            '{"format": "rnnkit-vocab", "format_version": 1, "specials": ["<unk>", "<pad>"],'
            ' "tokens": []}',
            "<pad> must have id 0",
            None,
        ),
        (
            '{"format": "rnnkit-vocab", "format_version": 1, "specials": [], "tokens": ["a"],'
            ' "counts": [1, 2]}',
            "one count",
            None,
        ),
    ],
)
def test_bad_vocab_files(tmp_path: Path, content: str, message: str, line: int | None) -> None:
    path = tmp_path / "vocab.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFormatError, match=message.replace("[", r"\[")) as err:
        Vocab.load(path)
    assert err.value.path == str(path) and err.value.line == line
    assert str(err.value).startswith(f"{path}:")


def test_missing_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="cannot read"):
        Vocab.load(tmp_path / "absent.json")
    (tmp_path / "latin1.json").write_bytes(b'{"tokens": ["caf\xe9"]}')
    with pytest.raises(DataFormatError, match="cannot read"):
        Vocab.load(tmp_path / "latin1.json")
