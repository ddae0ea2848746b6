"""An RNN stack that exposes every layer's outputs, for DeepMoji's skip connections.

DeepMoji (Felbo et al. 2017, §3.1) feeds its attention layer the concatenation of the embeddings
and the outputs of both LSTM layers, so each layer is a separate :class:`rnnkit.nn.RNN` here.
"""

from __future__ import annotations

from typing import cast

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError
from rnnkit.nn import RNN
from rnnkit.nn.pooling import length_mask

__all__ = ["SkipEncoder"]


class SkipEncoder(nn.Module):
    """Stacked single-layer RNNs whose output is ``[x; y^(1); …; y^(L)]`` at every step.

    Args:
        mode: the cell, as for :class:`~rnnkit.nn.RNN`.
        input_size: ``I``.
        hidden_size: ``H``.
        num_layers: ``L``.
        bidirectional: ``D = 2`` if true.
        dropout: dropout between layers (not on the skip connections).

    Shape:
        - x: ``(B, T, I)``; lengths ``(B,)``.
        - output: ``(B, T, I + L·D·H)``, zero at padded steps; the second item is ``None``.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 2,
        bidirectional: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ConfigError(f"num_layers must be >= 1, got {num_layers}")
        d = 2 if bidirectional else 1
        sizes = [input_size] + [d * hidden_size] * (num_layers - 1)
        self.layers = nn.ModuleList(RNN(mode, n, hidden_size, 1, bidirectional) for n in sizes)
        self.dropout = nn.Dropout(dropout)
        self.input_size = input_size
        self.output_size = input_size + num_layers * d * hidden_size

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, None]:
        if lengths is not None:
            x = x.masked_fill(~length_mask(lengths, x.shape[1]).unsqueeze(2), 0.0)
        outputs = [x]
        h = x
        for i, layer in enumerate(self.layers):
            h = cast(RNN, layer).outputs(self.dropout(h) if i else h, lengths)
            outputs.append(h)
        return torch.cat(outputs, dim=2), None
