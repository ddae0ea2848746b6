"""Start a model from the weights of a pretrained run (``--init-from RUN_DIR``).

What is carried over, and how it is matched:

1. **The embedding table, by word.** The two runs' vocabularies usually differ (another corpus,
   another ``min_freq``); each word both vocabularies hold (specials such as ``<unk>`` included)
   gets the pretrained row, the others keep their fresh initialisation (random, or the word
   vectors of ``model.embeddings``). The widths must agree.
2. **The recurrent layers, by position and name.** The ``k``-th RNN of the pretrained model
   gives its parameters to the ``k``-th RNN of the new one where name and shape agree
   (``weight_ih_l0`` … in PyTorch's layout), so a language model's LSTM initialises a
   classifier's encoder.
3. **Everything else, by name and shape** (an attention pooling pretrained by distant
   supervision, for example), except the output head: its classes are new.

A character encoder (any module named ``chars``: the classifier's, the tagger's
``embedder.chars``) is never carried over, on either side: its table is keyed by another run's
character vocabulary, and its recurrent layer is not the text's. It starts fresh; the first
recurrent layer, which then reads ``[word embedding; character vector]``, takes the pretrained
weights of the word part (the first ``E`` input columns) and starts the character part fresh.

Every parameter is reported: loaded (and from where) or new, as a table.

So that the weights fit, the new model takes the pretrained run's sizes (:func:`inherit_sizes`:
embedding width and vectors, cell, hidden size, layers, bidirectionality) except those the user
set: ``rnnkit train lm`` and ``rnnkit train classify --init-from`` fit each other with their
defaults.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from rnnkit.errors import ConfigError
from rnnkit.text.vocab import Vocab

__all__ = ["SIZE_KEYS", "TransferReport", "inherit_sizes", "init_from_run", "transfer_weights"]

#: Output layers and tables keyed by the new run's own classes or vocabulary: never carried over
#: by name (a language model's softmax rows are its vocabulary's words in its frequency order).
NEW_PREFIXES = ("head.", "ngrams.", "decoder.", "adaptive.")
#: The fields of ``model`` that a run started ``--init-from`` takes from the pretrained run.
SIZE_KEYS = ("embedding_dim", "embeddings", "mode", "hidden_size", "num_layers", "bidirectional")

logger = logging.getLogger("rnnkit.models")
M = TypeVar("M")


def inherit_sizes(config: M, run_dir: str | Path, keep: Collection[str] = ()) -> M:
    """``config`` (a model config dataclass) with the sizes of the pretrained run ``run_dir``
    (:data:`SIZE_KEYS`, read from its ``config.json``), except the fields named in ``keep``
    (those the user set). A pretrained run without a field gives what it implies: a language
    model has no word vectors (``embeddings`` ``None``) and reads one way (``bidirectional``
    ``False``); a translator's encoder gives ``num_layers`` from ``encoder_layers``."""
    from rnnkit.models.common.artifact import read_run_config

    source = read_run_config(run_dir).get("model")
    if not isinstance(source, dict):
        raise ConfigError(f"{run_dir}: its config.json has no model section to take sizes from")
    implied = {"embeddings": None, "bidirectional": False}
    if "encoder_layers" in source:
        implied["num_layers"] = source["encoder_layers"]
    fields = {f.name for f in dataclasses.fields(config)}  # type: ignore[arg-type]
    taken = {
        key: source.get(key, implied.get(key))
        for key in SIZE_KEYS
        if key in fields and key not in keep and (key in source or key in implied)
    }
    changed = {k: v for k, v in taken.items() if getattr(config, k) != v}
    if changed:
        named = ", ".join(f"model.{k}={v}" for k, v in changed.items())
        logger.info("init from %s: its sizes %s (set them to choose others)", run_dir, named)
    return dataclasses.replace(config, **taken)  # type: ignore[type-var]


@dataclass
class TransferReport:
    """``loaded[target] = source description``; ``new`` the target parameters left as they
    were; ``shared_words`` of ``target_words`` embedding rows taken from the pretrained run."""

    loaded: dict[str, str] = field(default_factory=dict)
    new: list[str] = field(default_factory=list)
    shared_words: int = 0
    target_words: int = 0

    def rows(self, groups: dict[str, list[str]]) -> list[tuple[str, str, str]]:
        """One ``(group, status, detail)`` row per layer group, for a table."""
        out = []
        for group, names in groups.items():
            loaded = [n for n in names if n in self.loaded]
            if not loaded:
                out.append((group, "new", f"{len(names)} tensors"))
                continue
            detail = ", ".join(sorted({self.loaded[n] for n in loaded}))
            if any(n.endswith("embedding.weight") for n in loaded):
                detail = f"{self.shared_words:,} of {self.target_words:,} words; {detail}"
            status = "loaded" if len(loaded) == len(names) else f"{len(loaded)}/{len(names)}"
            out.append((group, status, detail))
        return out

    def new_groups(self, groups: dict[str, list[str]]) -> list[str]:
        """The layer groups none of whose parameters were loaded."""
        return [g for g, names in groups.items() if not any(n in self.loaded for n in names)]


