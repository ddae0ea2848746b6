"""``rnnkit embed``: train word vectors, evaluate them, look at neighbours, analogies, maps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rnnkit.cli.common import JsonFlag, console, embed_app

if TYPE_CHECKING:
    from rnnkit.embeddings.vectors import Method as AnalogyMethod

Vectors_ = Annotated[
    str,
    typer.Argument(help="Vectors: a file (word2vec text/binary, GloVe), a directory, or a name."),
]
Method = Annotated[str, typer.Option("--method", help="3cosadd or 3cosmul.")]


@embed_app.command("train")
def embed_train(
    method: Annotated[
        str,
        typer.Option(help="skipgram, cbow, fasttext (gensim), glove, ppmi-svd or count-svd."),
    ],
    corpus: Annotated[
        str,
        typer.Option(
            help="A text file (one sentence per line, tokens split on spaces) or NAME:SPLIT."
        ),
    ],
    out: Annotated[Path, typer.Option(help="The directory to write the vectors into.")],
    dim: Annotated[int, typer.Option(min=1, help="Vector dimension.")] = 100,
    window: Annotated[
        int | None, typer.Option(min=1, help="Context window (default: the method's).")
    ] = None,
    min_count: Annotated[int, typer.Option(min=1, help="Drop words seen fewer times.")] = 5,
    epochs: Annotated[
        int | None, typer.Option(min=1, help="Epochs (default: the method's).")
    ] = None,
    lowercase: Annotated[bool, typer.Option(help="Lower-case the corpus first.")] = False,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    options: Annotated[
        list[str] | None,
        typer.Option("--set", help="A method's own option KEY=VALUE, e.g. x_max=10 (repeatable)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Train word vectors on a corpus; writes vectors.txt (word2vec text), vectors.npy +
    vocab.txt and train.json into --out. Shows a progress bar with words/s (pairs/s for GloVe).

    Example: rnnkit embed train --method skipgram --corpus ptb:train --out runs/ptb-sg
    """
    from rnnkit.embeddings.progress import EpochBar
    from rnnkit.embeddings.train import parse_options, train_to_dir

    given = parse_options(method, options or [])
    chosen = {"window": window, "epochs": epochs, "seed": seed}
    given |= {"dim": dim, "min_count": min_count, "lowercase": lowercase}
    given |= {k: v for k, v in chosen.items() if v is not None}
    with EpochBar() as bar:
        vectors, stats = train_to_dir(corpus, method, out, progress=bar, **given)
    summary = {
        "method": stats.method,
        "tokens": stats.tokens,
        "vocabulary": stats.vocabulary,
        "seconds": round(stats.seconds, 3),
        "words_per_second": round(stats.words_per_second),
        "out": str(out),
    }
    if as_json:
        print(json.dumps(summary))
        return
    console.print(
        f"{method}: {stats.vocabulary:,} words × {vectors.dim} from {stats.tokens:,} tokens "
        f"in {stats.seconds:.1f} s ({stats.words_per_second:,.0f} words/s) → {out}",
        highlight=False,
    )


@embed_app.command("eval")
def embed_eval(
    vectors: Vectors_,
    analogies: Annotated[
        Path | None, typer.Option(help="Your own analogy file (questions-words format).")
    ] = None,
    pairs: Annotated[
        list[str] | None,
        typer.Option(help="Your own pair file as NAME=FILE (word, word, score; repeatable)."),
    ] = None,
    method: Method = "3cosadd",
    restrict: Annotated[
        int, typer.Option(min=1, help="Only the first N words count (gensim's restrict_vocab).")
    ] = 300_000,
    as_json: JsonFlag = False,
) -> None:
    """Analogy accuracy (questions-words: overall, semantic, syntactic, per section, OOV
    counted) and Spearman ρ on WordSim-353 and SimLex-999, or on your own files.

    Example: rnnkit embed eval glove-6b-50d
    """
    from rnnkit.embeddings.evaluate import evaluate, parse_pair_files
    from rnnkit.embeddings.vectors import Vectors

    loaded = Vectors.load(vectors)
    report = evaluate(loaded, analogies, parse_pair_files(pairs), _method(method), restrict)
    if as_json:
        print(json.dumps(report.to_dict()))
        return
    print(report.format())


@embed_app.command("neighbors")
def embed_neighbors(
    vectors: Vectors_,
    word: Annotated[str, typer.Argument(help="The query word.")],
    k: Annotated[int, typer.Option("-k", min=1, help="How many neighbours.")] = 10,
    as_json: JsonFlag = False,
) -> None:
    """The k words nearest to WORD by cosine similarity.

    Example: rnnkit embed neighbors glove-6b-50d frog -k 5
    """
    from rnnkit.embeddings.vectors import Vectors

    _print_words(Vectors.load(vectors).neighbors(word, k), as_json)


@embed_app.command("analogy")
def embed_analogy(
    vectors: Vectors_,
    words: Annotated[list[str], typer.Argument(help="A B C: the words x nearest to A − B + C.")],
    k: Annotated[int, typer.Option("-k", min=1, help="How many answers.")] = 5,
    method: Method = "3cosadd",
    as_json: JsonFlag = False,
) -> None:
    """Answer "A is to B as x is to C" (A − B + C, the three words excluded), e.g.
    king − man + woman.

    Example: rnnkit embed analogy glove-6b-50d king man woman
    """
    from rnnkit.embeddings.vectors import Vectors
    from rnnkit.errors import ConfigError

    if len(words) != 3:
        raise ConfigError(f"an analogy takes three words (king man woman), got {len(words)}")
    base, minus, plus = words
    _print_words(Vectors.load(vectors).analogy(base, minus, plus, k, _method(method)), as_json)


@embed_app.command("plot")
def embed_plot(
    vectors: Vectors_,
    out: Annotated[Path, typer.Option(help="The PNG file to write.")] = Path("embeddings.png"),
    words: Annotated[
        list[str] | None,
        typer.Option(help="Words to place (comma-separated, repeatable); default the --top first."),
    ] = None,
    top: Annotated[int, typer.Option(min=3, help="Without --words: the N most frequent.")] = 100,
    projection: Annotated[str, typer.Option(help="pca or tsne.")] = "pca",
    pairs: Annotated[
        list[str] | None,
        typer.Option(help="Offset arrows instead of a map: A:B pairs (man:woman,king:queen)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of t-SNE.")] = 0,
) -> None:
    """A 2-D map of words (PCA or t-SNE) as PNG; with --pairs, arrows from each A to its B in
    the PCA plane of the pair words (gender or verb-tense offsets).

    Example: rnnkit embed plot glove-6b-50d --pairs man:woman,king:queen,uncle:aunt --out gender.png
    """
    from rnnkit.embeddings.plot import plot_words
    from rnnkit.embeddings.vectors import Vectors

    path = plot_words(Vectors.load(vectors), out, words, top, projection, pairs, seed)
    console.print(f"wrote {path}", highlight=False)


def _method(name: str) -> AnalogyMethod:
    from rnnkit.errors import ConfigError

    if name not in ("3cosadd", "3cosmul"):
        raise ConfigError(f"unknown analogy method {name!r}; use 3cosadd or 3cosmul")
    return "3cosmul" if name == "3cosmul" else "3cosadd"


def _print_words(found: list[tuple[str, float]], as_json: bool) -> None:
    if as_json:
        print(json.dumps([{"word": w, "score": s} for w, s in found], ensure_ascii=False))
        return
    for word, score in found:
        print(f"{word}\t{score:.4f}")
