"""Distant supervision: labels read off the text itself (Go et al. 2009; Felbo et al. 2017).

A marker that the writer put in the text (an emoji, an emoticon, a hashtag) says something about
it; removing the marker and asking a model to predict it gives a labelled set from raw text, on
which an encoder can be pretrained (DeepMoji, Felbo et al. 2017, with 64 emoji).

As DeepMoji does, a text with several distinct markers gives one example per marker (the same
text, every marker removed, each marker once as the label), and only the ``top`` most frequent
markers (each seen at least ``min_count`` times) are kept as labels.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rnnkit.data.records import TextExample
from rnnkit.errors import ConfigError

__all__ = ["MARKERS", "DistantResult", "distant_examples", "find_markers"]

# Emoji: the pictographic blocks (with skin-tone modifiers and the variation selector dropped
# from the label), and the older dingbats / miscellaneous symbols many emoji live in.
_EMOJI = re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF](?:[\U0001F3FB-\U0001F3FF\uFE0F])*")
_MODIFIERS = re.compile(r"[\U0001F3FB-\U0001F3FF\uFE0F]")
# Western emoticons, only as whole whitespace-separated tokens (so "http://" holds none).
_EMOTICON = re.compile(
    r"(?<!\S)(?:[:;=][\-o^']?[)\](\[dDpP/\\|*oO3]+|[)(\]\[dD][\-o^']?[:;=]|<3+|</3+|\^_*\^|"
    r"[xX][dD]+)(?!\S)"
)
_HASHTAG = re.compile(r"(?<![\w#])#(\w*[^\W\d_]\w*)")

MARKERS = ("emoji", "emoticon", "hashtag")


def find_markers(text: str, kind: str) -> list[str]:
    """The markers of ``kind`` in ``text``, in order of appearance, as labels (emoji without
    skin tones, emoticons as written, hashtags lower-cased with their ``#``)."""
    if kind == "emoji":
        return [_MODIFIERS.sub("", m.group(0)) for m in _EMOJI.finditer(text)]
    if kind == "emoticon":
        return [m.group(0) for m in _EMOTICON.finditer(text)]
    if kind == "hashtag":
        return ["#" + m.group(1).lower() for m in _HASHTAG.finditer(text)]
    raise ConfigError(f"unknown marker kind {kind!r}; choose one of {', '.join(MARKERS)}")


def _strip(text: str, kind: str) -> str:
    pattern = {"emoji": _EMOJI, "emoticon": _EMOTICON, "hashtag": _HASHTAG}[kind]
    return " ".join(pattern.sub(" ", text).split())


@dataclass(frozen=True)
class DistantResult:
    """The examples, the label counts (before the cut to ``top``), and how many texts held no
    marker."""

    examples: list[TextExample]
    counts: Counter[str]
    without_marker: int


def distant_examples(
    texts: Iterable[str], kind: str, top: int = 64, min_count: int = 1
) -> DistantResult:
    """Turn raw ``texts`` into ``(text without markers, marker)`` examples (module docstring)."""
    if top < 2:
        raise ConfigError(f"top must be >= 2 (a classifier needs two labels), got {top}")
    found: list[tuple[str, Sequence[str]]] = []
    counts: Counter[str] = Counter()
    without = 0
    for text in texts:
        markers = list(dict.fromkeys(find_markers(text, kind)))
        if not markers:
            without += 1
            continue
        stripped = _strip(text, kind)
        if stripped:
            found.append((stripped, markers))
            counts.update(markers)
    kept = {m for m, n in counts.most_common(top) if n >= min_count}
    examples = [TextExample(t, m) for t, markers in found for m in markers if m in kept]
    return DistantResult(examples, counts, without)
