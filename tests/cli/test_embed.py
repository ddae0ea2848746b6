"""``rnnkit embed train|eval|neighbors|analogy|plot`` through the command line."""

import json
import os

import numpy as np
import pytest
from gensim.models import KeyedVectors  # type: ignore[import-untyped]

from rnnkit.cli import main
from rnnkit.embeddings.vectors import Vectors
from tests.embeddings.test_train import toy_corpus

PNG = b"\x89PNG\r\n\x1a\n"


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code or 0, out, err


def analogy_vectors():
    """Vectors built so that king − man + woman is exactly queen; the rest random."""
    rng = np.random.default_rng(0)
    royal, male, female = rng.standard_normal((3, 6))
    words = ["man", "woman", "king", "queen"] + [f"w{i}" for i in range(12)]
    base = [male, female, royal + male, royal + female]
    return Vectors(words, np.vstack([*base, rng.standard_normal((12, 6)) * 2]))


@pytest.mark.parametrize(
    ("method", "extra"),
    [
        ("ppmi-svd", []),
        ("glove", ["--epochs", "30", "--set", "batch_size=64", "--set", "x_max=10"]),
        ("skipgram", ["--epochs", "2", "--set", "workers=1"]),
    ],
)
def test_train_writes_loadable_vectors(tmp_path, capsys, method, extra):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s).upper() for s in toy_corpus(200)) + "\n")
    out = tmp_path / "run"
    argv = ["embed", "train", "--method", method, "--corpus", str(corpus), "--out", str(out)]
    argv += ["--dim", "4", "--min-count", "2", "--window", "3", "--lowercase", "--json", *extra]
    code, stdout, err = run(argv, capsys)
    assert code == 0, err
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["method"] == method and summary["tokens"] == 1600
    assert summary["vocabulary"] == 10 and summary["words_per_second"] > 0
    if method != "ppmi-svd":  # per-epoch progress lines (stderr is not a terminal here)
        assert f"{method} epoch 2/" in err and "/s" in err
    for loaded in (Vectors.load(out), Vectors.load(out / "vectors.txt")):
        assert loaded.dim == 4 and "cat" in loaded and "CAT" not in loaded
    if method == "glove":
        assert " loss " in err or ", loss " in err


