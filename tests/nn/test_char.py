"""Character encoders: padding never changes a word's vector; unique_words bookkeeping."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.nn.char import CharBiLSTM, CharCNN, make_char_encoder, unique_words


@pytest.mark.parametrize("kind", ["cnn", "lstm"])
def test_padding_does_not_change_a_word(kind: str) -> None:
    torch.manual_seed(0)
    enc = make_char_encoder(kind, 10, 4, 6).eval()
    words = [[3, 4, 5, 6], [7], [2, 9]]
    chars = torch.zeros(3, 7, dtype=torch.long)
    for i, w in enumerate(words):
        chars[i, : len(w)] = torch.tensor(w)
    batch = enc(chars, torch.tensor([4, 1, 2]))
    assert batch.shape == (3, 6)
    for i, w in enumerate(words):
        alone = enc(torch.tensor([w]), torch.tensor([len(w)]))
        torch.testing.assert_close(batch[i], alone[0])


def test_cnn_equals_max_over_explicit_windows() -> None:
    torch.manual_seed(1)
    enc = CharCNN(6, 3, 2, kernel_size=3)
    ids = torch.tensor([[1, 2, 3]])
    e = enc.embedding(ids)[0]  # (L, C)
    padded = torch.cat([torch.zeros(1, 3), e, torch.zeros(1, 3)])
    w, b = enc.conv.weight, enc.conv.bias  # (F, C, 3), (F,)
    windows = [(w * padded[i : i + 3].t()).sum(dim=(1, 2)) + b for i in range(3)]  # type: ignore[operator]
    torch.testing.assert_close(enc(ids, torch.tensor([3]))[0], torch.stack(windows).amax(0))


def test_bilstm_is_forward_last_and_backward_first() -> None:
    torch.manual_seed(2)
    enc = CharBiLSTM(6, 3, 4)
    out, _ = enc.rnn(enc.embedding(torch.tensor([[1, 2, 3]])))
    torch.testing.assert_close(
        enc(torch.tensor([[1, 2, 3]]), torch.tensor([3]))[0],
        torch.cat([out[0, -1, :4], out[0, 0, 4:]]),
    )


def test_unique_words_rows_and_index() -> None:
    sents = [["ab", "c", "ab"], ["c", "defghi"]]
    chars, lengths, index = unique_words(sents, lambda w: [ord(c) - 96 for c in w], max_length=4)
    assert index.tolist() == [[0, 1, 0], [1, 2, 0]]
    assert lengths.tolist() == [2, 1, 4]
    assert chars.tolist() == [[1, 2, 0, 0], [3, 0, 0, 0], [4, 5, 8, 9]]  # prefix + suffix kept


def test_bad_options() -> None:
    with pytest.raises(ConfigError):
        CharCNN(10, kernel_size=2)
    with pytest.raises(ConfigError):
        make_char_encoder("gru", 10, 4, 6)
    with pytest.raises(ConfigError):
        make_char_encoder("lstm", 10, 4, 7)
    with pytest.raises(ConfigError):
        CharBiLSTM(10, dropout=1.0)
    with pytest.raises(ConfigError):
        unique_words([["a"]], lambda w: [1], max_length=1)
