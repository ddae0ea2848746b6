"""String normalizers: ``str -> str`` functions applied before tokenization (or to each token).

Each normalizer is a plain callable so that a :class:`~rnnkit.text.pipeline.Pipeline` can chain
them; the ones with options are small classes. URLs, user handles and numbers can be replaced
by the placeholders ``<url>``, ``<user>`` and ``<num>``, which the tweet and word tokenizers
keep as one token and stemmers and lemmatizers leave alone (as in the GloVe Twitter
preprocessing of Pennington et al. 2014, which used ``<url>``, ``<user>``, ``<number>``).
"""

from __future__ import annotations

import html
import re
import unicodedata

from rnnkit.errors import ConfigError

URL_TOKEN = "<url>"
USER_TOKEN = "<user>"
NUMBER_TOKEN = "<num>"

#: A placeholder token: ``<`` + lowercase ASCII letters + ``>``.
PLACEHOLDER_PATTERN = r"<[a-z]+>"
# The patterns start with a character class, not a group or a lookbehind, which lets ``re``
# skip quickly to the places where they can match.
#: ``http(s)://`` or ``www.`` (any case) up to the next space, minus trailing punctuation.
URL_PATTERN = r"[hHwW](?:(?<=[hH])(?i:ttps?://)|(?<=[wW])(?i:ww\.))[^\s<>\"]*[^\s<>\"'.,;:!?)\]}]"
#: ``@name`` not preceded by an ASCII letter or digit (so e-mail addresses are not handles).
USER_PATTERN = r"@(?<![A-Za-z0-9_@]@)\w+"
#: A stand-alone number, with decimal/thousands/time/date separators: 3, 3.50, 1,000, 10:30, 3-4.
# "_" does not glue a number to its neighbour: the tweet tokenizer splits it off ("0_" → "0 _")
NUMBER_PATTERN = r"(?<![^\W_])[+-]?\d+(?:[.,:/-]\d+)*(?![^\W_])"

_PLACEHOLDER_RE = re.compile(PLACEHOLDER_PATTERN)
_URL_RE = re.compile(URL_PATTERN)
_USER_RE = re.compile(USER_PATTERN)
_NUMBER_RE = re.compile(NUMBER_PATTERN)
#: the heart emoticon as the tweet tokenizer reads it ("<3", "</3", "<333"): not a number
_HEART_RE = re.compile(r"(</?3+)")
_HASHTAG_RE = re.compile(r"(?<![\w&])#(?=\w)")
_SPECIAL_RE = re.compile(rf"({PLACEHOLDER_PATTERN})|[^\w\s]+|_+")
_DIGIT_RE = re.compile(r"\d")


def is_placeholder(token: str) -> bool:
    """Whether ``token`` is a placeholder such as ``<url>`` (token steps leave these alone)."""
    return token[:1] == "<" and _PLACEHOLDER_RE.fullmatch(token) is not None


def lowercase(text: str) -> str:
    """Lowercase with :meth:`str.lower` (Unicode-aware; ``"İ"`` becomes ``"i̇"``)."""
    return text.lower()


def unescape_html(text: str) -> str:
    """Turn HTML character references into characters: ``&amp;`` → ``&``, ``&lt;3`` → ``<3``.

    Tweets in most public corpora carry their text HTML-escaped.
    """
    return html.unescape(text) if "&" in text else text


def replace_urls(text: str) -> str:
    """Replace ``http(s)://…`` and ``www.…`` addresses with ``<url>``."""
    return _URL_RE.sub(URL_TOKEN, text)


def replace_users(text: str) -> str:
    """Replace ``@handle`` mentions with ``<user>`` (e-mail addresses are kept)."""
    return _USER_RE.sub(USER_TOKEN, text)


