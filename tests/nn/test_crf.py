"""CRF oracles: brute-force enumeration of every path, gradcheck, masks, constraints."""

from __future__ import annotations

import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit.data.tagschemes import constraints, is_valid
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.crf import CRF, Constraints


def _crf(k: int, seed: int = 0, c: Constraints | None = None) -> CRF:
    torch.manual_seed(seed)
    crf = CRF(k, c).double()
    with torch.no_grad():  # bigger than the default init, so paths differ clearly
        for p in crf.parameters():
            p.normal_()
    return crf


def _path_score(crf: CRF, em: torch.Tensor, path: tuple[int, ...]) -> float:
    """s(x, y) written out term by term (one sentence, ``em`` ``(T, K)``)."""
    crf = crf.requires_grad_(False)
    s = crf.start_transitions[path[0]] + crf.end_transitions[path[-1]]
    s = s + sum(em[i, y] for i, y in enumerate(path))
    s = s + sum(crf.transitions[a, b] for a, b in itertools.pairwise(path))
    return float(s)


@pytest.mark.parametrize("length", [1, 2, 3, 4])
def test_partition_and_viterbi_equal_brute_force(length: int) -> None:
    k = 3
    crf = _crf(k, seed=length)
    em = torch.randn(1, length, k, dtype=torch.float64)
    paths = list(itertools.product(range(k), repeat=length))
    scores = torch.tensor([_path_score(crf, em[0], p) for p in paths], dtype=torch.float64)
    assert float(crf.log_partition(em)[0]) == pytest.approx(float(scores.logsumexp(0)), abs=1e-10)
    tags, best = crf.decode(em)
    assert tuple(tags[0].tolist()) == paths[int(scores.argmax())]
    assert float(best[0]) == pytest.approx(float(scores.max()), abs=1e-10)
    for p in paths[:5]:
        gold = torch.tensor([p])
        assert float(crf.score(em, gold)[0]) == pytest.approx(_path_score(crf, em[0], p))


def test_nbest_equals_sorted_enumeration() -> None:
    k, length, n = 3, 4, 7
    crf = _crf(k, seed=5)
    em = torch.randn(1, length, k, dtype=torch.float64)
    paths = list(itertools.product(range(k), repeat=length))
    scores = [_path_score(crf, em[0], p) for p in paths]
    ranked = sorted(zip(scores, paths, strict=True), reverse=True)[:n]
    tags, best = crf.nbest(em, n)
    assert [tuple(t) for t in tags[0].tolist()] == [p for _, p in ranked]
    assert best[0].tolist() == pytest.approx([s for s, _ in ranked])


def test_nbest_with_fewer_paths_than_n() -> None:
    crf = _crf(2, seed=1)
    tags, best = crf.nbest(torch.randn(1, 1, 2, dtype=torch.float64), 4)
    assert sorted(tags[0, :2, 0].tolist()) == [0, 1]
    assert torch.isinf(best[0, 2:]).all()


def test_nll_gradcheck_float64() -> None:
    crf = _crf(3, seed=2)
    em = torch.randn(2, 3, 3, dtype=torch.float64, requires_grad=True)
    tags = torch.tensor([[0, 1, 2], [2, 2, 0]])
    mask = torch.tensor([[True] * 3, [True, True, False]])
    params = (crf.transitions, crf.start_transitions, crf.end_transitions)

    # the parameters go in through functional_call, so gradcheck perturbs them too
    def functional(
        e: torch.Tensor, a: torch.Tensor, s: torch.Tensor, f: torch.Tensor
    ) -> torch.Tensor:
        state = {"transitions": a, "start_transitions": s, "end_transitions": f}
        return torch.func.functional_call(crf, state, (e, tags, mask), {"reduction": "sum"})  # type: ignore[no-any-return]

    inputs = (em, *(p.detach().clone().requires_grad_(True) for p in params))
    assert torch.autograd.gradcheck(functional, inputs)


