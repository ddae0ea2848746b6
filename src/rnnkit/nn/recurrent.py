"""``rnnkit.nn.RNN``: one recurrent layer stack, fused when the options allow, explicit otherwise.

The module subclasses ``torch.nn.RNNBase``, so it owns its parameters under PyTorch's names and
shapes (``weight_ih_l{k}[_reverse]`` …) and keeps them in the flat layout cuDNN wants: a state
dict moves between this module and ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` in both directions, and
``impl`` can be changed on a loaded model. ``forward`` either calls the fused kernels
(``torch._VF``: cuDNN on GPU, oneDNN or ATen on CPU) exactly as ``torch.nn.LSTM`` does, or runs
the explicit cells of :mod:`rnnkit.nn.cells` through :mod:`rnnkit.nn.layers`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch
from torch import _VF, Tensor, nn
from torch.nn import functional as F
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.cells import (
    CellState,
    FunctionalCell,
    HiddenState,
    LSTMState,
    check_cell_options,
    has_cell_state,
    init_cell_,
)
from rnnkit.nn.dropout import recurrent_dropout_mask
from rnnkit.nn.layers import make_padding, run_stack

logger = logging.getLogger("rnnkit.nn")

IMPLS = ("auto", "fused", "loop")
_TORCH_MODES = {"lstm": "LSTM", "gru": "GRU", "gru-cho": "GRU"}
_LOGGED: set[str] = set()
_FUSED_KERNELS: dict[str, Callable[..., tuple[Tensor, ...]]] = {
    "LSTM": _VF.lstm,
    "GRU": _VF.gru,
    "RNN_TANH": _VF.rnn_tanh,
    "RNN_RELU": _VF.rnn_relu,
}

State = Tensor | LSTMState


def _expand(index: Tensor, size: int) -> Tensor:
    """A ``(B, T)`` time index as ``(B, T, size)``, for ``gather`` along time."""
    return index.unsqueeze(2).expand(index.shape[0], index.shape[1], size)


def _log_once(reason: str) -> None:
    if reason not in _LOGGED:
        _LOGGED.add(reason)
        logger.info(
            "RNN: %s forces the explicit loop instead of the fused kernel "
            "(slower; measured cost in docs/recurrent.md)",
            reason,
        )


class RNN(nn.RNNBase):
    r"""A stack of recurrent layers: Elman, LSTM or GRU, uni- or bidirectional, padding-aware.

    The cells compute the equations of :class:`~rnnkit.nn.cells.ElmanCell`,
    :class:`~rnnkit.nn.cells.LSTMCell` and :class:`~rnnkit.nn.cells.GRUCell`; layer ``k > 0``
    reads the concatenated outputs of layer ``k-1``'s directions, with dropout in between.

    Args:
        mode: ``"elman"``, ``"lstm"``, ``"gru"`` (PyTorch/cuDNN's GRU) or ``"gru-cho"`` (Cho et
            al. 2014; explicit loop only).
        input_size: ``I``.
        hidden_size: ``H``.
        num_layers: ``L``, stacked layers.
        bidirectional: ``D = 2`` if true, else ``D = 1``.
        dropout: dropout on each layer's outputs except the last, as ``torch.nn.LSTM``.
        batch_first: inputs and outputs are ``(B, T, ·)`` if true, else ``(T, B, ·)``.
        impl: ``"auto"`` (fused whenever the options allow), ``"fused"`` (error if they do not),
            ``"loop"`` (explicit cells).
        nonlinearity: ``"tanh"`` or ``"relu"`` (Elman only).
        init: ``"default"`` (PyTorch's), ``"orthogonal"`` or ``"irnn"`` (see
            :func:`~rnnkit.nn.cells.init_cell_`).
        forget_bias: LSTM forget-gate bias at initialisation, e.g. ``1.0``.
        recurrent_dropout: dropout on ``h_{t-1}`` inside the recurrence, one mask per sequence
            (Gal & Ghahramani 2016); forces the explicit loop.

    ``mode`` is exposed as :attr:`cell_mode`; ``self.mode`` keeps ``torch.nn.RNNBase``'s meaning
    (the fused kernel's name, e.g. ``"LSTM"``).

    Shape:
        - x: ``(B, T, I)`` if ``batch_first`` else ``(T, B, I)``.
        - lengths: ``(B,)`` integers in ``1..T``, or ``None`` when nothing is padded.
        - state: ``h_0`` ``(L·D, B, H)``, or ``(h_0, c_0)`` for the LSTM; zeros if ``None``.
        - output: ``(B, T, D·H)`` (or ``(T, B, D·H)``), zero at padded steps.
        - final state: ``h_n`` ``(L·D, B, H)``, or :class:`LSTMState` ``(h_n, c_n)``, at each
          sequence's last real token (its first, for the backward direction).
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        batch_first: bool = True,
        impl: str = "auto",
        *,
        nonlinearity: str = "tanh",
        init: str = "default",
        forget_bias: float | None = None,
        recurrent_dropout: float = 0.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        check_cell_options(mode, nonlinearity, init, forget_bias)
        reason = _check_layer_options(mode, input_size, hidden_size, num_layers, dropout, impl)
        if not 0.0 <= recurrent_dropout < 1.0:
            raise ConfigError(f"recurrent_dropout must be in [0, 1), got {recurrent_dropout}")
        if recurrent_dropout > 0.0:
            reason = reason or "recurrent_dropout"
        # read by reset_parameters(), which RNNBase.__init__ calls
        self.cell_mode = mode
        self.nonlinearity = nonlinearity
        self.init = init
        self.forget_bias = forget_bias
        torch_mode = _TORCH_MODES.get(mode) or (
            "RNN_RELU" if nonlinearity == "relu" else "RNN_TANH"
        )
        super().__init__(
            torch_mode,
            input_size,
            hidden_size,
            num_layers=num_layers,
            bias=True,
            batch_first=batch_first,
            dropout=float(dropout),
            bidirectional=bidirectional,
            device=device,
            dtype=dtype,
        )
        self.recurrent_dropout = float(recurrent_dropout)
        self.loop_reason = reason
        self.impl = impl
        if impl == "auto" and reason:
            _log_once(reason)

    @property
    def impl(self) -> str:
        """``"auto"``, ``"fused"`` or ``"loop"``; may be changed at any time."""
        return self._impl

    @impl.setter
    def impl(self, impl: str) -> None:
        if impl not in IMPLS:
            raise ConfigError(f"impl must be one of {', '.join(IMPLS)}, got {impl!r}")
        if impl == "fused" and self.loop_reason:
            raise ConfigError(
                f"impl='fused' is impossible with {self.loop_reason}; use impl='auto' or 'loop'"
            )
        self._impl = impl

    @property
    def num_directions(self) -> int:
        """``D``: 2 if bidirectional, else 1."""
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """``D·H``, the width of the output at each step."""
        return self.num_directions * self.hidden_size

    @property
    def has_cell_state(self) -> bool:
        """Whether the state is a pair ``(h, c)`` (:class:`LSTMState`, the LSTM) rather than
        one tensor ``h``; see :func:`~rnnkit.nn.cells.has_cell_state`."""
        return has_cell_state(self.cell_mode)

    @property
    def uses_fused(self) -> bool:
        """Whether ``forward`` runs the fused kernel."""
        return self.impl != "loop" and not self.loop_reason

    def reset_parameters(self) -> None:
        """Re-draw every layer's parameters with the ``init`` and ``forget_bias`` options."""
        for names in self._all_weights:
            weights = tuple(getattr(self, n) for n in names)
            init_cell_(self.cell_mode, weights, self.init, self.forget_bias)

    def layer_weights(self, layer: int, direction: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of one layer and direction."""
        suffix = "_reverse" if direction == 1 else ""
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        w = tuple(getattr(self, f"{n}_l{layer}{suffix}") for n in names)
        return w[0], w[1], w[2], w[3]

    def forward(
        self,
        x: Tensor,
        lengths: Tensor | None = None,
        state: Tensor | tuple[Tensor, Tensor] | None = None,
    ) -> tuple[Tensor, State]:
        """Run the stack; see the class docstring for shapes."""
        batch_size, total = self._check_input(x)
        if lengths is not None:
            lengths = self._check_lengths(lengths, batch_size, total)
        hx = self._initial_state(state, x, batch_size)
        if self.uses_fused:
            return self._forward_fused(x, lengths, hx)
        return self._forward_loop(x, lengths, hx)

    def outputs(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Only the outputs: ``self(x, lengths)[0]``, ``(B, T, D·H)``, zero at padding; on
        CPU a fused bidirectional batch-first stack runs the padded batch without packing.

        PyTorch's CPU kernels run a packed sequence step by step with a shrinking batch, and
        the backward pass of each step's slice fills a zero tensor of the whole input:
        measured 1.4× (training) to 2× (inference) slower than the same kernel on the padded
        batch. So each direction runs on the padded batch instead: the forward direction reads
        the padding only after a sequence's real steps; the backward direction reads each
        sequence reversed within its own length (padding again last) and is flipped back. The
        numbers are those of ``forward`` (tested); the final states, which would have read
        the padding, are not returned.
        """
        fast = self.uses_fused and self.bidirectional and self.batch_first
        if lengths is None or not fast or x.device.type != "cpu":
            output: Tensor = self(x, lengths)[0]
            return output
        b, t = self._check_input(x)
        lengths = self._check_lengths(lengths, b, t).to(x.device).unsqueeze(1)  # (B, 1)
        steps = torch.arange(t, device=x.device).unsqueeze(0)  # (1, T)
        valid = steps < lengths  # (B, T)
        rev = torch.where(valid, lengths - 1 - steps, steps)  # reverse within each length
        kernel = _FUSED_KERNELS[self.mode]
        zeros = x.new_zeros(1, b, self.hidden_size)
        hx: Tensor | tuple[Tensor, Tensor] = (zeros, zeros) if self.has_cell_state else zeros
        h = x
        for layer in range(self.num_layers):
            if layer:
                h = F.dropout(h, self.dropout, self.training)
            runs = []
            for direction, inputs in enumerate((h, h.gather(1, _expand(rev, h.shape[2])))):
                weights = list(self.layer_weights(layer, direction))
                # (input, hx, weights, has_biases, layers, dropout, train, bidir, batch_first)
                runs.append(kernel(inputs, hx, weights, True, 1, 0.0, self.training, False, True))
            backward = runs[1][0].gather(1, _expand(rev, self.hidden_size))
            h = torch.cat([runs[0][0], backward], dim=2)
        return h * valid.unsqueeze(2).to(h.dtype)

    def _check_input(self, x: Tensor) -> tuple[int, int]:
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            layout = "(B, T, I)" if self.batch_first else "(T, B, I)"
            raise ShapeError(
                f"RNN input must be {layout} with I={self.input_size}, got {tuple(x.shape)}"
            )
        autocast = torch.is_autocast_enabled(x.device.type)
        if x.dtype != self.weight_ih_l0.dtype and not autocast:
            raise ShapeError(
                f"RNN input is {x.dtype} but the weights are {self.weight_ih_l0.dtype}"
            )
        b, t = (x.shape[0], x.shape[1]) if self.batch_first else (x.shape[1], x.shape[0])
        if b == 0 or t == 0:
            raise ShapeError(f"RNN input has an empty batch or time axis: {tuple(x.shape)}")
        return b, t

    @staticmethod
    def _check_lengths(lengths: Tensor, batch_size: int, total: int) -> Tensor:
        if lengths.dim() != 1 or lengths.shape[0] != batch_size:
            raise ShapeError(f"lengths must be ({batch_size},), got {tuple(lengths.shape)}")
        if lengths.is_floating_point() or lengths.is_complex():
            raise ShapeError(f"lengths must be integers, got {lengths.dtype}")
        low, high = int(lengths.min()), int(lengths.max())
        if low < 1 or high > total:
            raise ShapeError(f"lengths must lie in 1..{total} (the time axis), got {low}..{high}")
        return lengths

    def _initial_state(
        self, state: Tensor | tuple[Tensor, Tensor] | None, x: Tensor, batch_size: int
    ) -> list[Tensor]:
        expected = (self.num_layers * self.num_directions, batch_size, self.hidden_size)
        parts = 2 if self.has_cell_state else 1
        if state is None:
            return [x.new_zeros(expected) for _ in range(parts)]
        tensors = [state] if isinstance(state, Tensor) else list(state)
        if len(tensors) != parts:
            raise ShapeError(
                "the LSTM state is a pair (h, c)" if parts == 2 else "the state is one tensor h"
            )
        for s in tensors:
            if tuple(s.shape) != expected:
                raise ShapeError(f"state must be (L·D, B, H) = {expected}, got {tuple(s.shape)}")
        return tensors

    def _forward_fused(
        self, x: Tensor, lengths: Tensor | None, hx: list[Tensor]
    ) -> tuple[Tensor, State]:
        self._update_flat_weights()
        kernel = _FUSED_KERNELS[self.mode]
        hidden: Any = tuple(hx) if len(hx) == 2 else hx[0]
        flat = self._flat_weights
        args = (True, self.num_layers, self.dropout, self.training, self.bidirectional)
        if lengths is None:
            result = kernel(x, hidden, flat, *args, self.batch_first)
            output = result[0]
            finals = list(result[1:])
        else:
            total = x.shape[1] if self.batch_first else x.shape[0]
            packed = pack_padded_sequence(
                x, lengths.cpu(), batch_first=self.batch_first, enforce_sorted=False
            )
            order, unorder = packed.sorted_indices, packed.unsorted_indices
            assert order is not None and unorder is not None
            hidden = tuple(h.index_select(1, order) for h in hx)
            hidden = hidden if len(hidden) == 2 else hidden[0]
            result = kernel(packed.data, packed.batch_sizes, hidden, flat, *args)
            out_packed = PackedSequence(result[0], packed.batch_sizes, order, unorder)
            output, _ = pad_packed_sequence(
                out_packed, batch_first=self.batch_first, total_length=total
            )
            finals = [h.index_select(1, unorder) for h in result[1:]]
        return output, self._pack_state(finals)

    def _forward_loop(
        self, x: Tensor, lengths: Tensor | None, hx: list[Tensor]
    ) -> tuple[Tensor, State]:
        if not self.batch_first:
            x = x.transpose(0, 1)
        batch_size, total = x.shape[0], x.shape[1]
        padding = None if lengths is None else make_padding(lengths.to(x.device), total)
        cells = []
        states: list[list[CellState]] = []
        for k in range(self.num_layers):
            cells.append([self._cell(k, d) for d in range(self.num_directions)])
            states.append(
                [
                    self._cell_state(hx, k * self.num_directions + d)
                    for d in range(self.num_directions)
                ]
            )
        masks = None
        if self.training and self.recurrent_dropout > 0.0:
            masks = [
                [
                    recurrent_dropout_mask(batch_size, self.hidden_size, self.recurrent_dropout, x)
                    for _ in range(self.num_directions)
                ]
                for _ in range(self.num_layers)
            ]
        output, finals = run_stack(
            cells,
            x,
            states,
            padding=padding,
            dropout=self.dropout,
            training=self.training,
            hidden_masks=masks,
        )
        if not self.batch_first:
            output = output.transpose(0, 1)
        flat = [s for layer in finals for s in layer]
        return output, self._pack_state(
            [torch.stack(list(parts)) for parts in zip(*flat, strict=True)]
        )

    def _cell(self, layer: int, direction: int) -> FunctionalCell:
        return FunctionalCell(
            self.cell_mode, *self.layer_weights(layer, direction), nonlinearity=self.nonlinearity
        )

    def _cell_state(self, hx: list[Tensor], index: int) -> CellState:
        if self.has_cell_state:
            return LSTMState(hx[0][index], hx[1][index])
        return HiddenState(hx[0][index])

    def _pack_state(self, finals: list[Tensor]) -> State:
        return LSTMState(finals[0], finals[1]) if self.has_cell_state else finals[0]

    def extra_repr(self) -> str:
        s = f"{self.cell_mode!r}, {self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bidirectional:
            s += ", bidirectional=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        s += f", batch_first={self.batch_first}, impl={self.impl!r}"
        if self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        if self.init != "default":
            s += f", init={self.init!r}"
        if self.forget_bias is not None:
            s += f", forget_bias={self.forget_bias}"
        if self.recurrent_dropout:
            s += f", recurrent_dropout={self.recurrent_dropout}"
        return s


def _check_layer_options(
    mode: str, input_size: int, hidden_size: int, num_layers: int, dropout: float, impl: str
) -> str:
    """Validate the layer options; return why the fused kernel cannot run them ('' if it can)."""
    if impl not in IMPLS:
        raise ConfigError(f"impl must be one of {', '.join(IMPLS)}, got {impl!r}")
    for name, value in (
        ("input_size", input_size),
        ("hidden_size", hidden_size),
        ("num_layers", num_layers),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    if not 0.0 <= dropout < 1.0:
        raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
    return "mode='gru-cho'" if mode == "gru-cho" else ""
