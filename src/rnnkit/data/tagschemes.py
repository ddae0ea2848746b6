"""Chunk tag schemes: IOB1 → IOB2 → BIOES conversion, and which tag may follow which.

Schemes (Ramshaw & Marcus 1995; Tjong Kim Sang & Veenstra 1999; Ratinov & Roth 2009):

- ``iob1``: ``I-X`` inside a chunk; ``B-X`` only where a chunk follows a chunk of the same type
  (CoNLL-2003 as distributed).
- ``iob2``: every chunk starts with ``B-X``, continues with ``I-X``.
- ``bioes``: ``S-X`` single-token chunk, ``B-X … E-X`` longer ones (also called IOBES).
- ``none``: plain tags (POS): no structure, every transition allowed.

A tag is ``PREFIX-TYPE`` (the type may contain ``-``) or ``O``; tags of other shapes count as
``O`` for the constraints.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rnnkit.errors import ConfigError
from rnnkit.nn.crf import Constraints

__all__ = [
    "SCHEMES",
    "allowed",
    "constraints",
    "convert",
    "detect_scheme",
    "iob1_to_iob2",
    "iob2_to_bioes",
    "is_valid",
    "split_tag",
]

SCHEMES = ("none", "iob1", "iob2", "bioes")
_PREFIXES = {"iob1": "BI", "iob2": "BI", "bioes": "BIES"}


def split_tag(tag: str) -> tuple[str, str]:
    """``("B", "PER")`` for ``"B-PER"``; ``("O", "")`` for ``"O"`` and other unprefixed tags."""
    if len(tag) > 2 and tag[1] == "-" and tag[0] in "BIES":
        return tag[0], tag[2:]
    return "O", ""


def _check(scheme: str) -> None:
    if scheme not in SCHEMES:
        raise ConfigError(f"tag scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")


def iob1_to_iob2(tags: Sequence[str]) -> list[str]:
    """IOB1 to IOB2: an ``I-X`` that starts a chunk becomes ``B-X``."""
    out: list[str] = []
    prev = ("O", "")
    for tag in tags:
        p, kind = split_tag(tag)
        if p == "I" and (prev[0] == "O" or prev[1] != kind):
            tag = f"B-{kind}"
        out.append(tag)
        prev = (p, kind)
    return out


def iob2_to_bioes(tags: Sequence[str]) -> list[str]:
    """IOB2 to BIOES: the last token of a chunk becomes ``E-X`` (``S-X`` if it is alone)."""
    out: list[str] = []
    for i, tag in enumerate(tags):
        p, kind = split_tag(tag)
        nxt = split_tag(tags[i + 1]) if i + 1 < len(tags) else ("O", "")
        continues = nxt == ("I", kind)
        if p == "B":
            out.append(tag if continues else f"S-{kind}")
        elif p == "I":
            out.append(tag if continues else f"E-{kind}")
        else:
            out.append(tag)
    return out


def bioes_to_iob2(tags: Sequence[str]) -> list[str]:
    """BIOES to IOB2: ``S-X`` becomes ``B-X``, ``E-X`` becomes ``I-X``."""
    out = []
    for tag in tags:
        p, kind = split_tag(tag)
        out.append({"S": f"B-{kind}", "E": f"I-{kind}"}.get(p, tag))
    return out


def convert(tags: Sequence[str], source: str, target: str) -> list[str]:
    """Convert ``tags`` from scheme ``source`` to ``target`` (IOB1 → IOB2 → BIOES and back to
    IOB2; ``none`` only to ``none``)."""
    _check(source)
    _check(target)
    if source == target:
        return list(tags)
    if "none" in (source, target):
        raise ConfigError(f"cannot convert tags from {source} to {target}")
    if target == "iob1":
        raise ConfigError("conversion to iob1 is not supported; use iob2 or bioes")
    iob2 = iob1_to_iob2(tags) if source == "iob1" else list(tags)
    if source == "bioes":
        iob2 = bioes_to_iob2(tags)
    return iob2_to_bioes(iob2) if target == "bioes" else iob2


def allowed(prev: str | None, tag: str | None, scheme: str) -> bool:
    """May ``tag`` follow ``prev`` in ``scheme``? ``prev=None``: sentence start; ``tag=None``:
    sentence end."""
    _check(scheme)
    if scheme == "none":
        return True
    pp, pk = split_tag(prev) if prev is not None else ("O", "")
    tp, tk = split_tag(tag) if tag is not None else ("O", "")
    if tp not in _PREFIXES[scheme]:
        tp = "O"
    if pp not in _PREFIXES[scheme]:
        pp = "O"
    inside = pp != "O" and pk == tk
    if scheme == "iob2":
        return tp != "I" or (pp in "BI" and inside)
    if scheme == "iob1":
        return tp != "B" or (pp in "BI" and inside)
    # bioes: after B or I the chunk must go on (I or E of the same type); only then may I or E come
    open_chunk = pp in "BI"
    if tag is None:
        return not open_chunk
    if tp in "IE":
        return open_chunk and inside
    return not open_chunk


def constraints(tags: Sequence[str], scheme: str) -> Constraints:
    """The allowed start / transition / end matrix of ``tags`` (``K`` tag names) for a CRF."""
    _check(scheme)
    k = len(tags)
    start = torch.tensor([allowed(None, t, scheme) for t in tags], dtype=torch.bool)
    end = torch.tensor([allowed(t, None, scheme) for t in tags], dtype=torch.bool)
    trans = torch.tensor(
        [[allowed(a, b, scheme) for b in tags] for a in tags], dtype=torch.bool
    ).view(k, k)
    return Constraints(start, trans, end)


def is_valid(tags: Sequence[str], scheme: str) -> bool:
    """Does the sequence obey ``scheme`` from its start to its end?"""
    prev: str | None = None
    for tag in [*tags, None]:
        if not allowed(prev, tag, scheme):
            return False
        prev = tag
    return True


def detect_scheme(tag_set: Sequence[str]) -> str:
    """``"none"`` when no tag is ``B-``/``I-``/``E-``/``S-`` prefixed; ``"bioes"`` when one has
    ``E-`` or ``S-``; else ``"iob2"``. (IOB1 cannot be told from a tag set: name it.)"""
    prefixes = {split_tag(t)[0] for t in tag_set}
    if prefixes <= {"O"}:
        return "none"
    return "bioes" if prefixes & {"E", "S"} else "iob2"
