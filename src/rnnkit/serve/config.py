"""The limits and batching options of ``rnnkit serve``, each a command-line option.

Every bound protects the process from one kind of request: a huge body (``max_body_bytes``,
checked before the JSON is parsed), many texts at once (``max_texts``), one huge text
(``max_chars``), a long generation (``max_length``, the language models' ``length``) and a wide
beam search (``max_beam``). A request over any of them gets a 4xx answer with a JSON error body;
nothing is truncated silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.errors import ConfigError

__all__ = ["ServeConfig"]


@dataclass(frozen=True)
class ServeConfig:
    """Options of the HTTP service.

    Args:
        max_batch: texts run through a model together (micro-batching across requests); a
            single request with more texts still runs, alone.
        max_wait_ms: an extra wait for more requests, taken only after a batch of several
            requests and only while the next batch is not full (a lone client never waits; see
            :mod:`rnnkit.serve.batching`).
        max_body_bytes: largest request body read (413 beyond).
        max_texts: texts per request (422 beyond).
        max_chars: characters per text or prompt (422 beyond).
        max_length: tokens a language model may generate per prompt (422 beyond).
        max_beam: largest beam a translation request may ask for (422 beyond).
        timeout_s: longest a request waits for its results (503 beyond).
        token: when set, ``/v1/…`` and ``/metrics`` need ``Authorization: Bearer <token>``.
    """

    max_batch: int = 32
    max_wait_ms: float = 0.0
    max_body_bytes: int = 1_000_000
    max_texts: int = 64
    max_chars: int = 10_000
    max_length: int = 500
    max_beam: int = 10
    timeout_s: float = 30.0
    token: str | None = None

    def __post_init__(self) -> None:
        positive = {
            "max_batch": self.max_batch,
            "max_body_bytes": self.max_body_bytes,
            "max_texts": self.max_texts,
            "max_chars": self.max_chars,
            "max_length": self.max_length,
            "max_beam": self.max_beam,
        }
        bad = [name for name, value in positive.items() if value < 1]
        if bad:
            raise ConfigError(f"{', '.join(bad)} must be >= 1")
        if self.timeout_s <= 0:
            raise ConfigError(f"timeout_s must be > 0, got {self.timeout_s}")
        if self.max_wait_ms < 0:
            raise ConfigError(f"max_wait_ms must be >= 0, got {self.max_wait_ms}")
        if self.token is not None and not self.token:
            raise ConfigError("the token may not be empty")
