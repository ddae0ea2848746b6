"""Text preprocessing: normalizers, tokenizers, stop words, stemming, lemmatization, vocabularies.

The usual entry points::

    from rnnkit.text import Pipeline, Vocab

    pipe = Pipeline.from_config(["html", "urls", "users", "lower", "elongation", "tweet"])
    vocab = Vocab.build((pipe(t) for t in texts), min_freq=2)
    ids = vocab.encode(pipe("Sooo happy :) http://t.co/x"))

Sparse document features (one-hot, bag of words, TF-IDF through scikit-learn) live in
:mod:`rnnkit.text.features`, imported on demand because scikit-learn is slow to import.
Nothing here reaches the network on import: the stop-word and WordNet data sets are fetched
only when a step that needs them is built without an explicit source.
"""

from rnnkit.text.lemmatize import SimplemmaLemmatizer, WordNetLemmatizer, make_lemmatizer
from rnnkit.text.normalize import NUMBER_TOKEN, URL_TOKEN, USER_TOKEN, ReduceElongation
from rnnkit.text.pipeline import (
    DEFAULT_TWEET_PIPELINE,
    Pipeline,
    StepSpec,
    available_steps,
    register_step,
)
from rnnkit.text.stem import Stemmer
from rnnkit.text.stopwords import StopwordFilter, load_stopwords
from rnnkit.text.tokenize import (
    CharTokenizer,
    SplitTokenizer,
    Tokenizer,
    TweetTokenizer,
    WordTokenizer,
)
from rnnkit.text.vocab import BOS, DEFAULT_SPECIALS, EOS, PAD, UNK, Vocab

__all__ = [
    "BOS",
    "DEFAULT_SPECIALS",
    "DEFAULT_TWEET_PIPELINE",
    "EOS",
    "NUMBER_TOKEN",
    "PAD",
    "UNK",
    "URL_TOKEN",
    "USER_TOKEN",
    "CharTokenizer",
    "Pipeline",
    "ReduceElongation",
    "SimplemmaLemmatizer",
    "SplitTokenizer",
    "Stemmer",
    "StepSpec",
    "StopwordFilter",
    "Tokenizer",
    "TweetTokenizer",
    "Vocab",
    "WordNetLemmatizer",
    "WordTokenizer",
    "available_steps",
    "load_stopwords",
    "make_lemmatizer",
    "register_step",
]
