r"""Character-level word encoders: each word becomes a vector from its characters, so a word never
seen in training still gets a shape (capitals, digits, suffixes).

- :class:`CharCNN` (Ma & Hovy 2016, §2.1): character embeddings, one convolution of width
  ``w`` and max-pooling over the word: :math:`c = \max_i \mathrm{conv}(e_{i-w/2:i+w/2})`.
- :class:`CharBiLSTM` (Lample et al. 2016, §4.1): a bidirectional LSTM over the characters; the
  word is the concatenation of the forward final state and the backward final state.

Both read a batch of *words* ``(N, L)`` (character ids, padded with 0) and their lengths, so a
tagger can encode each distinct word of a batch once (:func:`unique_words`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError
from rnnkit.nn.recurrent import RNN

__all__ = ["CHAR_ENCODERS", "CharBiLSTM", "CharCNN", "make_char_encoder", "unique_words"]

CHAR_ENCODERS = ("cnn", "lstm")


class CharCNN(nn.Module):
    """Character CNN with max-pooling over each word (Ma & Hovy 2016).

    Args:
        num_chars: ``V_c``, character vocabulary size (id 0 is padding).
        char_dim: ``C``, character embedding width.
        filters: ``F``, number of filters (``output_size``).
        kernel_size: ``w``, filter width (odd; padded so every character is a centre).
        dropout: dropout on the character embeddings.

    Shape:
        - chars: ``(N, L)`` int64, padded with 0; lengths ``(N,)`` in ``1..L``.
        - output: ``(N, F)``.
    """

    def __init__(
        self,
        num_chars: int,
        char_dim: int = 25,
        filters: int = 50,
        kernel_size: int = 3,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ConfigError(f"char kernel_size must be odd and >= 1, got {kernel_size}")
        _check_sizes(num_chars, char_dim, filters, dropout)
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.conv = nn.Conv1d(char_dim, filters, kernel_size, padding=kernel_size // 2)
        self.input_size = num_chars
        self.output_size = filters

    def forward(self, chars: Tensor, lengths: Tensor) -> Tensor:
        x = self.dropout(self.embedding(chars)).transpose(1, 2)  # (N, C, L)
        y: Tensor = self.conv(x)  # (N, F, L)
        pad = torch.arange(chars.shape[1], device=chars.device) >= lengths.unsqueeze(1)
        return y.masked_fill(pad.unsqueeze(1), float("-inf")).amax(dim=2)


class CharBiLSTM(nn.Module):
    """Character BiLSTM: ``[h_fwd(last char); h_bwd(first char)]`` (Lample et al. 2016).

    Args:
        num_chars: ``V_c`` (id 0 is padding).
        char_dim: ``C``.
        hidden_size: ``H`` per direction; ``output_size`` is ``2H``.
        dropout: dropout on the character embeddings.

    Shape:
        - chars: ``(N, L)`` int64; lengths ``(N,)``.
        - output: ``(N, 2H)``.
    """

    def __init__(
        self, num_chars: int, char_dim: int = 25, hidden_size: int = 25, dropout: float = 0.0
    ) -> None:
        super().__init__()
        _check_sizes(num_chars, char_dim, hidden_size, dropout)
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.rnn = RNN("lstm", char_dim, hidden_size, bidirectional=True)
        self.input_size = num_chars
        self.output_size = 2 * hidden_size

    def forward(self, chars: Tensor, lengths: Tensor) -> Tensor:
        _, state = self.rnn(self.dropout(self.embedding(chars)), lengths)
        h = state[0]  # (2, N, H): forward final, backward final
        return torch.cat([h[0], h[1]], dim=1)


def _check_sizes(num_chars: int, char_dim: int, out: int, dropout: float) -> None:
    if min(num_chars, char_dim, out) < 1:
        raise ConfigError("char vocabulary, char_dim and output width must be >= 1")
    if not 0.0 <= dropout < 1.0:
        raise ConfigError(f"char dropout must be in [0, 1), got {dropout}")


def make_char_encoder(
    kind: str, num_chars: int, char_dim: int, size: int, kernel_size: int = 3, dropout: float = 0.0
) -> CharCNN | CharBiLSTM:
    """``"cnn"``: :class:`CharCNN` with ``size`` filters; ``"lstm"``: :class:`CharBiLSTM` with
    ``size // 2`` units per direction (so both output ``size``)."""
    if kind == "cnn":
        return CharCNN(num_chars, char_dim, size, kernel_size, dropout)
    if kind == "lstm":
        if size % 2:
            raise ConfigError(f"a char BiLSTM needs an even size, got {size}")
        return CharBiLSTM(num_chars, char_dim, size // 2, dropout)
    raise ConfigError(f"char encoder must be one of {', '.join(CHAR_ENCODERS)}, got {kind!r}")


def unique_words(
    sentences: Sequence[Sequence[str]], encode: Callable[[str], Sequence[int]], max_length: int
) -> tuple[Tensor, Tensor, Tensor]:
    """The distinct words of a batch as padded character ids, and where each token points.

    Args:
        sentences: token lists (non-empty).
        encode: a token's character ids (non-empty).
        max_length: characters kept per word (longer words keep their first and last
            ``max_length // 2`` characters: prefix and suffix carry the shape).

    Returns:
        ``(chars (U, L) int64, lengths (U,) int64, index (B, T) int64)``; ``index`` is 0 at
        padded steps (a real row, ignored there).
    """
    if max_length < 2:
        raise ConfigError(f"max word length must be >= 2, got {max_length}")
    rows: dict[str, int] = {}
    t_max = max(len(s) for s in sentences)
    index = []
    for sentence in sentences:
        ids = [rows.setdefault(tok, len(rows)) for tok in sentence]
        index.append(ids + [0] * (t_max - len(ids)))
    half = max_length // 2
    words = []
    for tok in rows:
        key = list(encode(tok))
        if len(key) > max_length:
            key = key[:half] + key[len(key) - (max_length - half) :]
        words.append(key)
    lengths = [len(w) for w in words]
    width = max(lengths)
    chars = [w + [0] * (width - len(w)) for w in words]
    return (
        torch.tensor(chars, dtype=torch.long),
        torch.tensor(lengths, dtype=torch.long),
        torch.tensor(index, dtype=torch.long),
    )
