"""Tokenizers: ``str -> list[str]``.

- :class:`TweetTokenizer`: one compiled regular expression for social-media text; keeps URLs,
  ``@handles``, ``#hashtags``, e-mail addresses, emoticons (``:-)``, ``<3``, ``^_^``), emoji
  (with skin tones, ZWJ sequences, flags and keycaps), placeholders (``<url>``) and elongated
  words (``"ooooh"``) as single tokens.
- :class:`WordTokenizer`: Penn Treebank conventions (``"don't"`` → ``do n't``) through NLTK's
  ``TreebankWordTokenizer``, after splitting sentences with NLTK's Punkt algorithm
  (Kiss & Strunk 2006) given a built-in abbreviation list, so no NLTK data is needed.
- :class:`CharTokenizer`: characters (code points, or grapheme clusters).
- :class:`SplitTokenizer`: :meth:`str.split`, for text that is already tokenized (PTB).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

from rnnkit.text.normalize import PLACEHOLDER_PATTERN, URL_PATTERN, USER_PATTERN

Tokenizer = Callable[[str], list[str]]

# Emoji (Unicode TS #51): pictographic blocks, plus the BMP symbols that have emoji forms.
# Letters and digits are left out (U+2139 ℹ, the dingbat digits ❶-➓): they belong to words.
_PICTO = (
    "\U0001f000-\U0001f0ff\U0001f10d-\U0001f1ad\U0001f200-\U0001f2ff"
    "\U0001f300-\U0001f3fa\U0001f400-\U0001f64f\U0001f680-\U0001f6ff"
    "\U0001f7e0-\U0001f7ff\U0001f900-\U0001f9ff\U0001fa70-\U0001faff"
    "\u203c\u2049\u2122\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf"
    "\u23e9-\u23f3\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe"
    "\u2600-\u2775\u2794-\u27bf\u2934\u2935\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55"
    "\u3030\u303d\u3297\u3299"
)
_EMOJI_ELEMENT = rf"[{_PICTO}][\U0001f3fb-\U0001f3ff]?\ufe0f?[\U000e0020-\U000e007f]*"
EMOJI_PATTERN = (
    r"[\U0001f1e6-\U0001f1ff]{2}"  # flag: a pair of regional indicators
    r"|[0-9#*]\ufe0f?\u20e3"  # keycap
    rf"|{_EMOJI_ELEMENT}(?:\u200d{_EMOJI_ELEMENT})*"  # ZWJ sequence
)
_EMOTICON_PATTERN = (
    # western, eyes first: :-) ;P =D :'( >:( :-/ :)))
    r"[<>}\]]?[:;=][-o^'*]?(?:[)\](\[/\\|*}{3]+|[dDpPoOsSxX]+(?![^\W\d_]))"
    # reversed, only after a space: (: (-;
    r"|(?<!\S)[(][-']?[:;=](?!\w)"
    r"|</?3+"  # hearts
    r"|(?:\^[_.-]*\^|-_+-|[oO]_[oO]|T_T|>_<|;_;)(?!\w)"  # eastern
)
TWEET_PATTERN = "|".join(
    (
        PLACEHOLDER_PATTERN,
        URL_PATTERN,
        r"[\w.+-]++@[\w-]+(?:\.[\w-]+)+",  # e-mail (possessive: no backtracking per word)
        USER_PATTERN,
        r"#\w+",  # hashtag
        r"(?<!\w)\$[A-Za-z]{1,6}(?![\w$])",  # cashtag
        EMOJI_PATTERN,
        _EMOTICON_PATTERN,
        r"[^\W\d_]\.(?:[^\W\d_]\.)+",  # acronym: U.S. e.g.
        r"\d+(?:[.,:/-]\d+)*[^\W_]*",  # number: 3.50 1,000 10:30pm 3-4 2nd
        r"[^\W_]+(?:['’_-][^\W_]+)*",  # word: don't, self-driving, snake_case, ooooh
        r"\.{2,}|…",  # ellipsis
        r"[!?]+",  # !!! ?!
        r"-+>|<-+",  # arrows
        r"\S",
    )
)


class TweetTokenizer:
    """Regular-expression tokenizer for tweets and other informal text.

    The text is matched left to right against one alternation, tried in this order:
    placeholder, URL, e-mail, ``@user``, ``#hashtag``, ``$CASHTAG``, emoji, emoticon, acronym
    (``U.S.``), number, word (with inner apostrophes/hyphens), ellipsis, ``!?`` run, arrow, any
    other non-space character. Case is preserved (lowercase with a normalizer first);
    elongations stay one token (``"sooooo"``), to be shortened by
    :class:`~rnnkit.text.normalize.ReduceElongation`.

    Compared with NLTK's ``TweetTokenizer`` it keeps ``!!!``/``?!`` runs, ``$CASHTAGS``,
    acronyms, times (``8:30pm``), ZWJ emoji sequences and flags as one token each, does not
    take ``:P`` out of ``DEN:PHX``, and is more than ten times faster on the ``tweets`` data
    (``benchmarks/RESULTS.md``). Whitespace-separated chunks made only of letters and digits
    are emitted without running the regular expression.
    """

    _regex = re.compile(TWEET_PATTERN)

    def __call__(self, text: str) -> list[str]:
        # No token spans whitespace, and every pattern gives a run of letters and digits as
        # one token, so such chunks skip the regular expression (several times faster).
        tokens: list[str] = []
        append, extend, findall = tokens.append, tokens.extend, self._regex.findall
        for chunk in text.split():
            if chunk.isalnum():
                append(chunk)
            else:
                extend(findall(chunk))
        return tokens

    def __repr__(self) -> str:
        return "TweetTokenizer()"


# Abbreviations whose period does not end a sentence (lowercase, without the final period).
_ABBREVIATION_TEXT = (
    "mr mrs ms dr prof sr jr st mt ft vs etc e.g i.e cf al inc ltd co corp jan feb mar apr "
    "jun jul aug sep sept oct nov dec a.m p.m u.s u.k no vol fig gen gov sen rep col lt sgt"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_TEXT.split())


class WordTokenizer:
    """Penn Treebank word tokenizer (NLTK's ``TreebankWordTokenizer``).

    Splits contractions (``can't`` → ``ca n't``), separates punctuation, turns double quotes
    into ``````/``''``. The Treebank rules split only a sentence-final period, so the text is
    first cut into sentences with NLTK's Punkt algorithm using :data:`_ABBREVIATIONS` instead
    of trained parameters (``nltk.word_tokenize`` would need the ``punkt`` data download).
    Placeholders (``<url>``) are kept whole.

    Args:
        split_sentences: cut sentences first; ``False`` when each input is one sentence.
    """

    def __init__(self, split_sentences: bool = True) -> None:
        from nltk.tokenize import TreebankWordTokenizer
        from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

        self.split_sentences = split_sentences
        self._words = TreebankWordTokenizer()
        params = PunktParameters()
        params.abbrev_types = set(_ABBREVIATIONS)
        self._sentences = PunktSentenceTokenizer(params)
        self._placeholder = re.compile(f"({PLACEHOLDER_PATTERN})")

    def __call__(self, text: str) -> list[str]:
        sentences = self._sentences.tokenize(text) if self.split_sentences else [text]
        tokens: list[str] = []
        for sentence in sentences:
            for i, piece in enumerate(self._placeholder.split(sentence)):
                if i % 2:
                    tokens.append(piece)
                elif piece and not piece.isspace():
                    tokens.extend(self._words.tokenize(piece))
        return tokens

    def __repr__(self) -> str:
        return f"WordTokenizer(split_sentences={self.split_sentences})"


class CharTokenizer:
    """Characters as tokens, for character-level models.

    Args:
        graphemes: split into extended grapheme clusters (Unicode TS #29: ``"e\u0301"`` and
            ``"👍🏽"`` stay whole) with the ``regex`` package instead of code points.
        keep_space: keep whitespace characters as tokens (needed to generate text).
    """

    def __init__(self, graphemes: bool = False, keep_space: bool = True) -> None:
        self.graphemes = graphemes
        self.keep_space = keep_space
        self._clusters: Any = None
        if graphemes:
            regex = importlib.import_module("regex")  # no type stubs; NLTK depends on it
            self._clusters = regex.compile(r"\X" if keep_space else r"(?=\S)\X")

    def __call__(self, text: str) -> list[str]:
        if self._clusters is not None:
            found: list[str] = self._clusters.findall(text)
            return found
        if self.keep_space:
            return list(text)
        return [c for c in text if not c.isspace()]

    def __repr__(self) -> str:
        return f"CharTokenizer(graphemes={self.graphemes}, keep_space={self.keep_space})"


class SplitTokenizer:
    """Split on runs of whitespace (:meth:`str.split`): for text that is already tokenized."""

    def __call__(self, text: str) -> list[str]:
        return text.split()

    def __repr__(self) -> str:
        return "SplitTokenizer()"


__all__ = [
    "EMOJI_PATTERN",
    "TWEET_PATTERN",
    "CharTokenizer",
    "SplitTokenizer",
    "Tokenizer",
    "TweetTokenizer",
    "WordTokenizer",
]
