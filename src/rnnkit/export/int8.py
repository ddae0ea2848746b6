r"""Dynamic int8 quantization (PyTorch's own ``torch.ao.quantization.quantize_dynamic``) and its
storage in safetensors, without pickle.

Dynamic quantization stores each weight matrix as int8 with one scale per tensor,
:math:`W \approx s\,(W_q - z)`, and quantizes the activations on the fly, batch by batch; the
matrix products run in int8 (fbgemm/onednn) and the results return to float32 (Jacob et al.
2018; PyTorch's dynamic quantization of LSTMs for language models). What is quantized: every
``nn.Linear`` and every LSTM/GRU stack (``rnnkit.nn.RNN`` in ``lstm``/``gru`` mode, run as
PyTorch's quantized LSTM/GRU through :class:`QuantizedRNN`); embeddings, CNNs, the CRF,
``elman`` and ``gru-cho`` stacks stay float32.

On disk (``model.safetensors``): each quantized weight ``W`` as ``W.int8`` (int8),
``W.scale`` (float64) and ``W.zero_point`` (int64), each bias and every float tensor under its
own name. Loading quantizes the float skeleton's structure (the same module tree) and sets the
stored int8 weights into it: the reloaded model computes bit-identical outputs.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.ao.nn.quantized import dynamic as qd
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnkit.errors import ConfigError, DataFormatError
from rnnkit.nn import LSTMState
from rnnkit.nn.recurrent import RNN, State
from rnnkit.training.checkpoint import load_tensors, save_tensors

__all__ = ["QuantizedRNN", "load_int8", "quantize", "save_int8"]

_TORCH_RNN = {"lstm": nn.LSTM, "gru": nn.GRU}


class QuantizedRNN(nn.Module):
    """An :class:`~rnnkit.nn.RNN` stack run as PyTorch's dynamically quantized LSTM/GRU, with
    the RNN's calls (``forward(x, lengths, state)``, ``outputs``) and padding rules: padded
    batches run packed, so outputs are zero at padding and final states are each sequence's own.

    Shape:
        as :class:`~rnnkit.nn.RNN` (batch-first or not, as the float stack was).
    """

    def __init__(self, rnn: RNN) -> None:
        super().__init__()
        if rnn.cell_mode not in _TORCH_RNN:
            raise ConfigError(f"only lstm and gru stacks quantize, not {rnn.cell_mode!r}")
        float_rnn = _TORCH_RNN[rnn.cell_mode](
            rnn.input_size,
            rnn.hidden_size,
            rnn.num_layers,
            batch_first=rnn.batch_first,
            dropout=rnn.dropout,
            bidirectional=rnn.bidirectional,
        )
        float_rnn.load_state_dict(rnn.state_dict())  # PyTorch's names and layout (design §3)
        self.rnn = _quantize_dynamic(nn.Sequential(float_rnn), {type(float_rnn)}).get_submodule("0")
        self.cell_mode, self.batch_first = rnn.cell_mode, rnn.batch_first
        self.input_size, self.hidden_size = rnn.input_size, rnn.hidden_size
        self.num_layers, self.bidirectional = rnn.num_layers, rnn.bidirectional
        self.output_size = rnn.output_size

    def forward(
        self,
        x: Tensor,
        lengths: Tensor | None = None,
        state: Tensor | tuple[Tensor, Tensor] | None = None,
    ) -> tuple[Tensor, State]:
        hx = tuple(state) if isinstance(state, tuple) else state
        if lengths is None:
            output, final = self.rnn(x, hx)
        else:
            total = x.shape[1] if self.batch_first else x.shape[0]
            packed = pack_padded_sequence(
                x, lengths.cpu(), batch_first=self.batch_first, enforce_sorted=False
            )
            out_packed, final = self.rnn(packed, hx)
            output, _ = pad_packed_sequence(
                out_packed, batch_first=self.batch_first, total_length=total
            )
        if isinstance(final, tuple):
            return output, LSTMState(final[0], final[1])
        return output, final

    def outputs(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Only the outputs, ``(B, T, D·H)``, zero at padding."""
        output: Tensor = self(x, lengths)[0]
        return output


def quantize(model: nn.Module) -> nn.Module:
    """``model`` (in place) with its LSTM/GRU stacks and linear layers dynamically quantized to
    int8; returns the quantized model (eval mode)."""
    model.eval()
    for name, module in list(model.named_modules()):
        if isinstance(module, RNN) and module.cell_mode in _TORCH_RNN:
            parent, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent), child, QuantizedRNN(module))
    return _quantize_dynamic(model, {nn.Linear}).eval()