def init_from_run(model: nn.Module, vocab: Vocab, run_dir: str | Path) -> TransferReport:
    """Load what fits from the run directory ``run_dir`` into ``model`` (module docstring)."""
    from rnnkit.models.common.artifact import load, read_run_config, run_format

    stored = run_format(read_run_config(run_dir))
    if stored != "torch":
        raise ConfigError(
            f"{run_dir}: an exported ({stored}) run cannot start a new model; use the run it "
            "was exported from"
        )
    source = load(run_dir)
    source_model = getattr(source, "model", None)
    source_vocab = getattr(source, "vocab", None)
    if not isinstance(source_model, nn.Module) or not isinstance(source_vocab, Vocab):
        raise ConfigError(f"{run_dir}: this run has no model and vocabulary to start from")
    return transfer_weights(source_model, source_vocab, model, vocab, str(run_dir))


@torch.no_grad()
def transfer_weights(
    source: nn.Module, source_vocab: Vocab, target: nn.Module, target_vocab: Vocab, origin: str
) -> TransferReport:
    """Copy matching weights of ``source`` into ``target`` (module docstring)."""
    report = TransferReport(target_words=len(target_vocab))
    src_params = dict(source.named_parameters())
    taken: set[str] = set()
    for (s_name, s_emb), (t_name, t_emb) in zip(
        _modules(source, nn.Embedding), _modules(target, nn.Embedding), strict=False
    ):
        if s_emb.embedding_dim != t_emb.embedding_dim:
            raise ConfigError(
                f"{origin}: its embeddings have {s_emb.embedding_dim} dimensions, this model's "
                f"{t_emb.embedding_dim}; set model.embedding_dim={s_emb.embedding_dim}"
            )
        report.shared_words = _copy_rows(s_emb.weight, source_vocab, t_emb.weight, target_vocab)
        report.loaded[f"{t_name}.weight"] = f"{origin}: {s_name}.weight"
        taken.add(f"{s_name}.weight")
        break
    for (s_name, s_rnn), (t_name, t_rnn) in zip(
        _modules(source, nn.RNNBase), _modules(target, nn.RNNBase), strict=False
    ):
        s_own = dict(s_rnn.named_parameters())
        for name, param in t_rnn.named_parameters():
            source_param = s_own.get(name)
            if source_param is None:
                continue
            detail = f"{origin}: {_join(s_name, name)}"
            if source_param.shape == param.shape:
                param.copy_(source_param)
            elif _reads_wider_input(name, source_param, param):
                width = source_param.shape[1]
                param[:, :width].copy_(source_param)
                detail += f" (input columns 1-{width})"
            else:
                continue
            report.loaded[_join(t_name, name)] = detail
            taken.add(_join(s_name, name))
    for name, param in target.named_parameters():
        if name in report.loaded or name.startswith(NEW_PREFIXES) or _in_chars(name):
            continue
        match = src_params.get(name)
        if match is not None and name not in taken and match.shape == param.shape:
            param.copy_(match)
            report.loaded[name] = f"{origin}: {name}"
    report.new = [n for n, _ in target.named_parameters() if n not in report.loaded]
    return report


def _reads_wider_input(name: str, source: torch.Tensor, target: torch.Tensor) -> bool:
    """Whether ``target`` is a first layer's input matrix ``(G, E + C)`` that reads the source's
    input ``(G, E)`` first and more after it: the word embedding, then a character encoder's
    vector (the classifier's and the tagger's order). Its first ``E`` columns are then the
    source's, and the others keep their initialisation."""
    return (
        name.startswith("weight_ih_l0")
        and source.dim() == target.dim() == 2
        and source.shape[0] == target.shape[0]
        and source.shape[1] < target.shape[1]
    )


def _modules(model: nn.Module, kind: type) -> list[tuple[str, Any]]:
    """The ``kind`` modules of ``model`` in order, leaving out character encoders."""
    return [
        (name, m)
        for name, m in model.named_modules()
        if isinstance(m, kind) and not _in_chars(name)
    ]


def _in_chars(name: str) -> bool:
    """Whether the module or parameter ``name`` belongs to a character encoder."""
    return "chars" in name.split(".")


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _copy_rows(
    source: torch.Tensor, source_vocab: Vocab, target: torch.Tensor, target_vocab: Vocab
) -> int:
    """Copy the rows of the words both vocabularies hold; return how many."""
    pairs: Sequence[tuple[int, int]] = [
        (i, source_vocab.id(word)) for i, word in enumerate(target_vocab) if word in source_vocab
    ]
    if pairs:
        rows = torch.tensor(pairs, dtype=torch.long)
        target[rows[:, 0]] = source[rows[:, 1]].to(target.dtype)
    return len(pairs)