def replace_numbers(text: str) -> str:
    """Replace stand-alone numbers (``3``, ``-2``, ``3.50``, ``1,000``, ``10:30``) with ``<num>``.

    Digits inside words (``2day``, ``mp3``, ``10pm``) and hearts (``<3``) are kept.
    """
    if _DIGIT_RE.search(text) is None:  # most texts have no digit: skip the slower pattern
        return text
    parts = _HEART_RE.split(text)  # hearts at the odd indices
    return "".join(p if i % 2 else _NUMBER_RE.sub(NUMBER_TOKEN, p) for i, p in enumerate(parts))


def strip_hashtags(text: str) -> str:
    """Drop the ``#`` of hashtags, so ``#happy`` and ``happy`` become the same word."""
    return _HASHTAG_RE.sub("", text)


def normalize_whitespace(text: str) -> str:
    """Collapse every run of Unicode whitespace to one space and strip both ends."""
    return " ".join(text.split())


def remove_special(text: str) -> str:
    """Delete every character that is not a letter, digit or whitespace (placeholders stay).

    Removes punctuation, symbols, emoji and the underscore; ``"don't :) #1"`` → ``"dont  1"``.
    """
    return _SPECIAL_RE.sub(r"\1", text)


class _PunctuationTable(dict[int, int | None]):
    """``str.translate`` table deleting Unicode punctuation (categories P*), filled lazily."""

    def __missing__(self, code: int) -> int | None:
        value = None if unicodedata.category(chr(code)).startswith("P") else code
        self[code] = value
        return value


_PUNCTUATION = _PunctuationTable()


def remove_punctuation(text: str) -> str:
    """Delete Unicode punctuation (general categories Pc, Pd, Ps, Pe, Pi, Pf, Po).

    Symbols (``$``, ``+``, ``<``, ``>``, emoji) are kept, so placeholders survive;
    ``"don't!! #win"`` → ``"dont win"``.
    """
    return text.translate(_PUNCTUATION)


class ReduceElongation:
    """Shorten runs of one repeated character to ``max_repeat`` copies.

    ``"sooooo goooood!!!!"`` → ``"soo good!!"`` with the default ``max_repeat=2``, which maps
    most elongated English words onto their dictionary spelling (English has no letter tripled
    inside a word). ``max_repeat=3`` keeps elongation visible as NLTK's ``reduce_lengthening``
    does. Digits and whitespace are never shortened (``1000`` stays ``1000``).

    Args:
        max_repeat: the longest run kept; at least 1.
    """

    def __init__(self, max_repeat: int = 2) -> None:
        if isinstance(max_repeat, bool) or not isinstance(max_repeat, int) or max_repeat < 1:
            raise ConfigError(f"elongation: max_repeat must be an integer >= 1, got {max_repeat!r}")
        self.max_repeat = max_repeat
        # "(.)" rather than a class of allowed characters, and \1 spelt out rather than
        # \1{k,}: both are several times faster in `re`; the exceptions are decided on the
        # few runs found
        self._re = re.compile("(.)" + r"\1" * max_repeat + r"\1*", re.DOTALL)

    def _shorten(self, run: re.Match[str]) -> str:
        ch = run.group(1)
        if ch.isdecimal() or ch.isspace() or ch == "_":
            return run.group(0)
        return ch * self.max_repeat

    def __call__(self, text: str) -> str:
        return self._re.sub(self._shorten, text)

    def __repr__(self) -> str:
        return f"ReduceElongation(max_repeat={self.max_repeat})"


def reduce_elongation(text: str, max_repeat: int = 2) -> str:
    """Functional form of :class:`ReduceElongation`."""
    return ReduceElongation(max_repeat)(text)


__all__ = [
    "NUMBER_TOKEN",
    "URL_TOKEN",
    "USER_TOKEN",
    "ReduceElongation",
    "is_placeholder",
    "lowercase",
    "normalize_whitespace",
    "reduce_elongation",
    "remove_punctuation",
    "remove_special",
    "replace_numbers",
    "replace_urls",
    "replace_users",
    "strip_hashtags",
    "unescape_html",
]
