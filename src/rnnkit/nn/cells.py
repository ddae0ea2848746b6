"""Recurrent cells written from their equations: Elman, LSTM, and two GRU variants.

Every cell follows one protocol (docs/design.md §3), written as in the literature
``s_t = R(s_{t-1}, x_t)``, ``y_t = O(s_t)``::

    state = cell(x_t, state)      # R
    y_t = cell.output(state)      # O

States are ``NamedTuple``s: :class:`HiddenState` ``(h,)`` for Elman and GRU cells and
:class:`LSTMState` ``(h, c)`` for the LSTM. A cell splits ``R`` in two so that a layer can hoist
the input projection out of the time loop: ``cell.project(x)`` computes every term that does not
depend on the state (for all ``T`` steps at once when ``x`` is ``(B, T, I)``), and
``cell.step(xp_t, state)`` adds the recurrent terms and applies the nonlinearities.

The step equations of each cell are written out, with named gates, in the class of that cell:
:meth:`ElmanCell.recurrence`, :meth:`LSTMCell.recurrence`, :meth:`GRUCell.recurrence` and
:meth:`GRUCell.recurrence_cho`. Only the LSTM carries a second state tensor, the memory ``c``:
``cell.has_cell_state`` (and :func:`has_cell_state` for a mode name) says which state a cell has.

Parameters have PyTorch's names, shapes and gate order (``weight_ih`` ``(G·H, I)``,
``weight_hh`` ``(G·H, H)``, ``bias_ih``, ``bias_hh``; LSTM gates ``i, f, g, o``, GRU gates
``r, z, n``), so a cell's state dict loads into ``torch.nn.RNNCell`` / ``LSTMCell`` /
``GRUCell`` and back. :class:`FunctionalCell` binds those equations to given weight tensors;
the cell modules use it with their own parameters, the :class:`~rnnkit.nn.RNN` layer with its
per-layer weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar, NamedTuple, TypeAlias

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError

MODES = ("elman", "lstm", "gru", "gru-cho")
GATES = {"elman": 1, "lstm": 4, "gru": 3, "gru-cho": 3}
NONLINEARITIES = ("tanh", "relu")
INITS = ("default", "orthogonal", "irnn")


class HiddenState(NamedTuple):
    """State of an Elman or GRU cell: ``h`` of shape ``(B, H)``."""

    h: Tensor


class LSTMState(NamedTuple):
    """State of an LSTM: hidden ``h`` and memory ``c``, each ``(B, H)`` for a cell.

    The :class:`~rnnkit.nn.RNN` layer returns its final LSTM state in the same type with
    PyTorch's layout ``(num_layers·D, B, H)``.
    """

    h: Tensor
    c: Tensor


CellState: TypeAlias = HiddenState | LSTMState


def check_cell_options(
    mode: str,
    nonlinearity: str = "tanh",
    init: str = "default",
    forget_bias: float | None = None,
) -> None:
    """Raise :class:`ConfigError` for an unknown mode or an option that does not fit it."""
    if mode not in MODES:
        raise ConfigError(f"unknown recurrent mode {mode!r}; expected one of {', '.join(MODES)}")
    if nonlinearity not in NONLINEARITIES:
        raise ConfigError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    if nonlinearity != "tanh" and mode != "elman":
        raise ConfigError(f"nonlinearity={nonlinearity!r} applies to mode 'elman' only")
    if init not in INITS:
        raise ConfigError(f"unknown init {init!r}; expected one of {', '.join(INITS)}")
    if init == "irnn" and (mode != "elman" or nonlinearity != "relu"):
        raise ConfigError("init='irnn' (Le et al. 2015) needs mode='elman', nonlinearity='relu'")
    # the forget gate is the gate on the memory c, so only a cell with a cell state has one
    if forget_bias is not None and not has_cell_state(mode):
        raise ConfigError("forget_bias applies to mode 'lstm' only")


def has_cell_state(mode: str) -> bool:
    """Whether cells of ``mode`` carry a memory ``c`` besides ``h`` (state :class:`LSTMState`).

    True for ``"lstm"`` only; the Elman and GRU cells' state is :class:`HiddenState` ``(h,)``.
    Raises :class:`ConfigError` for an unknown mode.
    """
    if mode not in MODES:
        raise ConfigError(f"unknown recurrent mode {mode!r}; expected one of {', '.join(MODES)}")
    return CELL_CLASSES[mode].has_cell_state


@torch.no_grad()
def init_cell_(
    mode: str,
    weights: tuple[Tensor, Tensor, Tensor, Tensor],
    init: str = "default",
    forget_bias: float | None = None,
) -> None:
    """Initialise ``(weight_ih, weight_hh, bias_ih, bias_hh)`` of one cell in place.

    Schemes:
        ``"default"``: PyTorch's, every entry from ``U(-1/√H, 1/√H)``.
        ``"orthogonal"``: each ``H×H`` gate block of ``weight_hh`` orthogonal (Saxe et al. 2014),
        each gate block of ``weight_ih`` Glorot-uniform, biases zero.
        ``"irnn"``: ``weight_hh = I``, biases zero, ``weight_ih ~ N(0, 0.001²)`` (Le, Jaitly &
        Hinton 2015, for a ReLU Elman network).

    ``forget_bias`` (LSTM) then sets the forget gate's total bias: ``bias_ih[f] = forget_bias``,
    ``bias_hh[f] = 0`` (Gers et al. 2000; Jozefowicz et al. 2015 recommend 1).
    """
    w_ih, w_hh, b_ih, b_hh = weights
    hidden = w_hh.shape[1]
    if init == "default":
        bound = 1.0 / math.sqrt(hidden)
        for w in weights:
            nn.init.uniform_(w, -bound, bound)
    elif init == "orthogonal":
        for g in range(GATES[mode]):
            nn.init.orthogonal_(w_hh[g * hidden : (g + 1) * hidden])
            nn.init.xavier_uniform_(w_ih[g * hidden : (g + 1) * hidden])
        b_ih.zero_()
        b_hh.zero_()
    elif init == "irnn":
        w_hh.copy_(torch.eye(hidden, dtype=w_hh.dtype, device=w_hh.device))
        nn.init.normal_(w_ih, 0.0, 0.001)
        b_ih.zero_()
        b_hh.zero_()
    else:
        raise ConfigError(f"unknown init {init!r}; expected one of {', '.join(INITS)}")
    if forget_bias is not None:
        b_ih[hidden : 2 * hidden].fill_(forget_bias)
        b_hh[hidden : 2 * hidden].zero_()


class FunctionalCell:
    """A cell over given weight tensors: the step equations, with no parameters of its own.

    ``project`` folds every bias that sits outside a gate product into the hoisted input
    projection (all of ``bias_hh`` for Elman and LSTM, the ``r`` and ``z`` parts for GRUs), so
    that a step of an Elman or LSTM cell is one ``addmm`` plus pointwise operations. ``step``
    runs the equations of the cell class of ``mode`` (e.g. :meth:`LSTMCell.recurrence`).

    Args:
        mode: ``"elman"``, ``"lstm"``, ``"gru"`` or ``"gru-cho"``.
        weight_ih: ``(G·H, I)``.
        weight_hh: ``(G·H, H)``.
        bias_ih: ``(G·H,)``.
        bias_hh: ``(G·H,)``.
        nonlinearity: ``"tanh"`` or ``"relu"`` (Elman only).

    Attributes:
        w_hh_t: ``weight_hh`` transposed, ``(H, G·H)``, as the recurrent product
            ``h_{t-1} W_hh^T`` reads it.
        b_hn: ``(H,)``, the GRU's recurrent bias of the candidate ``n``, which sits inside
            ``r ⊙ (…)`` and so cannot be folded into the projection (read by GRUs only).
        relu: Elman only: ``g = relu`` instead of ``tanh``.
    """

    def __init__(
        self,
        mode: str,
        weight_ih: Tensor,
        weight_hh: Tensor,
        bias_ih: Tensor,
        bias_hh: Tensor,
        nonlinearity: str = "tanh",
    ) -> None:
        check_cell_options(mode, nonlinearity)
        self.mode = mode
        self.hidden_size = weight_hh.shape[1]
        self.relu = nonlinearity == "relu"
        self.weight_ih = weight_ih
        self.w_hh_t = weight_hh.t()  # (H, G·H), transposed once per sequence, not per step
        self._recurrence = RECURRENCES[mode]
        hidden = self.hidden_size
        if mode in ("gru", "gru-cho"):
            self.bias_x = bias_ih + torch.cat([bias_hh[: 2 * hidden], bias_hh.new_zeros(hidden)])
        else:
            self.bias_x = bias_ih + bias_hh
        self.b_hn = bias_hh[2 * hidden :]

    @property
    def has_cell_state(self) -> bool:
        """Whether the state is :class:`LSTMState` ``(h, c)`` (the LSTM) rather than ``(h,)``."""
        return has_cell_state(self.mode)

    def project(self, x: Tensor) -> Tensor:
        """The state-independent part of the pre-activations: ``(..., I) -> (..., G·H)``."""
        return nn.functional.linear(x, self.weight_ih, self.bias_x)

    def step(self, xp: Tensor, state: CellState, hidden_mask: Tensor | None = None) -> CellState:
        """One step from the projected input ``xp`` ``(B, G·H)``.

        ``hidden_mask`` ``(B, H)`` is a recurrent-dropout mask (already scaled by ``1/(1-p)``)
        multiplied into ``h_{t-1}`` where it enters the recurrent product (Gal & Ghahramani
        2016); the memory ``c`` and the GRU's carry term ``z ⊙ h_{t-1}`` see the undropped state.
        """
        h_in = state.h if hidden_mask is None else state.h * hidden_mask
        return self._recurrence(self, xp, state, h_in)

    def output(self, state: CellState) -> Tensor:
        """``y_t = h_t``."""
        return state.h

    def initial_state(self, batch_size: int, like: Tensor) -> CellState:
        """Zeros of shape ``(B, H)`` with ``like``'s dtype and device."""
        h = like.new_zeros(batch_size, self.hidden_size)
        return LSTMState(h, torch.zeros_like(h)) if self.has_cell_state else HiddenState(h)

    def __call__(self, x: Tensor, state: CellState | None = None) -> CellState:
        """``state_t = R(state_{t-1}, x_t)`` for ``x_t`` of shape ``(B, I)``."""
        if state is None:
            state = self.initial_state(x.shape[0], x)
        return self.step(self.project(x), state)


