from pathlib import Path

import numpy as np
import pytest

from rnnkit.embeddings.evaluate import (
    evaluate,
    evaluate_analogies,
    evaluate_pairs,
    parse_pair_files,
    read_analogies,
    read_pairs,
)
from rnnkit.embeddings.vectors import Vectors
from rnnkit.errors import ConfigError, DataFormatError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "embeddings"
ANALOGIES = FIXTURES / "analogies.txt"
PAIRS = FIXTURES / "pairs.tsv"
WORDS = ["the", "athens", "greece", "paris", "france", "rome", "italy", "cat", "cats", "dog"]
WORDS += ["dogs", "Cat", "of", "and"]


def structured_vectors():
    """Sums of orthonormal directions (all of norm √2), so that ``b − a + c`` of each covered
    question is exactly the answer, also after scaling to unit length."""
    axes = ["athens", "paris", "rome", "city", "land", "cat", "dog", "one", "many"]
    axes += ["the", "of", "and", "noise"]
    e = dict(zip(axes, np.eye(len(axes)), strict=True))
    rows = {w: e[w] + e["noise"] for w in ("the", "of", "and")}
    for city, land in (("athens", "greece"), ("paris", "france"), ("rome", "italy")):
        rows[city], rows[land] = e[city] + e["city"], e[city] + e["land"]
    for one, many in (("cat", "cats"), ("dog", "dogs")):
        rows[one], rows[many] = e[one] + e["one"], e[one] + e["many"]
    rows["Cat"] = rows["cat"]
    return Vectors(WORDS, np.stack([rows[w] for w in WORDS]))


def test_read_fixtures():
    qs = read_analogies(ANALOGIES)
    assert len(qs) == 6 and qs[0].section == "capital-common" and qs[0].line == 2
    assert qs[-1].words == ("cat", "cats", "zebra", "zebras")
    pairs = read_pairs(PAIRS)
    assert pairs[0] == ("cat", "dog", 7.5) and len(pairs) == 6


def test_analogy_counts_with_oov_and_sections():
    r = evaluate_analogies(structured_vectors(), ANALOGIES)
    assert (r.overall.correct, r.overall.covered, r.overall.oov) == (5, 5, 1)
    assert r.semantic.covered == 3 and r.syntactic.covered == 2 and r.syntactic.oov == 1
    assert [s.name for s in r.sections] == ["capital-common", "gram1-plural"]
    assert r.overall.accuracy == 1.0 and r.overall.total == 6
    d = r.to_dict()
    assert d["sections"][1]["oov"] == 1 and d["overall"]["accuracy"] == 1.0


def test_restrict_vocab_makes_questions_oov():
    # "dog"/"dogs" lie beyond the first 9 rows
    r = evaluate_analogies(structured_vectors(), ANALOGIES, restrict_vocab=9)
    assert r.syntactic.covered == 0 and r.syntactic.oov == 3 and r.semantic.covered == 3


def test_case_sensitive_leaves_capitalised_words_out():
    v = structured_vectors()
    folded = evaluate_analogies(v, ANALOGIES)
    exact = evaluate_analogies(v, ANALOGIES, case_insensitive=False)
    assert folded.overall.covered == exact.overall.covered  # "Cat" is a row of its own
    words = [w for w in WORDS if w != "Cat"]
    v2 = Vectors(words, np.stack([v[w] for w in words]))
    assert evaluate_analogies(v2, ANALOGIES, case_insensitive=False).overall.oov == 2


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("case_insensitive", [True, False])
def test_analogies_agree_with_gensim(tmp_path, seed, case_insensitive):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(40)] + ["W3", "W7"]
    v = Vectors(words, rng.standard_normal((len(words), 6)))
    lines = []
    for s in range(3):
        lines.append(f": {'gram' if s else ''}sec{s}")
        for _ in range(30):
            q = rng.choice(len(words) + 3, size=4, replace=False)
            lines.append(" ".join(words[i] if i < len(words) else f"oov{i}" for i in q))
    path = tmp_path / "q.txt"
    path.write_text("\n".join(lines) + "\n")
    ours = evaluate_analogies(v, path, restrict_vocab=35, case_insensitive=case_insensitive)
    kv = v.to_keyed_vectors()
    _, sections = kv.evaluate_word_analogies(
        str(path), restrict_vocab=35, case_insensitive=case_insensitive
    )
    total = sections[-1]
    assert ours.overall.correct == len(total["correct"])
    assert ours.overall.covered == len(total["correct"]) + len(total["incorrect"])
    assert ours.overall.total == 90
    for mine, theirs in zip(ours.sections, sections[:-1], strict=True):
        assert mine.correct == len(theirs["correct"])


def test_pairs_agree_with_gensim():
    v = structured_vectors()
    ours = evaluate_pairs(v, PAIRS)
    pearson, spearman, oov_ratio = v.to_keyed_vectors().evaluate_word_pairs(str(PAIRS))
    assert ours.spearman == pytest.approx(spearman.statistic, abs=1e-6)
    assert ours.pearson == pytest.approx(pearson.statistic, abs=1e-6)
    assert (ours.covered, ours.oov) == (5, 1)
    assert oov_ratio == pytest.approx(100 / 6)


def test_report_on_user_files():
    r = evaluate(structured_vectors(), ANALOGIES, {"mine": PAIRS})
    text = r.format()
    assert "gram1-plural" in text and "mine" in text
    assert r.to_dict()["pairs"]["mine"]["covered"] == 5


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("a b c d\n", "before the first", 1),
        (": s\na b c\n", "expected 4 words", 2),
        ("# nothing\n", "no analogy", None),
    ],
)
def test_bad_analogy_files(tmp_path, text, message, line):
    path = tmp_path / "q.txt"
    path.write_text(text)
    with pytest.raises(DataFormatError, match=message) as info:
        read_analogies(path)
    assert info.value.line == line


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [("a\tb\n", "3 tab-separated", 1), ("# c\na\tb\thigh\n", "not a number", 2)],
)
def test_bad_pair_files(tmp_path, text, message, line):
    path = tmp_path / "p.tsv"
    path.write_text(text)
    with pytest.raises(DataFormatError, match=message) as info:
        read_pairs(path)
    assert info.value.line == line


def test_pairs_all_oov_is_an_error(tmp_path):
    path = tmp_path / "p.tsv"
    path.write_text("x\ty\t1\nu\tv\t2\n")
    with pytest.raises(DataFormatError, match="only 0 pairs"):
        evaluate_pairs(structured_vectors(), path)
    with pytest.raises(DataFormatError, match="cannot read"):
        read_pairs(tmp_path / "missing.tsv")


def test_pair_files_from_the_command_line():
    assert parse_pair_files(None) is None and parse_pair_files([]) is None
    got = parse_pair_files(["men=data/men.tsv", "rw.tsv"])
    assert got == {"men": Path("data/men.tsv"), "rw": Path("rw.tsv")}
    for bad, message in [
        (["=x.tsv"], "NAME=FILE"),
        (["a="], "NAME=FILE"),
        (["a.tsv", "a=b"], "twice"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_pair_files(bad)
