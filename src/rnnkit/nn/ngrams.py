r"""A bag of hashed n-grams: the mean embedding of a text's word n-grams (fastText's classifier,
Joulin et al. 2017, §2.2), the "wide" part of a wide-and-deep classifier (Cheng et al. 2016).

Every n-gram of orders ``1..n`` over the real tokens of a sequence is hashed to one of
``buckets`` rows of an embedding table (the hashing trick, Weinberger et al. 2009); the output is
the mean of those rows. A linear layer on top makes a linear classifier of rank ``dim`` over the
(L1-normalised) n-gram counts, which can be any linear classifier over them once ``dim`` is at
least the number of classes: the evidence of a TF-IDF + logistic-regression baseline, but for
hash collisions and the weighting.

The hash is a pure function of the ids (no per-process salt, unlike Python's ``hash``), so a saved
model predicts the same after it is loaded. For the n-gram :math:`(w_1, \dots, w_k)`:

.. math::
    h_0 = 1, \qquad
    h_j = \bigl(h_{j-1} \cdot 1\,000\,003 + (w_j \bmod M) + 1\bigr) \bmod M, \qquad
    \mathrm{bucket} = \mathrm{mix}(h_k) \bmod \mathrm{buckets}

with :math:`M = 2^{31} - 1` (a polynomial rolling hash, so the order of the words counts: ``a b``
and ``b a`` differ; the leading 1 makes the code depend on ``k`` too) and ``mix`` the
32-bit finaliser ``x ^= x >> 16; x = (x · 0x45d9f3b) mod 2^32`` applied twice then
``x ^= x >> 16``, which spreads neighbouring ids over the whole table. Every step stays below
:math:`2^{63}`, so the int64 arithmetic never overflows, and the order ``k`` hashes are computed
from the order ``k - 1`` ones in one vectorised step.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError

__all__ = ["HashedNgrams", "ngram_hashes"]

_MODULUS = 2**31 - 1  # the Mersenne prime M
_BASE = 1_000_003  # a prime multiplier below 2**20: h * base + id < 2**52
_MIX = 0x45D9F3B
_MASK32 = 0xFFFFFFFF


def _mix32(x: Tensor) -> Tensor:
    """The 32-bit integer finaliser of the module docstring (a bijection on ``[0, 2^32)``)."""
    x = x ^ (x >> 16)
    x = (x * _MIX) & _MASK32
    x = x ^ (x >> 16)
    x = (x * _MIX) & _MASK32
    return x ^ (x >> 16)


def ngram_hashes(ids: Tensor, lengths: Tensor, n: int) -> tuple[Tensor, Tensor]:
    """Hash codes in ``[0, 2^32)`` of every n-gram of orders ``1..n`` (module docstring).

    Returns:
        ``codes`` ``(B, N)`` int64 and ``mask`` ``(B, N)`` bool, true where the n-gram lies
        within the sequence's ``length`` (orders side by side: ``T`` unigrams, ``T - 1``
        bigrams, …).
    """
    steps = torch.arange(ids.shape[1], device=ids.device)
    lengths = lengths.to(ids.device).unsqueeze(1)  # (B, 1)
    words = ids.long() % _MODULUS + 1  # (B, T)
    h = (_BASE + words) % _MODULUS  # order 1: h_0 = 1
    codes, masks = [], []
    for k in range(1, n + 1):
        if k > 1:  # extend each (k-1)-gram starting at t by the word t + k - 1
            h = (h[:, :-1] * _BASE + words[:, k - 1 :]) % _MODULUS
        codes.append(_mix32(h))
        masks.append(steps[: h.shape[1]] + k <= lengths)
    return torch.cat(codes, dim=1), torch.cat(masks, dim=1)


class HashedNgrams(nn.Module):
    r"""The mean of the embeddings of a text's hashed n-grams of orders ``1..n``.

    .. math:: v = \frac{1}{|G|} \sum_{g \in G} E_{\mathrm{bucket}(g)}

    with :math:`G` the n-grams of the real tokens (the module docstring gives ``bucket``); an
    empty sequence gives the zero vector, and a sequence of length 1 has only its unigram.
    Rows start uniform in :math:`\pm 1/\mathrm{dim}` as fastText's, so the bag says little until
    it has learnt.

    Args:
        n: the highest order (1: unigrams; 2: unigrams and bigrams; …).
        buckets: rows of the table.
        dim: ``D``, the output width (``output_size``).
        dropout: dropout on the output vector.

    Shape:
        - ids: ``(B, T)`` integer token ids, any value at padded steps.
        - lengths: ``(B,)`` integers in ``0..T``.
        - output: ``(B, D)``.
    """

    def __init__(self, n: int = 2, buckets: int = 2**19, dim: int = 8, dropout: float = 0.0):
        super().__init__()
        if n < 1:
            raise ConfigError(f"the n-gram order must be >= 1, got {n}")
        if not 1 <= buckets <= 2**32:
            raise ConfigError(f"n-gram buckets must be in 1..2**32, got {buckets}")
        if dim < 1:
            raise ConfigError(f"the n-gram dim must be >= 1, got {dim}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"the n-gram dropout must be in [0, 1), got {dropout}")
        self.n, self.buckets = n, buckets
        self.table = nn.EmbeddingBag(buckets, dim, mode="mean")
        nn.init.uniform_(self.table.weight, -1.0 / dim, 1.0 / dim)
        self.dropout = nn.Dropout(dropout)
        self.output_size = dim

    def rows(self, ids: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """The table rows of the real n-grams, flat ``(N,)``, and each text's count ``(B,)``."""
        if ids.ndim != 2 or lengths.shape != ids.shape[:1]:
            raise ShapeError(
                f"HashedNgrams wants ids (B, T) and lengths (B,), got {tuple(ids.shape)} "
                f"and {tuple(lengths.shape)}"
            )
        codes, mask = ngram_hashes(ids, lengths, self.n)
        return codes[mask] % self.buckets, mask.sum(dim=1)

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        rows, counts = self.rows(ids, lengths)
        offsets = torch.cumsum(counts, dim=0) - counts  # where each text's bag starts
        return self.dropout(self.table(rows, offsets))  # type: ignore[no-any-return]
