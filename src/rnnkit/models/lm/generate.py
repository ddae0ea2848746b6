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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from rnnkit.data.batching import run_in_order
from rnnkit.errors import ConfigError
from rnnkit.models.lm.artifact import TextLM
from rnnkit.nn.recurrent import State

__all__ = [
    "GenerationConfig",
    "filter_distribution",
    "generate",
    "generate_batch",
    "generate_text",
]


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

    @property
    def filters(self) -> tuple[float, int | None, float | None]:
        """``(temperature, top_k, top_p)``: the arguments of :func:`filter_distribution`."""
        return self.temperature, self.top_k, self.top_p


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


def _prompt_ids(lm: TextLM, prompt: str) -> list[int]:
    """``<eos>`` then the prompt's ids, ``<eos>`` at each of its line breaks."""
    ids = [lm.eos_id]
    for i, line in enumerate(prompt.split("\n")):
        if i > 0:
            ids.append(lm.eos_id)
        ids += lm.vocab.encode(lm.tokenize(line))
    return ids


def _condition_id(lm: TextLM, condition: str | None) -> int | None:
    """The id of ``condition`` for a label-conditioned generator, ``None`` for any other; a
    missing or needless condition raises ``ConfigError``."""
    if lm.labels is not None:
        if condition is None:
            raise ConfigError(f"this generator needs a condition: one of {', '.join(lm.labels)}")
        return lm.label_id(condition)
    if condition is not None:
        raise ConfigError("this language model is not conditioned on labels")
    return None


def _start_state(lm: TextLM, condition_id: int | None, rows: int) -> State | None:
    """The initial state of ``rows`` sequences: the condition's (all rows alike), or ``None``."""
    if condition_id is None:
        return None
    device = next(lm.model.parameters()).device
    ids = torch.full((rows,), condition_id, dtype=torch.long, device=device)
    return lm.model.initial_state(ids)


def _generators(cfg: GenerationConfig, rows: int) -> list[torch.Generator]:
    """One sampling generator per row, each seeded with ``cfg.seed`` (so a row draws what the
    same prompt alone would), or freshly when there is no seed."""
    out = []
    for _ in range(rows):
        generator = torch.Generator(device="cpu")
        if cfg.seed is not None:
            generator.manual_seed(cfg.seed)
        else:
            generator.seed()
        out.append(generator)
    return out


def _token_steps(
    lm: TextLM, ids: Tensor, state: State | None, cfg: GenerationConfig
) -> Iterator[list[int]]:
    """The next token of each row, ``cfg.length`` times: the model reads the contexts ``ids``
    ``(B, T)`` from ``state``, then each drawn token ``(B, 1)``."""
    model = lm.model
    generators = _generators(cfg, ids.shape[0])
    out = model(ids, state=state)
    hidden, state = out.hidden[:, -1], out.state  # (B, F)
    for step in range(cfg.length):
        log_probs = model.log_probs(hidden).cpu()  # (B, V)
        if cfg.is_greedy:
            tokens = log_probs.argmax(dim=-1).tolist()
        else:
            tokens = [
                int(torch.multinomial(filter_distribution(row, *cfg.filters), 1, generator=g))
                for row, g in zip(log_probs, generators, strict=True)
            ]
        yield tokens
        if step + 1 < cfg.length:
            out = model(torch.tensor(tokens, device=ids.device).unsqueeze(1), state=state)
            hidden, state = out.hidden[:, -1], out.state


def _piece(lm: TextLM, token: int, at_line_start: bool) -> str:
    """The text of ``token`` after what came before: ``"\\n"`` for ``<eos>``, a character, or
    a word with its leading space (none at a line start)."""
    if token == lm.eos_id:
        return "\n"
    text = lm.vocab.token(token)
    return text if lm.level == "char" or at_line_start else f" {text}"


@torch.inference_mode()
def generate(
    lm: TextLM,
    prompt: str = "",
    config: GenerationConfig | None = None,
    condition: str | None = None,
) -> Iterator[str]:
    """Yield the continuation of ``prompt`` piece by piece (a word with its leading space, a
    character, or ``"\\n"`` for ``<eos>``); the prompt itself is not repeated."""
    cfg = config or GenerationConfig()
    lm.model.eval()
    device = next(lm.model.parameters()).device
    ids = _prompt_ids(lm, prompt)
    state = _start_state(lm, _condition_id(lm, condition), 1)
    at_line_start = ids[-1] == lm.eos_id
    for (token,) in _token_steps(lm, torch.tensor([ids], device=device), state, cfg):
        yield _piece(lm, token, at_line_start)
        if token == lm.eos_id and cfg.stop_at_eos:
            return
        at_line_start = token == lm.eos_id


def generate_text(
    lm: TextLM,
    prompt: str = "",
    config: GenerationConfig | None = None,
    condition: str | None = None,
) -> str:
    """The whole continuation of ``prompt`` as one string (see :func:`generate`)."""
    return "".join(generate(lm, prompt, config, condition))


@torch.inference_mode()
def generate_batch(
    lm: TextLM,
    prompts: Sequence[str],
    config: GenerationConfig | None = None,
    condition: str | None = None,
    batch_size: int = 64,
) -> list[str]:
    """The continuation of each prompt, in input order: what :func:`generate_text` gives for
    each prompt alone (each row samples from its own generator seeded with ``config.seed``),
    computed for batches of prompts of equal length in tokens (no padding: the language model
    reads no lengths).

    Shape:
        - each batch: contexts ``(B, T)``, then ``cfg.length`` steps of ``(B, 1)``.
    """
    cfg = config or GenerationConfig()
    lm.model.eval()
    device = next(lm.model.parameters()).device
    contexts = [_prompt_ids(lm, p) for p in prompts]
    condition_id = _condition_id(lm, condition)

    def run_batch(rows: list[list[int]]) -> list[str]:
        ids = torch.tensor(rows, device=device)  # (B, T)
        texts = [""] * len(rows)
        at_line_start = [row[-1] == lm.eos_id for row in rows]
        done = [False] * len(rows)
        for tokens in _token_steps(lm, ids, _start_state(lm, condition_id, len(rows)), cfg):
            for r, token in enumerate(tokens):
                if done[r]:
                    continue
                texts[r] += _piece(lm, token, at_line_start[r])
                at_line_start[r] = token == lm.eos_id
                done[r] = cfg.stop_at_eos and token == lm.eos_id
            if all(done):
                break
        return texts

    return run_in_order(contexts, [len(c) for c in contexts], batch_size, run_batch, exact=True)
