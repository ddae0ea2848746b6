"""Stemming with NLTK's Porter (Porter 1980) and Snowball (Porter 2001) stemmers.

Neither needs NLTK data. Stems are lowercase; placeholders (``<url>``) are left as they are.
Results are memoised per word, since a corpus repeats a small set of word types.
"""

from __future__ import annotations

from typing import Any

from rnnkit.errors import ConfigError
from rnnkit.text.normalize import is_placeholder

ALGORITHMS = ("porter", "snowball")
#: rnnkit name → NLTK ``PorterStemmer`` mode.
PORTER_MODES = {
    "nltk": "NLTK_EXTENSIONS",
    "original": "ORIGINAL_ALGORITHM",
    "martin": "MARTIN_EXTENSIONS",
}
_CACHE_LIMIT = 1 << 20


def snowball_languages() -> tuple[str, ...]:
    """Languages of NLTK's Snowball stemmer (``"porter"`` excluded: use the Porter algorithm)."""
    from nltk.stem import SnowballStemmer

    return tuple(lang for lang in SnowballStemmer.languages if lang != "porter")


class Stemmer:
    """Token-list stemmer.

    Args:
        algorithm: ``"porter"``: NLTK's ``PorterStemmer``; ``"snowball"``: NLTK's
            ``SnowballStemmer`` (for English the "Porter2" algorithm).
        language: Snowball language (``english``, ``spanish``, …); Porter is English only.
        mode: Porter variant: ``"nltk"`` (NLTK's default: the 1980 algorithm plus NLTK's
            fixes, e.g. ``ties`` → ``tie``), ``"original"`` (exactly Porter 1980) or
            ``"martin"`` (Martin Porter's later reference implementation).
    """

    def __init__(
        self, algorithm: str = "porter", language: str = "english", mode: str = "nltk"
    ) -> None:
        from nltk.stem import PorterStemmer, SnowballStemmer

        if algorithm not in ALGORITHMS:
            raise ConfigError(
                f"stem: unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}"
            )
        impl: Any
        if algorithm == "porter":
            if language != "english":
                raise ConfigError(
                    f"stem: the Porter stemmer is English only; for {language!r} use "
                    '"algorithm": "snowball"'
                )
            if mode not in PORTER_MODES:
                raise ConfigError(
                    f"stem: unknown Porter mode {mode!r}; choose one of {', '.join(PORTER_MODES)}"
                )
            impl = PorterStemmer(getattr(PorterStemmer, PORTER_MODES[mode]))
        else:
            if language not in snowball_languages():
                raise ConfigError(
                    f"stem: Snowball has no {language!r} stemmer; choose one of "
                    f"{', '.join(snowball_languages())}"
                )
            impl = SnowballStemmer(language)
        self.algorithm = algorithm
        self.language = language
        self.mode = mode
        self._impl = impl
        self._cache: dict[str, str] = {}

    def stem(self, word: str) -> str:
        """Stem one word."""
        found = self._cache.get(word)
        if found is None:
            found = word if is_placeholder(word) else self._impl.stem(word)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[word] = found
        return found

    def __call__(self, tokens: list[str]) -> list[str]:
        stem = self.stem
        return [stem(t) for t in tokens]

    def to_config(self) -> dict[str, Any]:
        """Arguments that rebuild this stemmer."""
        return {"algorithm": self.algorithm, "language": self.language, "mode": self.mode}

    def __repr__(self) -> str:
        return f"Stemmer(algorithm={self.algorithm!r}, language={self.language!r})"


__all__ = ["ALGORITHMS", "PORTER_MODES", "Stemmer", "snowball_languages"]
