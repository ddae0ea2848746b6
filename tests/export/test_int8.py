"""int8 export: the quantized LSTM/GRU keeps the RNN's padding rules, the stored model reloads
bit-identical to the quantized one in memory, the file holds int8 tensors and no pickle, and
stacks that PyTorch cannot quantize stay float."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import safe_open
from torch import nn
from torch.ao.nn.quantized import dynamic as qd

from rnnkit.export.int8 import QuantizedRNN, load_int8, quantize, save_int8
from rnnkit.nn import RNN, LSTMState
from tests.export.test_tag import trained_tagger


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_a_padded_batch_gives_what_each_sequence_gives_alone(mode: str) -> None:
    torch.manual_seed(0)
    rnn = QuantizedRNN(RNN(mode, 5, 4, num_layers=2, bidirectional=True))
    x, lengths = torch.randn(3, 6, 5), torch.tensor([6, 2, 4])
    out, state = rnn(x, lengths)
    # activations are quantized per batch: another batch, another scale, so "the same" is
    # within int8 rounding (~1e-2 here), far below the 0.2-0.4 of a state read past the padding
    close: dict[str, Any] = {"atol": 5e-2, "rtol": 0.0}
    assert out.shape == (3, 6, 8) and bool((out[1, 2:] == 0).all())
    for b, n in enumerate(lengths.tolist()):
        alone, alone_state = rnn(x[b : b + 1, :n])
        torch.testing.assert_close(out[b : b + 1, :n], alone, **close)
        h = state.h if isinstance(state, LSTMState) else state
        h_alone = alone_state.h if isinstance(alone_state, LSTMState) else alone_state
        torch.testing.assert_close(h[:, b : b + 1], h_alone, **close)
    torch.testing.assert_close(rnn.outputs(x, lengths), out)


def test_the_reloaded_model_is_bit_identical_and_stored_as_int8(tmp_path: Path) -> None:
    tagger = trained_tagger("lstm", "crf", "lstm")
    skeleton = copy.deepcopy(tagger.model)
    with torch.no_grad():  # the skeleton's weights must not matter
        for p in skeleton.parameters():
            p.normal_()
    quantized = quantize(tagger.model)
    save_int8(quantized, tmp_path / "model.safetensors")
    reloaded = load_int8(skeleton, tmp_path / "model.safetensors")
    sentences = [["The", "dog", "sees", "a", "bird", "."], ["She"], ["Zebras", "fly"]]
    (batch,) = tagger.batches(sentences, batch_size=3, bucket=0)
    with torch.no_grad():
        assert torch.equal(reloaded(batch).logits, quantized(batch).logits)
    assert isinstance(reloaded.encoder, QuantizedRNN)
    with safe_open(str(tmp_path / "model.safetensors"), "pt") as f:
        keys = set(f.keys())
        assert f.get_tensor("encoder.rnn.weight_ih_l0.int8").dtype == torch.int8
        assert f.get_tensor("head.proj.weight.int8").dtype == torch.int8
        assert "encoder.weight_ih_l0" not in keys and "head.crf.transitions" in keys


def test_elman_stacks_stay_float_and_linear_layers_quantize() -> None:
    model = nn.Sequential(RNN("elman", 4, 3), nn.Linear(3, 2))
    quantized = quantize(model)
    assert isinstance(quantized.get_submodule("0"), RNN)
    assert isinstance(quantized.get_submodule("1"), qd.Linear)
