import dataclasses
from typing import NamedTuple

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.training.device import move_to_device, resolve_bf16, resolve_device


def test_resolve_device() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    with pytest.raises(ConfigError, match="unknown device 'tpu'"):
        resolve_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_requested_without_cuda() -> None:
    with pytest.raises(ConfigError, match="CUDA is not available"):
        resolve_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_index_out_of_range() -> None:
    assert resolve_device("cuda").type == "cuda"
    with pytest.raises(ConfigError, match="CUDA device"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")


def test_bf16_only_on_cuda() -> None:
    cpu = torch.device("cpu")
    assert resolve_bf16(False, cpu, "cpu") is False
    with pytest.raises(ConfigError, match="CUDA only"):
        resolve_bf16(True, cpu, "cpu")
    with pytest.warns(UserWarning, match="float32"):
        assert resolve_bf16(True, cpu, "auto") is False


class Pair(NamedTuple):
    a: torch.Tensor
    b: str


@dataclasses.dataclass(frozen=True)
class Batch:
    ids: torch.Tensor
    extra: dict[str, object]
    name: str = "x"


def test_move_to_device_walks_the_batch() -> None:
    batch = Batch(torch.ones(2), {"p": Pair(torch.zeros(1), "s"), "l": [torch.ones(3), 4]})
    moved = move_to_device(batch, torch.device("meta"))  # "meta" stands for another device
    assert isinstance(moved, Batch) and moved.name == "x"
    assert moved.ids.device.type == "meta"
    pair = moved.extra["p"]
    assert isinstance(pair, Pair) and pair.a.is_meta and pair.b == "s"
    assert moved.extra["l"][0].is_meta and moved.extra["l"][1] == 4  # type: ignore[index]
    assert batch.ids.device.type == "cpu"  # the original is left alone
