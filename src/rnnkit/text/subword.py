"""Subword units with SentencePiece (Kudo & Richardson 2018): unigram LM (Kudo 2018) or BPE
(Sennrich et al. 2016) pieces learnt from raw training text.

A :class:`SubwordModel` turns a sentence into pieces (``"▁the", "▁begin", "ning"``) and pieces back
into the sentence. Its model file is SentencePiece's own serialized protobuf (not a pickle),
written atomically into the run directory so a trained translator reads text as in training.
Training runs on one thread and is deterministic for the same text and options.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from rnnkit.errors import ConfigError, DataFormatError
from rnnkit.fileio import write_bytes

__all__ = ["SUBWORD_TYPES", "SubwordModel"]

SUBWORD_TYPES = ("unigram", "bpe")


class SubwordModel:
    """A trained SentencePiece model.

    Args:
        data: the serialized model (the bytes of a ``.model`` file).
    """

    def __init__(self, data: bytes) -> None:
        import sentencepiece as spm

        self._data = data
        self._sp = spm.SentencePieceProcessor()
        try:
            self._sp.LoadFromSerializedProto(data)
        except (RuntimeError, OSError) as err:
            raise ConfigError(f"not a SentencePiece model: {err}") from None

    @classmethod
    def train(
        cls, texts: Sequence[str], vocab_size: int = 8000, model_type: str = "unigram"
    ) -> SubwordModel:
        """Learn ``vocab_size`` pieces (fewer on a small corpus) from raw ``texts``.

        Raises:
            ConfigError: an unknown ``model_type``, a ``vocab_size`` below 8, or no text.
        """
        import sentencepiece as spm

        if model_type not in SUBWORD_TYPES:
            raise ConfigError(f"subword type must be one of {', '.join(SUBWORD_TYPES)}")
        if vocab_size < 8:
            raise ConfigError(f"subword vocab_size must be >= 8, got {vocab_size}")
        lines = [t for t in texts if t.strip()]
        if not lines:
            raise ConfigError("no text to learn subwords from")
        out = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(lines),
                model_writer=out,
                vocab_size=vocab_size,
                model_type=model_type,
                character_coverage=1.0,
                hard_vocab_limit=False,  # a small corpus gets fewer pieces, not an error
                num_threads=1,
                minloglevel=2,
                # ids are rnnkit's business (the translator's Vocab): keep only <unk> here
                bos_id=-1,
                eos_id=-1,
                pad_id=-1,
            )
        except RuntimeError as err:
            raise ConfigError(f"SentencePiece training failed: {err}") from None
        return cls(out.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> SubwordModel:
        """Read a model file written by :meth:`save`."""
        try:
            data = Path(path).read_bytes()
        except OSError as err:
            raise DataFormatError(path, f"cannot read the subword model: {err.strerror}") from None
        try:
            return cls(data)
        except ConfigError as err:
            raise DataFormatError(path, str(err)) from None

    def save(self, path: str | Path) -> None:
        """Write the model file atomically."""
        write_bytes(path, self._data)

    def __len__(self) -> int:
        return int(self._sp.GetPieceSize())

    def encode(self, text: str) -> list[str]:
        """The pieces of ``text``."""
        pieces: list[str] = self._sp.EncodeAsPieces(text)
        return pieces

    def decode(self, pieces: Sequence[str]) -> str:
        """The text of ``pieces`` (the inverse of :meth:`encode` up to whitespace runs)."""
        return str(self._sp.DecodePieces(list(pieces)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SubwordModel):
            return NotImplemented
        return self._data == other._data

    def __repr__(self) -> str:
        return f"SubwordModel(pieces={len(self)})"
