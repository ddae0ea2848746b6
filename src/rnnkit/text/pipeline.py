"""Preprocessing pipelines built from step names, saved with a model.

A pipeline is a JSON list of steps, each a name or ``{"name": ..., option: value}``::

    ["html", "urls", "lower", "tweet", {"name": "stopwords", "language": "english"}, "stem"]

Steps are of three kinds: *text* steps (``str -> str`` normalizers), exactly one *tokenizer*
(``str -> list[str]``) and *token* steps (``list[str] -> list[str]``). Text steps normally
come before the tokenizer; placed after it they are applied to each token (tokens that become
empty are dropped). Token steps must come after the tokenizer.

:meth:`Pipeline.to_config` writes every option explicitly, defaults included, and the stop-word
list itself, so a model directory preprocesses at prediction time exactly as in training.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rnnkit.errors import ConfigError, DataFormatError
from rnnkit.fileio import read_json, write_json
from rnnkit.text import normalize as nz
from rnnkit.text.lemmatize import make_lemmatizer
from rnnkit.text.stem import Stemmer
from rnnkit.text.stopwords import StopwordFilter
from rnnkit.text.tokenize import CharTokenizer, SplitTokenizer, TweetTokenizer, WordTokenizer

StepKind = Literal["text", "tokenizer", "token"]
StepConfig = str | Mapping[str, Any]
FORMAT = "rnnkit-pipeline"
FORMAT_VERSION = 1

#: The default preprocessing for tweets (the ``benchmarks/preprocess_speed.py`` subject).
DEFAULT_TWEET_PIPELINE: tuple[str, ...] = (
    "html",
    "urls",
    "users",
    "numbers",
    "lower",
    "elongation",
    "tweet",
)


@dataclass(frozen=True)
class StepSpec:
    """A registered step: its kind, a factory taking the step's options, and a summary."""

    name: str
    kind: StepKind
    factory: Callable[..., Callable[[Any], Any]]
    help: str


_REGISTRY: dict[str, StepSpec] = {}


def register_step(
    name: str, kind: StepKind, factory: Callable[..., Callable[[Any], Any]], help: str
) -> None:
    """Make ``name`` usable in pipeline configs (for extensions; names are unique)."""
    if name in _REGISTRY:
        raise ConfigError(f"preprocessing step {name!r} is already registered")
    if kind not in ("text", "tokenizer", "token"):
        raise ConfigError(f"step kind must be text, tokenizer or token, got {kind!r}")
    _REGISTRY[name] = StepSpec(name, kind, factory, help)


def available_steps() -> dict[str, StepSpec]:
    """The registered steps by name."""
    return dict(_REGISTRY)


def _fixed(fn: Callable[[str], str]) -> Callable[[], Callable[[str], str]]:
    def factory() -> Callable[[str], str]:
        return fn

    return factory


class _PerToken:
    """A text step placed after the tokenizer: apply it to each token, drop empty results."""

    def __init__(self, fn: Callable[[str], str]) -> None:
        self.fn = fn

    def __call__(self, tokens: list[str]) -> list[str]:
        fn = self.fn
        return [out for out in map(fn, tokens) if out]


@dataclass(frozen=True)
class _Step:
    name: str
    kind: StepKind
    options: dict[str, Any]
    fn: Callable[[Any], Any]

    def config(self) -> dict[str, Any]:
        own = getattr(self.fn, "to_config", None)
        return {"name": self.name, **(own() if callable(own) else self.options)}


def _parse_entry(entry: object, index: int) -> tuple[str, dict[str, Any]]:
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
        return entry["name"], {k: v for k, v in entry.items() if k != "name"}
    raise ConfigError(
        f"pipeline step {index + 1}: expected a step name or an object with a 'name', got {entry!r}"
    )


def _build_step(entry: object, index: int) -> _Step:
    name, options = _parse_entry(entry, index)
    spec = _REGISTRY.get(name)
    if spec is None:
        raise ConfigError(
            f"unknown preprocessing step {name!r}; valid steps: {', '.join(sorted(_REGISTRY))}"
        )
    signature = inspect.signature(spec.factory)
    try:
        bound = signature.bind(**options)
    except TypeError as err:
        valid = ", ".join(signature.parameters) or "none"
        raise ConfigError(f"step {name!r}: {err} (its options: {valid})") from None
    bound.apply_defaults()
    try:
        fn = spec.factory(**bound.arguments)
    except (TypeError, ValueError) as err:  # an option of the wrong type
        raise ConfigError(f"step {name!r}: invalid option value ({err})") from None
    return _Step(name, spec.kind, dict(bound.arguments), fn)


