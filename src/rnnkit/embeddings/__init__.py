"""Word embeddings: training (word2vec, GloVe, SVD), vectors, evaluation and plots.

``train_vectors(corpus, method, **options) -> Vectors`` trains; ``Vectors.load`` reads word2vec
text or binary, GloVe text, an rnnkit vectors directory or ``glove-6b-50d``; ``evaluate``
scores analogies and word-pair similarity.
"""

from rnnkit.embeddings.evaluate import (
    AnalogyResult,
    PairResult,
    Report,
    evaluate,
    evaluate_analogies,
    evaluate_pairs,
)
from rnnkit.embeddings.progress import EpochBar, EpochReport
from rnnkit.embeddings.train import (
    METHODS,
    TrainStats,
    parse_options,
    save_trained,
    train_to_dir,
    train_vectors,
    train_vectors_with_stats,
)
from rnnkit.embeddings.vectors import Vectors

__all__ = [
    "METHODS",
    "AnalogyResult",
    "EpochBar",
    "EpochReport",
    "PairResult",
    "Report",
    "TrainStats",
    "Vectors",
    "evaluate",
    "evaluate_analogies",
    "evaluate_pairs",
    "parse_options",
    "save_trained",
    "train_to_dir",
    "train_vectors",
    "train_vectors_with_stats",
]
