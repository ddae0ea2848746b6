"""Vocabulary: a bijection between token strings and integer ids.

Special tokens come first, in the order given: with the default specials ``<pad>`` is 0 (the
padding id every batching function and embedding layer assumes), ``<unk>`` 1, ``<bos>`` 2,
``<eos>`` 3. Corpus tokens follow by decreasing count, ties broken by code-point order of the
strings, so the same counts give the same ids whatever order the corpus was read in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rnnkit.errors import ConfigError, DataFormatError, RnnkitError
from rnnkit.fileio import read_json, write_json

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
DEFAULT_SPECIALS: tuple[str, ...] = (PAD, UNK, BOS, EOS)
FORMAT = "rnnkit-vocab"
FORMAT_VERSION = 1


class Vocab:
    """Token ↔ id mapping with optional counts.

    Build one with :meth:`build` (from token lists) or :meth:`from_tokens` (a fixed list, e.g. a
    label set); the constructor takes the final token list, specials first.

    Args:
        tokens: every entry, ids ``0..len-1`` in order; no duplicates.
        specials: how many leading entries are special tokens (their names are in ``tokens``).
        counts: corpus count of each entry (specials count 0), or ``None``.

    Encoding a token that is not in the vocabulary gives ``unk_id``, the id of the ``<unk>``
    entry; a vocabulary without one (a label set) raises :class:`~rnnkit.errors.RnnkitError`.
    """

    def __init__(
        self, tokens: Sequence[str], specials: int = 0, counts: Sequence[int] | None = None
    ) -> None:
        self._itos: list[str] = list(tokens)
        self._stoi: dict[str, int] = {t: i for i, t in enumerate(self._itos)}
        if len(self._stoi) != len(self._itos):
            dupes = sorted(t for t, n in Counter(self._itos).items() if n > 1)
            raise ConfigError(f"vocabulary has duplicate entries: {dupes[:10]}")
        if not 0 <= specials <= len(self._itos):
            raise ConfigError(f"specials={specials} out of range for {len(self._itos)} entries")
        if PAD in self._stoi and self._stoi[PAD] != 0:
            raise ConfigError(f"{PAD} must have id 0, not {self._stoi[PAD]}")
        if counts is not None and len(counts) != len(self._itos):
            raise ConfigError(f"{len(counts)} counts for {len(self._itos)} entries")
        self._num_specials = specials
        self._counts = list(counts) if counts is not None else None
        self.unk_id: int | None = self._stoi.get(UNK)

    @classmethod
    def build(
        cls,
        sequences: Iterable[Iterable[str]],
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = DEFAULT_SPECIALS,
    ) -> Vocab:
        """Count tokens and keep the frequent ones.

        Args:
            sequences: token lists (one per sentence/document).
            min_freq: drop tokens seen fewer times.
            max_size: largest vocabulary, specials included (= rows of an embedding matrix);
                ``None`` for no limit.
            specials: reserved entries, in id order. Corpus occurrences of a special string
                (PTB's own ``<unk>``) map to that special.

        Ordering: count descending, then code-point order of the token string.
        """
        if min_freq < 1:
            raise ConfigError(f"min_freq must be >= 1, got {min_freq}")
        if max_size is not None and max_size < len(specials):
            raise ConfigError(f"max_size={max_size} is smaller than the {len(specials)} specials")
        counter: Counter[str] = Counter()
        for seq in sequences:
            if isinstance(seq, str):
                raise ConfigError("Vocab.build takes token lists, got a string (tokenize it first)")
            counter.update(seq)
        special_set = set(specials)
        ranked = sorted(
            ((t, n) for t, n in counter.items() if n >= min_freq and t not in special_set),
            key=lambda item: (-item[1], item[0]),
        )
        if max_size is not None:
            ranked = ranked[: max_size - len(specials)]
        tokens = [*specials, *(t for t, _ in ranked)]
        counts = [0] * len(specials) + [n for _, n in ranked]
        return cls(tokens, specials=len(specials), counts=counts)

    @classmethod
    def from_tokens(cls, tokens: Iterable[str], specials: Sequence[str] = ()) -> Vocab:
        """A vocabulary of ``specials`` then ``tokens`` in the given order (e.g. a label set)."""
        return cls([*specials, *tokens], specials=len(specials))

    def __len__(self) -> int:
        return len(self._itos)

    def __contains__(self, token: object) -> bool:
        return token in self._stoi

    def __iter__(self) -> Iterator[str]:
        return iter(self._itos)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, specials={self.specials})"

    @property
    def pad_id(self) -> int:
        """Id of ``<pad>``: always 0."""
        if self._itos[:1] != [PAD]:
            raise RnnkitError("this vocabulary has no <pad> entry")
        return 0

    @property
    def specials(self) -> tuple[str, ...]:
        """The special tokens, in id order."""
        return tuple(self._itos[: self._num_specials])

    @property
    def tokens(self) -> list[str]:
        """Every entry, in id order (a copy)."""
        return list(self._itos)

    @property
    def counts(self) -> list[int] | None:
        """Corpus counts in id order, or ``None`` when the vocabulary was not counted."""
        return list(self._counts) if self._counts is not None else None

    def id(self, token: str) -> int:
        """Id of ``token`` (``unk_id`` when unknown)."""
        return self.encode((token,))[0]

    def token(self, index: int) -> str:
        """Token with id ``index``."""
        return self.decode((index,))[0]

    def encode(self, tokens: Iterable[str], bos: bool = False, eos: bool = False) -> list[int]:
        """Map tokens to ids, optionally wrapped in ``<bos>`` … ``<eos>``."""
        if self.unk_id is not None:
            get, unk = self._stoi.get, self.unk_id
            ids = [get(t, unk) for t in tokens]
        else:
            stoi = self._stoi
            try:
                ids = [stoi[t] for t in tokens]
            except KeyError as err:
                raise RnnkitError(
                    f"{err.args[0]!r} is not in the vocabulary, which has no {UNK} "
                    f"(known: {', '.join(self._itos[:20])}{' …' if len(self) > 20 else ''})"
                ) from None
        if bos:
            ids.insert(0, self._special_id(BOS))
        if eos:
            ids.append(self._special_id(EOS))
        return ids

    def decode(self, ids: Iterable[int], skip_specials: bool = False) -> list[str]:
        """Map ids to tokens; ``skip_specials`` drops specials other than ``<unk>``.

        Accepts lists, NumPy arrays and tensors (anything with ``tolist``).
        """
        tolist = getattr(ids, "tolist", None)
        values: list[int] = tolist() if callable(tolist) else list(ids)
        itos = self._itos
        try:
            if values and min(values) < 0:
                raise IndexError
            out = [itos[i] for i in values]
        except (IndexError, TypeError):
            n = len(itos)
            bad = [i for i in values if not (isinstance(i, int) and 0 <= i < n)][:5]
            raise RnnkitError(f"ids must be integers in 0..{n - 1}, got {bad}") from None
        if skip_specials and self._num_specials:
            skip = set(range(self._num_specials)) - {self.unk_id}
            return [t for t, i in zip(out, values, strict=True) if i not in skip]
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (for ``config.json`` of a run directory)."""
        out: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "specials": list(self.specials),
            "tokens": self._itos[self._num_specials :],
        }
        if self._counts is not None:
            out["counts"] = self._counts[self._num_specials :]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | Path = "<vocab>") -> Vocab:
        """Inverse of :meth:`to_dict`; a malformed mapping raises ``DataFormatError(source)``."""
        return _parse(data, str(source))

    def save(self, path: str | Path) -> None:
        """Write the vocabulary as JSON, atomically."""
        write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        """Read a vocabulary written by :meth:`save`."""
        return _parse(read_json(path), str(path))

    def _special_id(self, name: str) -> int:
        if name not in self._stoi:
            raise RnnkitError(f"this vocabulary has no {name} entry")
        return self._stoi[name]


def _parse(data: Any, source: str) -> Vocab:
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise DataFormatError(source, f'not an rnnkit vocabulary (expected "format": "{FORMAT}")')
    if data.get("format_version") != FORMAT_VERSION:
        raise DataFormatError(source, f"unsupported format_version {data.get('format_version')!r}")
    specials, tokens, counts = data.get("specials"), data.get("tokens"), data.get("counts")
    for key, value in (("specials", specials), ("tokens", tokens)):
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            raise DataFormatError(source, f'"{key}" must be a list of strings')
    assert isinstance(specials, list) and isinstance(tokens, list)
    if counts is not None and (
        not isinstance(counts, list)
        or len(counts) != len(tokens)
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts)
    ):
        raise DataFormatError(source, '"counts" must list one count >= 0 per token')
    try:
        return Vocab(
            [*specials, *tokens],
            specials=len(specials),
            counts=[0] * len(specials) + counts if counts is not None else None,
        )
    except ConfigError as err:
        raise DataFormatError(source, str(err)) from None


__all__ = ["BOS", "DEFAULT_SPECIALS", "EOS", "PAD", "UNK", "Vocab"]