def test_padded_batch_equals_each_sentence_alone() -> None:
    crf = _crf(4, seed=3)
    lengths = [5, 2, 1, 3]
    sents = [torch.randn(n, 4, dtype=torch.float64) for n in lengths]
    gold = [torch.randint(0, 4, (n,)) for n in lengths]
    em = torch.full((4, 5, 4), 123.0, dtype=torch.float64)  # padding values must not matter
    tags = torch.full((4, 5), 3, dtype=torch.long)
    mask = torch.zeros(4, 5, dtype=torch.bool)
    for i, n in enumerate(lengths):
        em[i, :n], tags[i, :n], mask[i, :n] = sents[i], gold[i], True
    nll = crf(em, tags, mask, reduction="none").detach()
    best, score = crf.decode(em, mask)
    nbest_tags, nbest_scores = crf.nbest(em, 3, mask)
    for i, n in enumerate(lengths):
        alone = crf(sents[i][None], gold[i][None], reduction="none").detach()
        assert float(nll[i]) == pytest.approx(float(alone[0]), abs=1e-10)
        one, one_score = crf.decode(sents[i][None])
        assert best[i, :n].tolist() == one[0].tolist()
        assert best[i, n:].eq(0).all()
        assert float(score[i]) == pytest.approx(float(one_score[0]))
        top, top_scores = crf.nbest(sents[i][None], 3)
        assert nbest_tags[i, :, :n].tolist() == top[0].tolist()
        assert nbest_scores[i].tolist() == pytest.approx(top_scores[0].tolist())


def test_loss_reductions_and_gradients_flow() -> None:
    crf = CRF(3)
    em = torch.randn(2, 3, 3, requires_grad=True)
    tags = torch.zeros(2, 3, dtype=torch.long)
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]], dtype=torch.bool)
    per = crf(em, tags, mask, reduction="none")
    assert (per > 0).all()  # -log p of one path among 27 (or 9)
    assert float(crf(em, tags, mask, reduction="sum")) == pytest.approx(float(per.sum()))
    assert float(crf(em, tags, mask)) == pytest.approx(float(per.mean()))
    assert float(crf(em, tags, mask, reduction="token_mean")) == pytest.approx(float(per.sum() / 5))
    crf(em, tags, mask).backward()
    assert em.grad is not None and float(em.grad[1, 2].abs().sum()) == 0.0  # padding: no grad
    with pytest.raises(ConfigError):
        crf(em, tags, mask, reduction="max")


def test_bad_shapes() -> None:
    crf = CRF(3)
    with pytest.raises(ShapeError):
        crf.decode(torch.randn(2, 3, 4))
    with pytest.raises(ShapeError):
        crf.decode(torch.randn(2, 3, 3), torch.ones(2, 2, dtype=torch.bool))
    with pytest.raises(ShapeError):
        crf.decode(torch.randn(1, 2, 3), torch.tensor([[False, True]]))
    with pytest.raises(ShapeError):
        CRF(3, Constraints.none(4))
    with pytest.raises(ConfigError):
        CRF(0)


TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 4),
    st.integers(0, 2**31 - 1),
    st.sampled_from(["iob2", "bioes"]),
)
def test_constrained_decoding_never_emits_invalid_transitions(
    length: int, batch: int, seed: int, scheme: str
) -> None:
    tags = TAGS if scheme == "iob2" else [*TAGS, "E-PER", "S-PER", "E-LOC", "S-LOC"]
    gen = torch.Generator().manual_seed(seed)
    crf = CRF(len(tags), constraints(tags, scheme))
    with torch.no_grad():
        crf.transitions.normal_(0, 5, generator=gen)
        crf.start_transitions.normal_(0, 5, generator=gen)
        crf.end_transitions.normal_(0, 5, generator=gen)
    em = torch.randn(batch, length, len(tags), generator=gen) * 10
    lengths = torch.randint(1, length + 1, (batch,), generator=gen)
    mask = torch.arange(length)[None] < lengths[:, None]
    best, _ = crf.decode(em, mask)
    top, scores = crf.nbest(em, 3, mask)
    for i, n in enumerate(lengths.tolist()):
        assert is_valid([tags[j] for j in best[i, :n].tolist()], scheme)
        for r in range(3):
            if torch.isfinite(scores[i, r]):
                assert is_valid([tags[j] for j in top[i, r, :n].tolist()], scheme)