def _quantize_dynamic(model: nn.Module, types: set[type[nn.Module]]) -> nn.Module:
    """PyTorch's ``quantize_dynamic`` to qint8, its deprecation notice silenced (``torch.ao``
    quantization is moving to the separate torchao package, which rnnkit does not need)."""
    quantize_dynamic: Any = torch.ao.quantization.quantize_dynamic
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantized: nn.Module = quantize_dynamic(model, types, dtype=torch.qint8)
    return quantized


def _quantized_weights(model: nn.Module) -> dict[str, Tensor | None]:
    """Every quantized module's weights (quantized tensors) and biases, by full name."""
    out: dict[str, Tensor | None] = {}
    for name, module in model.named_modules():
        prefix = f"{name}." if name else ""
        q: Any = module  # torch.ao's quantized modules are untyped
        if isinstance(module, qd.Linear):
            out[f"{prefix}weight"], out[f"{prefix}bias"] = q.weight(), q.bias()
        elif isinstance(module, qd.LSTM | qd.GRU):
            parts = q._weight_bias()
            for key, value in {**parts["weight"], **parts["bias"]}.items():
                out[f"{prefix}{key}"] = value
    return out


def _float_state(model: nn.Module) -> dict[str, Tensor]:
    """The plain float tensors of ``model``'s state (outside the quantized modules)."""
    packed = tuple(
        f"{name}."
        for name, m in model.named_modules()
        if isinstance(m, qd.Linear | qd.LSTM | qd.GRU)
    )
    return {
        key: value
        for key, value in model.state_dict().items()
        if not key.startswith(packed) and isinstance(value, Tensor) and not value.is_quantized
    }


def int8_tensors(model: nn.Module) -> dict[str, Tensor]:
    """The safetensors content of a quantized ``model`` (module docstring)."""
    tensors = dict(_float_state(model))
    for key, value in _quantized_weights(model).items():
        if value is None:
            continue
        if value.is_quantized:
            tensors[f"{key}.int8"] = value.int_repr().contiguous()
            tensors[f"{key}.scale"] = torch.tensor([value.q_scale()], dtype=torch.float64)
            tensors[f"{key}.zero_point"] = torch.tensor([value.q_zero_point()], dtype=torch.int64)
        else:
            tensors[key] = value.detach().contiguous()
    return tensors


def save_int8(model: nn.Module, path: Path) -> None:
    """Write a quantized ``model`` to ``path`` (safetensors, atomically)."""
    save_tensors(path, int8_tensors(model), metadata={"format": "rnnkit-int8"})


def load_int8(skeleton: nn.Module, path: Path) -> nn.Module:
    """Quantize the float ``skeleton`` (an untrained network of the right shape) and load the
    int8 weights and float tensors of ``path`` into it."""
    model = quantize(skeleton)
    tensors, _ = load_tensors(path)
    expected = _float_state(model)
    missing = sorted(set(expected) - set(tensors))
    if missing:
        raise DataFormatError(path, f"int8 weights do not fit the model: missing {missing[:5]}")
    for key, target in expected.items():  # state_dict() tensors share the model's storage
        if tensors[key].shape != target.shape:
            raise DataFormatError(
                path,
                f"int8 weights do not fit the model: {key} has shape "
                f"{tuple(tensors[key].shape)}, not {tuple(target.shape)}",
            )
        target.copy_(tensors[key])
    for name, module in model.named_modules():
        prefix = f"{name}." if name else ""
        q: Any = module
        if isinstance(module, qd.Linear):
            q.set_weight_bias(
                _qtensor(tensors, f"{prefix}weight", path), tensors.get(f"{prefix}bias")
            )
        elif isinstance(module, qd.LSTM | qd.GRU):
            parts = q._weight_bias()
            q.set_weight_bias(
                {
                    **{k: _qtensor(tensors, prefix + k, path) for k in parts["weight"]},
                    **{k: tensors[prefix + k] for k in parts["bias"]},
                }
            )
    return model.eval()


def _qtensor(tensors: Mapping[str, Tensor], key: str, path: Path) -> Tensor:
    try:
        values = tensors[f"{key}.int8"]
        scale, zero = float(tensors[f"{key}.scale"][0]), int(tensors[f"{key}.zero_point"][0])
    except KeyError as err:
        raise DataFormatError(
            path, f"int8 weights do not fit the model: no {err.args[0]}"
        ) from None
    return torch._make_per_tensor_quantized_tensor(values, scale, zero)