def test_train_bad_option_is_one_line_exit_2(tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\n")
    argv = ["embed", "train", "--method", "glove", "--corpus", str(corpus), "--out", "x"]
    for bad, message in [("x_max=big", "takes a float"), ("negative=5", "no option negative")]:
        code, _, err = run([*argv, "--set", bad], capsys)
        assert code == 2 and message in err and err.count("\n") == 1


def test_neighbors_and_analogy(tmp_path, capsys):
    path = analogy_vectors().save(tmp_path / "v.txt")
    code, out, _ = run(["embed", "analogy", str(path), "king", "man", "woman", "-k", "3"], capsys)
    kv = KeyedVectors.load_word2vec_format(str(path))
    want = kv.most_similar(positive=["king", "woman"], negative=["man"], topn=3)
    assert code == 0 and want[0][0] == "queen"
    assert [line.split("\t")[0] for line in out.splitlines()] == [w for w, _ in want]
    code, out, _ = run(["embed", "neighbors", str(path), "king", "-k", "4", "--json"], capsys)
    got = json.loads(out)
    want = kv.most_similar("king", topn=4)
    assert [g["word"] for g in got] == [w for w, _ in want]
    np.testing.assert_allclose([g["score"] for g in got], [s for _, s in want], rtol=1e-5)


def test_analogy_needs_three_known_words(tmp_path, capsys):
    path = analogy_vectors().save(tmp_path / "v.txt")
    code, _, err = run(["embed", "analogy", str(path), "king", "man"], capsys)
    assert code == 2 and "three words" in err
    code, _, err = run(["embed", "analogy", str(path), "king", "man", "robot"], capsys)
    assert code == 2 and "'robot' is not in the vocabulary" in err


def test_neighbors_of_a_word_in_another_case_suggests_it(tmp_path, capsys):
    path = analogy_vectors().save(tmp_path / "v.txt")
    code, out, err = run(["embed", "neighbors", str(path), "King"], capsys)
    assert code == 2 and out == ""
    last = err.splitlines()[-1]
    assert last == "rnnkit: error: 'King' is not in the vocabulary (16 words); did you mean 'king'?"


def test_eval_on_own_files_matches_gensim(tmp_path, capsys):
    rng = np.random.default_rng(4)
    words = [f"w{i}" for i in range(40)]
    vectors = Vectors(words, rng.standard_normal((40, 5)))
    path = vectors.save(tmp_path / "v.txt")
    questions = tmp_path / "q.txt"
    lines = [": capital-x"] + [" ".join(rng.choice(words, 4, replace=False)) for _ in range(30)]
    lines += [": gram-y", "w1 w2 w3 unknown"] + [
        " ".join(rng.choice(words, 4, replace=False)) for _ in range(30)
    ]
    questions.write_text("\n".join(lines) + "\n")
    pairs = tmp_path / "p.tsv"
    pairs.write_text("".join(f"w{i}\tw{i + 1}\t{rng.random() * 10:.2f}\n" for i in range(30)))
    argv = ["embed", "eval", str(path), "--analogies", str(questions), "--pairs", f"mine={pairs}"]
    code, out, err = run([*argv, "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    kv = KeyedVectors.load_word2vec_format(str(path))
    score, sections = kv.evaluate_word_analogies(str(questions), restrict_vocab=300000)
    total = sections[-1]
    assert report["analogies"]["overall"]["correct"] == len(total["correct"])
    assert report["analogies"]["overall"]["covered"] == 60
    assert report["analogies"]["overall"]["oov"] == 1
    assert report["analogies"]["overall"]["accuracy"] == pytest.approx(score)
    (_, (rho, _), _) = kv.evaluate_word_pairs(str(pairs), restrict_vocab=300000)
    assert report["pairs"]["mine"]["spearman"] == pytest.approx(rho)
    code, out, _ = run(argv, capsys)  # the table
    assert code == 0 and "capital-x" in out and "gram-y" in out and "mine" in out


def test_plot_map_and_offsets(tmp_path, capsys):
    path = analogy_vectors().save(tmp_path / "v.txt")
    argv = ["embed", "plot", str(path), "--out", str(tmp_path / "m.png")]
    code, _, err = run([*argv, "--words", "king,queen,man", "--words", "woman"], capsys)
    assert code == 0, err
    assert (tmp_path / "m.png").read_bytes().startswith(PNG)
    offsets = ["--pairs", "man:woman,king:queen", "--out", str(tmp_path / "o.png")]
    code, _, err = run(["embed", "plot", str(path), *offsets], capsys)
    assert code == 0, err
    assert (tmp_path / "o.png").read_bytes().startswith(PNG)
    code, _, err = run([*argv, "--pairs", "man-woman"], capsys)
    assert code == 2 and "is not A:B" in err
    code, _, err = run([*argv, "--projection", "umap"], capsys)
    assert code == 2 and "projection" in err


def _glove_cached() -> bool:
    from rnnkit.data.datasets import is_cached

    return is_cached("glove-6b-50d") and is_cached("emb-eval")


needs_glove = pytest.mark.skipif(not _glove_cached(), reason="glove-6b-50d is not cached")


@needs_glove
def test_king_man_woman_is_queen_in_glove_6b(capsys):
    code, out, _ = run(["embed", "analogy", "glove-6b-50d", "king", "man", "woman"], capsys)
    assert code == 0 and out.splitlines()[0].startswith("queen\t")


@needs_glove
def test_eval_real_vectors_matches_gensim(tmp_path, capsys):
    """The 20,000 first words of glove-6b-50d on one section and both pair sets (the full
    evaluation takes minutes: see the next test)."""
    from rnnkit.embeddings.evaluate import emb_eval_file

    path = Vectors.load("glove-6b-50d").restrict(20000).save(tmp_path / "v.bin", "word2vec-binary")
    text = emb_eval_file("questions-words.txt").read_text().split(": ")
    section = tmp_path / "family.txt"
    section.write_text(": " + next(t for t in text if t.startswith("family")))
    argv = ["embed", "eval", str(path), "--analogies", str(section), "--json"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    report = json.loads(out)
    kv = KeyedVectors.load_word2vec_format(str(path), binary=True)
    score, sections = kv.evaluate_word_analogies(str(section), restrict_vocab=300000)
    assert report["analogies"]["overall"]["accuracy"] == pytest.approx(score)
    covered = len(sections[-1]["correct"]) + len(sections[-1]["incorrect"])
    assert report["analogies"]["overall"]["covered"] == covered > 300
    for name, file in (("wordsim353", "wordsim353.tsv"), ("simlex999", "simlex999.txt")):
        (_, (rho, _), _) = kv.evaluate_word_pairs(str(emb_eval_file(file)), restrict_vocab=300000)
        assert report["pairs"][name]["spearman"] == pytest.approx(rho, abs=1e-6)


@needs_glove
@pytest.mark.skipif(not os.environ.get("RNNKIT_FULL_EVAL"), reason="set RNNKIT_FULL_EVAL=1 (1 min)")
def test_eval_glove_6b_equals_gensim_figures(capsys):
    """The figures gensim 4.4.0 computes on the same vectors (issue 7's must-show)."""
    code, out, _ = run(["embed", "eval", "glove-6b-50d", "--json"], capsys)
    assert code == 0
    report = json.loads(out)
    overall = report["analogies"]["overall"]
    assert overall["covered"] == 19486 and overall["correct"] == 9036
    assert round(100 * overall["accuracy"], 2) == 46.37
    assert round(report["pairs"]["wordsim353"]["spearman"], 3) == 0.503
    assert round(report["pairs"]["simlex999"]["spearman"], 3) == 0.263
