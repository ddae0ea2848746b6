r"""Generation from a language model (one-to-many): greedy decoding and sampling, streamed.

At each step the next token is drawn from :math:`p(w \mid \text{context})^{1/\tau}`
(temperature :math:`\tau`; :math:`\tau = 0` is greedy decoding, the arg-max), optionally
restricted to the ``k`` most probable tokens (top-k; Fan et al. 2018) and to the smallest set
whose probability reaches ``p`` (top-p or nucleus sampling; Holtzman et al. 2020), and
renormalised. The context is ``<eos>`` (a line break) followed by the prompt's tokens, or, for a
label-conditioned generator, the label's initial state and ``<eos>``. A seeded generator makes
the output repeatable; pieces of text are yielded as soon as each token is drawn.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from rnnkit.errors import ConfigError
from rnnkit.models.lm.artifact import TextLM
from rnnkit.nn.recurrent import State

__all__ = ["GenerationConfig", "filter_distribution", "generate", "generate_text"]


@dataclass(frozen=True)
class GenerationConfig:
    """How to choose each next token.

    Args:
        length: tokens to generate (words, or characters at character level).
        temperature: ``τ``; ``0`` means greedy.
        top_k: keep only the ``k`` most probable tokens (``None``: all).
        top_p: keep the smallest set of most probable tokens whose mass reaches ``p``.
        greedy: always take the most probable token (same as ``temperature=0``).
        seed: seeds the sampling (``None``: a fresh seed each time).
        stop_at_eos: end at the first ``<eos>`` (a line break).
    """

    length: int = 100
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    greedy: bool = False
    seed: int | None = None
    stop_at_eos: bool = False

    def __post_init__(self) -> None:
        if self.length < 0:
            raise ConfigError(f"length must be >= 0, got {self.length}")
        if self.temperature < 0:
            raise ConfigError(f"temperature must be >= 0, got {self.temperature}")
        if self.top_k is not None and self.top_k < 1:
            raise ConfigError(f"top-k must be >= 1, got {self.top_k}")
        if self.top_p is not None and not 0.0 < self.top_p <= 1.0:
            raise ConfigError(f"top-p must be in (0, 1], got {self.top_p}")

    @property
    def is_greedy(self) -> bool:
        """Whether decoding is the arg-max at every step."""
        return self.greedy or self.temperature == 0.0


def filter_distribution(
    log_probs: Tensor, temperature: float, top_k: int | None = None, top_p: float | None = None
) -> Tensor:
    """Probabilities ``(V,)`` to sample from: tempered, top-k and top-p filtered, renormalised.

    Args:
        log_probs: ``(V,)`` log-probabilities of the next token.
        temperature: ``τ > 0``.
    """
    if temperature <= 0:
        raise ConfigError("sampling needs temperature > 0 (use greedy decoding for 0)")
    probs = torch.softmax(log_probs.double() / temperature, dim=-1)
    if top_k is not None and top_k < probs.numel():
        kth = torch.topk(probs, top_k).values[-1]
        probs = torch.where(probs >= kth, probs, torch.zeros_like(probs))
    if top_p is not None and top_p < 1.0:
        sorted_p, order = torch.sort(probs, descending=True)
        mass_before = torch.cumsum(sorted_p, 0) - sorted_p
        # keep a token while the mass of the more probable ones is still below top_p
        keep_sorted = mass_before < top_p * sorted_p.sum()
        keep = torch.zeros_like(keep_sorted)
        keep[order] = keep_sorted
        probs = torch.where(keep, probs, torch.zeros_like(probs))
    return probs / probs.sum()


def _context(lm: TextLM, prompt: str, condition: str | None) -> tuple[list[int], State | None]:
    model = lm.model
    state: State | None = None
    if lm.labels is not None:
        if condition is None:
            raise ConfigError(f"this generator needs a condition: one of {', '.join(lm.labels)}")
        device = next(model.parameters()).device
        state = model.initial_state(torch.tensor([lm.label_id(condition)], device=device))
    elif condition is not None:
        raise ConfigError("this language model is not conditioned on labels")
    ids = [lm.eos_id]
    for i, line in enumerate(prompt.split("\n")):
        if i > 0:
            ids.append(lm.eos_id)
        ids += lm.vocab.encode(lm.tokenize(line))
    return ids, state


@torch.no_grad()
def generate(
    lm: TextLM,
    prompt: str = "",
    config: GenerationConfig | None = None,
    condition: str | None = None,
) -> Iterator[str]:
    """Yield the continuation of ``prompt`` piece by piece (a word with its leading space, a
    character, or ``"\\n"`` for ``<eos>``); the prompt itself is not repeated."""
    cfg = config or GenerationConfig()
    model = lm.model
    model.eval()
    device = next(model.parameters()).device
    ids, state = _context(lm, prompt, condition)
    generator = torch.Generator(device="cpu")
    if cfg.seed is not None:
        generator.manual_seed(cfg.seed)
    else:
        generator.seed()
    out = model(torch.tensor([ids], device=device), state=state)
    hidden, state = out.hidden[0, -1], out.state
    at_line_start = ids[-1] == lm.eos_id
    for _ in range(cfg.length):
        log_probs = model.log_probs(hidden).cpu()
        if cfg.is_greedy:
            token = int(log_probs.argmax())
        else:
            probs = filter_distribution(log_probs, cfg.temperature, cfg.top_k, cfg.top_p)
            token = int(torch.multinomial(probs, 1, generator=generator))
        if token == lm.eos_id:
            yield "\n"
            if cfg.stop_at_eos:
                return
            at_line_start = True
        else:
            text = lm.vocab.token(token)
            yield text if lm.level == "char" or at_line_start else f" {text}"
            at_line_start = False
        out = model(torch.tensor([[token]], device=device), state=state)
        hidden, state = out.hidden[0, -1], out.state


def generate_text(
    lm: TextLM,
    prompt: str = "",
    config: GenerationConfig | None = None,
    condition: str | None = None,
) -> str:
    """The whole continuation of ``prompt`` as one string (see :func:`generate`)."""
    return "".join(generate(lm, prompt, config, condition))