#: The step equations of one mode: ``(cell, xp, state, h_in) -> new state``, where ``xp`` is
#: :meth:`FunctionalCell.project`'s output for one step and ``h_in`` is ``h_{t-1}`` as it enters
#: the recurrent product (times the recurrent-dropout mask, if any).
Recurrence: TypeAlias = Callable[[FunctionalCell, Tensor, CellState, Tensor], CellState]


class RecurrentCell(nn.Module):
    """Base of the cell modules: owns ``weight_ih, weight_hh, bias_ih, bias_hh``.

    Shape:
        - x: ``(B, I)``
        - state: a :class:`HiddenState` or :class:`LSTMState` of ``(B, H)`` tensors.
    """

    mode: str = "elman"
    #: Whether the state is :class:`LSTMState` ``(h, c)`` (true for the LSTM only).
    has_cell_state: ClassVar[bool] = False

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        nonlinearity: str = "tanh",
        init: str = "default",
        forget_bias: float | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        check_cell_options(self.mode, nonlinearity, init, forget_bias)
        if input_size <= 0 or hidden_size <= 0:
            raise ConfigError("input_size and hidden_size must be positive")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.nonlinearity = nonlinearity
        self.init = init
        self.forget_bias = forget_bias
        rows = GATES[self.mode] * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size, device=device, dtype=dtype))
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size, device=device, dtype=dtype))
        self.bias_ih = nn.Parameter(torch.empty(rows, device=device, dtype=dtype))
        self.bias_hh = nn.Parameter(torch.empty(rows, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the parameters with the cell's ``init`` scheme (see :func:`init_cell_`)."""
        weights = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        init_cell_(self.mode, weights, self.init, self.forget_bias)

    def functional(self) -> FunctionalCell:
        """The step equations bound to this cell's current parameters."""
        return FunctionalCell(
            self.mode, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.nonlinearity
        )

    def project(self, x: Tensor) -> Tensor:
        """See :meth:`FunctionalCell.project`."""
        return self.functional().project(x)

    def step(self, xp: Tensor, state: CellState, hidden_mask: Tensor | None = None) -> CellState:
        """See :meth:`FunctionalCell.step`."""
        return self.functional().step(xp, state, hidden_mask)

    def output(self, state: CellState) -> Tensor:
        """``y_t = h_t``."""
        return state.h

    def initial_state(self, batch_size: int, like: Tensor) -> CellState:
        """Zeros of shape ``(B, H)`` with ``like``'s dtype and device."""
        return self.functional().initial_state(batch_size, like)

    def forward(self, x: Tensor, state: CellState | None = None) -> CellState:
        """``state_t = R(state_{t-1}, x_t)``."""
        return self.functional()(x, state)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, mode={self.mode!r}"


class ElmanCell(RecurrentCell):
    r"""Elman (1990) simple recurrent cell.

    .. math::
        h_t = g(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}), \qquad y_t = h_t

    with ``g = tanh`` or ``relu`` (Goldberg's ``s_i = g(x_i W^x + s_{i-1} W^s + b)``; PyTorch
    keeps two biases for cuDNN). ``init="irnn"`` with ``nonlinearity="relu"`` is the IRNN of
    Le, Jaitly & Hinton (2015): ``W_hh = I`` and zero biases.

    Args:
        input_size: ``I``.
        hidden_size: ``H``.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        init: ``"default"``, ``"orthogonal"`` or ``"irnn"`` (see :func:`init_cell_`).

    Shape:
        - x: ``(B, I)``
        - state: :class:`HiddenState` ``(h,)``, ``h`` ``(B, H)``
        - output: ``h`` ``(B, H)``
        - weight_ih ``(H, I)``, weight_hh ``(H, H)``, bias_ih and bias_hh ``(H,)``
    """

    mode = "elman"
    has_cell_state = False

    @staticmethod
    def recurrence(cell: FunctionalCell, xp: Tensor, state: CellState, h_in: Tensor) -> CellState:
        """``h_t = g(xp + h_{t-1} W_hh^T)``, where ``xp = x_t W_ih^T + b_ih + b_hh``."""
        # a = xp + h_in @ W_hh^T, fused into one addmm
        a = torch.addmm(xp, h_in, cell.w_hh_t)
        h = torch.relu(a) if cell.relu else torch.tanh(a)
        return HiddenState(h)


class LSTMCell(RecurrentCell):
    r"""Long short-term memory cell (Hochreiter & Schmidhuber 1997, forget gate of Gers et al.
    2000), PyTorch's gate order ``i, f, g, o``.

    .. math::
        i_t &= \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \\
        f_t &= \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\
        g_t &= \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
        o_t &= \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\
        c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
        h_t &= o_t \odot \tanh(c_t)

    ``i``: input gate, ``f``: forget gate, ``g``: candidate memory, ``o``: output gate. The
    memory ``c`` is the cell state: :attr:`has_cell_state` is true.

    Args:
        input_size: ``I``.
        hidden_size: ``H``.
        init: ``"default"`` or ``"orthogonal"``.
        forget_bias: if given, the forget gate's bias starts at this value (e.g. 1.0).

    Shape:
        - x: ``(B, I)``
        - state: :class:`LSTMState` ``(h, c)``, each ``(B, H)``
        - output: ``h`` ``(B, H)``
        - weight_ih ``(4H, I)``, weight_hh ``(4H, H)``, bias_ih and bias_hh ``(4H,)``, gate
          blocks in the order ``i, f, g, o``
    """

    mode = "lstm"
    has_cell_state = True

    @staticmethod
    def recurrence(cell: FunctionalCell, xp: Tensor, state: CellState, h_in: Tensor) -> CellState:
        """One LSTM step; ``xp = x_t W_ih^T + b_ih + b_hh``, all four gates ``(B, 4H)``."""
        assert isinstance(state, LSTMState)
        # gates = xp + h_in @ W_hh^T, fused into one addmm; (B, 4H)
        gates = torch.addmm(xp, h_in, cell.w_hh_t)
        # chunk, not slicing: the backward of a split is one concatenation, while each slice's
        # backward fills a zero tensor of the full width
        i, f, g, o = gates.chunk(4, 1)  # (B, H) each
        i = torch.sigmoid(i)
        f = torch.sigmoid(f)
        g = torch.tanh(g)
        o = torch.sigmoid(o)
        c = f * state.c + i * g
        h = o * torch.tanh(c)
        return LSTMState(h, c)


class GRUCell(RecurrentCell):
    r"""Gated recurrent unit (Cho et al. 2014), in two variants; gate order ``r, z, n``.

    .. math::
        r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\
        z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\
        n_t &= \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn}))
               \quad \text{(mode="gru")} \\
        n_t &= \tanh(W_{in} x_t + b_{in} + W_{hn} (r_t \odot h_{t-1}) + b_{hn})
               \quad \text{(mode="gru-cho")} \\
        h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}

    ``r``: reset gate, ``z``: update gate, ``n``: candidate state. ``"gru"`` is what PyTorch
    and cuDNN compute (ONNX's ``linear_before_reset=1``): the reset gate scales the finished
    product ``W_hn h + b_hn``, so all three recurrent products are one matmul issued before
    ``r`` is known (:meth:`recurrence`). ``"gru-cho"`` is Cho et al.'s eq. (5)–(8): the reset
    gate scales ``h`` *before* the product, which needs a second matmul per step after ``r``
    (:meth:`recurrence_cho`); no fused kernel computes it. Both use the same parameter shapes,
    so a ``torch.nn.GRUCell`` state dict loads into either (the functions differ).

    Args:
        input_size: ``I``.
        hidden_size: ``H``.
        mode: ``"gru"`` or ``"gru-cho"``.
        init: ``"default"`` or ``"orthogonal"``.

    Shape:
        - x: ``(B, I)``
        - state: :class:`HiddenState` ``(h,)``, ``h`` ``(B, H)``
        - output: ``h`` ``(B, H)``
        - weight_ih ``(3H, I)``, weight_hh ``(3H, H)``, bias_ih and bias_hh ``(3H,)``, gate
          blocks in the order ``r, z, n``
    """

    mode = "gru"
    has_cell_state = False

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        mode: str = "gru",
        init: str = "default",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        if mode not in ("gru", "gru-cho"):
            raise ConfigError(f"GRUCell mode must be 'gru' or 'gru-cho', got {mode!r}")
        self.mode = mode
        super().__init__(input_size, hidden_size, init=init, device=device, dtype=dtype)

    @staticmethod
    def recurrence(cell: FunctionalCell, xp: Tensor, state: CellState, h_in: Tensor) -> CellState:
        """One ``"gru"`` step; ``xp = x_t W_ih^T + b_ih + [b_hr, b_hz, 0]`` ``(B, 3H)``."""
        x_r, x_z, x_n = xp.chunk(3, 1)
        h_r, h_z, h_n = torch.mm(h_in, cell.w_hh_t).chunk(3, 1)  # h_{t-1} W_h·^T, (B, H) each
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * (h_n + cell.b_hn))
        h = (1 - z) * n + z * state.h
        return HiddenState(h)

    @staticmethod
    def recurrence_cho(
        cell: FunctionalCell, xp: Tensor, state: CellState, h_in: Tensor
    ) -> CellState:
        """One ``"gru-cho"`` step (Cho et al. 2014, eq. 5–8); ``xp`` as :meth:`recurrence`."""
        hidden = cell.hidden_size
        x_rz, x_n = torch.split(xp, [2 * hidden, hidden], 1)
        w_rz, w_n = torch.split(cell.w_hh_t, [2 * hidden, hidden], 1)
        # r and z pre-activations = x_rz + h_in @ [W_hr; W_hz]^T, fused into one addmm
        a_r, a_z = torch.addmm(x_rz, h_in, w_rz).chunk(2, 1)
        r = torch.sigmoid(a_r)
        z = torch.sigmoid(a_z)
        # n = tanh(x_n + b_hn + (r * h_in) @ W_hn^T), fused into one addmm
        n = torch.tanh(torch.addmm(x_n + cell.b_hn, r * h_in, w_n))
        h = (1 - z) * n + z * state.h
        return HiddenState(h)


#: The cell class of each mode.
CELL_CLASSES: dict[str, type[RecurrentCell]] = {
    "elman": ElmanCell,
    "lstm": LSTMCell,
    "gru": GRUCell,
    "gru-cho": GRUCell,
}

#: The step equations of each mode, as written in its cell class.
RECURRENCES: dict[str, Recurrence] = {
    "elman": ElmanCell.recurrence,
    "lstm": LSTMCell.recurrence,
    "gru": GRUCell.recurrence,
    "gru-cho": GRUCell.recurrence_cho,
}


def make_cell(
    mode: str,
    input_size: int,
    hidden_size: int,
    *,
    nonlinearity: str = "tanh",
    init: str = "default",
    forget_bias: float | None = None,
) -> RecurrentCell:
    """The cell module for ``mode`` (``"elman"``, ``"lstm"``, ``"gru"``, ``"gru-cho"``)."""
    check_cell_options(mode, nonlinearity, init, forget_bias)
    if mode in ("gru", "gru-cho"):
        return GRUCell(input_size, hidden_size, mode=mode, init=init)
    return CELL_CLASSES[mode](
        input_size, hidden_size, nonlinearity=nonlinearity, init=init, forget_bias=forget_bias
    )