class Pipeline:
    """Normalize → tokenize → filter/stem/lemmatize, as configured.

    Args:
        config: the steps, each a name or a mapping with ``"name"`` and options.

    ``pipeline(text) -> list[str]``; use :meth:`to_config` / :meth:`from_config` or
    :meth:`save` / :meth:`load` to store it next to a model.
    """

    def __init__(self, config: Sequence[StepConfig]) -> None:
        if isinstance(config, str | Mapping):
            raise ConfigError("a pipeline config is a list of steps")
        steps = [_build_step(entry, i) for i, entry in enumerate(config)]
        tokenizers = [i for i, s in enumerate(steps) if s.kind == "tokenizer"]
        if len(tokenizers) != 1:
            names = ", ".join(n for n, s in _REGISTRY.items() if s.kind == "tokenizer")
            found = ", ".join(steps[i].name for i in tokenizers) or "none"
            raise ConfigError(f"a pipeline needs exactly one tokenizer ({names}); got {found}")
        at = tokenizers[0]
        for step in steps[:at]:
            if step.kind == "token":
                raise ConfigError(
                    f"step {step.name!r} works on tokens and must come after the tokenizer "
                    f"{steps[at].name!r}"
                )
        self._steps = steps
        self._text = [s.fn for s in steps[:at]]
        self._tokenize: Callable[[str], list[str]] = steps[at].fn
        self._tokens = [s.fn if s.kind == "token" else _PerToken(s.fn) for s in steps[at + 1 :]]

    @classmethod
    def from_config(cls, config: Sequence[StepConfig]) -> Pipeline:
        """Build a pipeline from a JSON-style step list (see the module docstring)."""
        return cls(config)

    def to_config(self) -> list[dict[str, Any]]:
        """The steps with every option spelled out; ``from_config`` of it rebuilds ``self``."""
        return [step.config() for step in self._steps]

    def normalize(self, text: str) -> str:
        """Apply only the text steps that precede the tokenizer."""
        for fn in self._text:
            text = fn(text)
        return text

    def __call__(self, text: str) -> list[str]:
        for fn in self._text:
            text = fn(text)
        tokens = self._tokenize(text)
        for step in self._tokens:
            tokens = step(tokens)
        return tokens

    def batch(self, texts: Sequence[str]) -> list[list[str]]:
        """Preprocess many texts."""
        return [self(t) for t in texts]

    def save(self, path: str | Path) -> None:
        """Write the configuration as JSON, atomically."""
        write_json(
            path, {"format": FORMAT, "format_version": FORMAT_VERSION, "steps": self.to_config()}
        )

    @classmethod
    def load(cls, path: str | Path) -> Pipeline:
        """Rebuild a pipeline written by :meth:`save`; a bad file raises ``DataFormatError``."""
        data = read_json(path)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise DataFormatError(path, f'not an rnnkit pipeline (expected "format": "{FORMAT}")')
        if data.get("format_version") != FORMAT_VERSION or not isinstance(data.get("steps"), list):
            raise DataFormatError(path, "unsupported pipeline format_version or missing steps")
        try:
            return cls(data["steps"])
        except ConfigError as err:
            raise DataFormatError(path, str(err)) from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pipeline):
            return NotImplemented
        return self.to_config() == other.to_config()

    def __repr__(self) -> str:
        return f"Pipeline({[s.name for s in self._steps]})"


for _name, _fn, _help in (
    ("lower", nz.lowercase, "lowercase"),
    ("html", nz.unescape_html, "HTML entities to characters (&amp; → &)"),
    ("urls", nz.replace_urls, "URLs → <url>"),
    ("users", nz.replace_users, "@handles → <user>"),
    ("numbers", nz.replace_numbers, "stand-alone numbers → <num>"),
    ("hashtags", nz.strip_hashtags, "drop the # of hashtags"),
    ("punct", nz.remove_punctuation, "delete Unicode punctuation"),
    ("special", nz.remove_special, "delete all but letters, digits, spaces, placeholders"),
    ("whitespace", nz.normalize_whitespace, "collapse whitespace runs, strip"),
):
    register_step(_name, "text", _fixed(_fn), _help)
register_step("elongation", "text", nz.ReduceElongation, "shorten character runs (sooo → soo)")
register_step("tweet", "tokenizer", TweetTokenizer, "tweet tokenizer (emoji, emoticons, URLs)")
register_step("word", "tokenizer", WordTokenizer, "Penn Treebank word tokenizer")
register_step("char", "tokenizer", CharTokenizer, "characters (or grapheme clusters)")
register_step("split", "tokenizer", SplitTokenizer, "split on whitespace (pre-tokenized text)")
register_step("stopwords", "token", StopwordFilter, "drop NLTK stop words")
register_step("stem", "token", Stemmer, "Porter or Snowball stemming")
register_step("lemma", "token", make_lemmatizer, "lemmatize (simplemma or WordNet)")

__all__ = [
    "DEFAULT_TWEET_PIPELINE",
    "Pipeline",
    "StepSpec",
    "available_steps",
    "register_step",
]