def test_constrained_partition_sums_only_valid_paths() -> None:
    tags = ["O", "B-X", "I-X"]
    crf = _crf(3, seed=4, c=constraints(tags, "iob2"))
    em = torch.randn(1, 3, 3, dtype=torch.float64)
    valid = [
        p for p in itertools.product(range(3), repeat=3) if is_valid([tags[j] for j in p], "iob2")
    ]
    assert len(valid) < 27
    scores = torch.tensor([_path_score(crf, em[0], p) for p in valid], dtype=torch.float64)
    assert float(crf.log_partition(em)[0]) == pytest.approx(float(scores.logsumexp(0)))


def _reference_setup(scheme: str | None, seed: int) -> tuple[CRF, torch.Tensor, torch.Tensor]:
    """A float64 CRF over TAGS (constrained by ``scheme`` unless None), emissions ``(6, 7, K)``
    and a mask of variable lengths (a full row and a one-token row among them)."""
    tags = TAGS if scheme != "bioes" else [*TAGS, "E-PER", "S-PER", "E-LOC", "S-LOC"]
    crf = _crf(len(tags), seed=seed, c=None if scheme is None else constraints(tags, scheme))
    gen = torch.Generator().manual_seed(seed)
    em = 3 * torch.randn(6, 7, len(tags), dtype=torch.float64, generator=gen)
    lengths = torch.tensor([7, 1, 4, 7, 2, 5])
    mask = torch.arange(7)[None] < lengths[:, None]
    return crf, em, mask


@pytest.mark.parametrize("scheme", [None, "iob2", "bioes"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_log_partition_equals_the_reference_recursion(scheme: str | None, seed: int) -> None:
    crf, em, mask = _reference_setup(scheme, seed)
    fast = crf.log_partition(em, mask)
    reference = crf.log_partition_reference(em, mask)
    torch.testing.assert_close(fast, reference, atol=1e-9, rtol=0)
    torch.testing.assert_close(
        crf.log_partition(em), crf.log_partition_reference(em), atol=1e-9, rtol=0
    )
    # and the reference is the recursion of each sentence alone
    for b, n in enumerate(mask.sum(1).tolist()):
        alone = crf.log_partition_reference(em[b : b + 1, :n])
        assert float(reference[b]) == pytest.approx(float(alone[0]), abs=1e-12)


class _Partition(torch.nn.Module):
    """``crf.<method>(emissions, mask)`` as a module's forward, for ``functional_call``."""

    def __init__(self, crf: CRF, method: str) -> None:
        super().__init__()
        self.crf = crf
        self.method = method

    def forward(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = getattr(self.crf, self.method)(emissions, mask)
        return out


@pytest.mark.parametrize("scheme", [None, "iob2"])
@pytest.mark.parametrize("method", ["log_partition", "log_partition_reference"])
def test_log_partition_gradcheck_float64(scheme: str | None, method: str) -> None:
    crf, em, mask = _reference_setup(scheme, seed=3)
    em, mask = em[:3, :4].clone().requires_grad_(True), mask[:3, :4]
    module = _Partition(crf, method)
    params = (crf.transitions, crf.start_transitions, crf.end_transitions)

    # the parameters go in through functional_call, so gradcheck perturbs them too
    def functional(
        e: torch.Tensor, a: torch.Tensor, s: torch.Tensor, f: torch.Tensor
    ) -> torch.Tensor:
        names = ("transitions", "start_transitions", "end_transitions")
        state = {f"crf.{n}": p for n, p in zip(names, (a, s, f), strict=True)}
        return torch.func.functional_call(module, state, (e, mask))  # type: ignore[no-any-return]

    inputs = (em, *(p.detach().clone().requires_grad_(True) for p in params))
    assert torch.autograd.gradcheck(functional, inputs)
