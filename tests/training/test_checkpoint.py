import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from rnnkit.errors import ConfigError, DataFormatError, RnnkitError
from rnnkit.training import checkpoint as ckpt
from rnnkit.training.checkpoint import (
    decode_state,
    encode_state,
    has_checkpoint,
    load_checkpoint,
    load_weights,
    save_checkpoint,
    save_weights,
)


def assert_same(a: Any, b: Any) -> None:
    """Deep equality that also checks types, tensors bit for bit and NaN == NaN."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def sample_state() -> dict[str, Any]:
    return {
        "ints": {0: {"step": torch.tensor(3.0), "m": torch.randn(2, 3)}, 7: None},
        "tuple": (0.9, 0.999, ("nested", 1)),
        "floats": [math.inf, -math.inf, math.nan, 1e-300, -0.0],
        "tensors": [torch.arange(5, dtype=torch.uint8), torch.ones(2, dtype=torch.bfloat16)],
        "empty": torch.zeros(0, 4),
        "bool": torch.tensor([True, False]),
        "array": np.arange(6, dtype=np.uint32).reshape(2, 3),
        "scalar": np.float64(2.5),
        "__tensor__": "a key that looks like a marker",
        "a/b": {"c": torch.ones(1)},
        "a": {"b/c": torch.zeros(1)},
        "text": "ünïcode",
    }


def test_encode_decode_round_trip_through_json() -> None:
    state = sample_state()
    doc, tensors = encode_state(state)
    text = json.dumps(doc, allow_nan=False)  # strict JSON: no NaN/Infinity literals
    back = decode_state(json.loads(text), tensors)
    state["scalar"] = 2.5  # NumPy scalars come back as Python numbers
    assert_same(state, back)


def test_unsupported_values_are_refused() -> None:
    with pytest.raises(ConfigError, match="set"):
        encode_state({"x": {1, 2}})


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    state = sample_state()
    save_checkpoint(tmp_path, state)
    assert has_checkpoint(tmp_path)
    state["scalar"] = 2.5
    assert_same(state, load_checkpoint(tmp_path))


def adam_after_steps(seed: int, steps: int) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        opt.zero_grad()
        model(torch.randn(5, 3)).pow(2).sum().backward()
        opt.step()
    return model, opt


def test_model_and_optimizer_continue_identically(tmp_path: Path) -> None:
    model, opt = adam_after_steps(0, 3)
    save_checkpoint(tmp_path, {"model": model.state_dict(), "optimizer": opt.state_dict()})
    model2, opt2 = adam_after_steps(1, 1)
    state = load_checkpoint(tmp_path)
    model2.load_state_dict(state["model"])
    opt2.load_state_dict(state["optimizer"])
    x = torch.randn(5, 3)
    for m, o in ((model, opt), (model2, opt2)):
        o.zero_grad()
        m(x).pow(2).sum().backward()
        o.step()
    for p, q in zip(model.parameters(), model2.parameters(), strict=True):
        assert torch.equal(p, q)


def test_a_crash_before_the_json_commit_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_checkpoint(tmp_path, {"w": torch.ones(3), "step": 1})

    def crash(path: Path, text: str) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(ckpt, "write_text", crash)
        with pytest.raises(KeyboardInterrupt):
            save_checkpoint(tmp_path, {"w": torch.zeros(3), "step": 2})
    assert len(list(tmp_path.glob("checkpoint-*.safetensors"))) == 2  # the orphan is there
    state = load_checkpoint(tmp_path)
    assert state["step"] == 1 and torch.equal(state["w"], torch.ones(3))
    save_checkpoint(tmp_path, {"w": torch.full((3,), 2.0), "step": 3})
    assert len(list(tmp_path.glob("checkpoint-*.safetensors"))) == 1  # orphans removed
    assert not list(tmp_path.glob(".*.tmp"))
    assert load_checkpoint(tmp_path)["step"] == 3


def test_files_that_do_not_belong_together_are_refused(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "a", {"w": torch.ones(2)})
    save_checkpoint(tmp_path / "b", {"w": torch.zeros(2)})
    (b_tensors,) = (tmp_path / "b").glob("checkpoint-*.safetensors")
    (a_tensors,) = (tmp_path / "a").glob("checkpoint-*.safetensors")
    b_tensors.unlink()
    b_tensors.write_bytes(a_tensors.read_bytes())
    with pytest.raises(DataFormatError, match="does not belong"):
        load_checkpoint(tmp_path / "b")
    b_tensors.unlink()
    with pytest.raises(DataFormatError, match="file not found"):
        load_checkpoint(tmp_path / "b")


def edit_json(run_dir: Path, change: Any) -> None:
    path = run_dir / "checkpoint.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format_version=99), "format 99"),
        (lambda d: d.update(tensors="../../etc/passwd"), "bad tensor file name"),
        (lambda d: d.pop("nonce"), "keys missing"),
        (lambda d: d["state"].update(extra={"__tensor__": "nope"}), "nope"),
    ],
)
def test_damaged_checkpoints_are_refused(tmp_path: Path, change: Any, message: str) -> None:
    save_checkpoint(tmp_path, {"w": torch.ones(2)})
    edit_json(tmp_path, change)
    with pytest.raises(DataFormatError, match=message):
        load_checkpoint(tmp_path)


def test_bad_json_and_bad_safetensors(tmp_path: Path) -> None:
    save_checkpoint(tmp_path, {"w": torch.ones(2)})
    (tensors,) = tmp_path.glob("checkpoint-*.safetensors")
    tensors.write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00nope!")
    with pytest.raises(DataFormatError, match="safetensors"):
        load_checkpoint(tmp_path)
    (tmp_path / "checkpoint.json").write_text('{\n "format_version": 1,\n oops\n}')
    with pytest.raises(DataFormatError, match=r"checkpoint.json:3:"):
        load_checkpoint(tmp_path)


def test_missing_checkpoint(tmp_path: Path) -> None:
    assert not has_checkpoint(tmp_path)
    with pytest.raises(RnnkitError, match="no checkpoint"):
        load_checkpoint(tmp_path)


class Tied(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(7, 4)
        self.out = torch.nn.Linear(4, 7)
        self.out.weight = self.emb.weight  # weight tying (Press & Wolf 2017)


def test_weights_with_tied_parameters_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = Tied()
    save_weights(model, tmp_path / "model.safetensors")
    torch.manual_seed(1)
    other = Tied()
    load_weights(other, tmp_path / "model.safetensors")
    for p, q in zip(model.state_dict().values(), other.state_dict().values(), strict=True):
        assert torch.equal(p, q)
    assert other.out.weight is other.emb.weight
    with pytest.raises(DataFormatError, match="do not fit"):
        load_weights(torch.nn.Linear(2, 2), tmp_path / "model.safetensors")


def test_rng_states_survive_a_checkpoint(tmp_path: Path) -> None:
    from rnnkit.training.rng import get_rng_state, set_rng_state

    torch.manual_seed(5)
    random.seed(5)
    np.random.seed(5)
    save_checkpoint(tmp_path, {"rng": get_rng_state()})
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    set_rng_state(load_checkpoint(tmp_path)["rng"])
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected
