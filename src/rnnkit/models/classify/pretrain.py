"""ULMFiT in one command: a classifier whose encoder a language model pretrained
(Howard & Ruder 2018, "Universal Language Model Fine-tuning for Text Classification").

``rnnkit train classify --set model.pretrained=general-lm`` runs the paper's three stages:

1. **General-domain LM** (§3.1): a word LSTM language model (:data:`GENERAL_LM`) on the
   ``english`` data set (Brown, Shakespeare, the King James Bible, IMDb train reviews: 7.5M
   words), with the classifier's pipeline, so that both see the same tokens, and its embedding
   table started from the classifier's word vectors (``model.embeddings``). It is trained once
   and cached in ``cache_root()/pretrained/general-lm-<hash>``, the hash of everything that
   shapes it (the LM's config, the pipeline, the word vectors, the corpus's package pins and
   converter); the next run reads it. Several runs started together train it once: the others
   wait on its lock file.
2. **Target-task LM fine-tuning** (§3.2): the same LM continued for ``model.task_lm_epochs``
   epochs on the task's own training text (labels unused), in ``OUT/pretrain/task-lm``; its
   vocabulary is the task's, the rows of words the general LM knows start from it.
3. **Classifier fine-tuning** (§3.3): the classifier starts from the task LM (as
   ``--init-from`` does: :mod:`~rnnkit.models.common.transfer`, with the LM's sizes) and is
   trained by the plan of ``finetune.*`` (gradual unfreezing and discriminative rates are
   ``finetune.strategy=gradual``, ``finetune.lr_decay=0.385``).

``model.pretrained`` may instead name the run directory of a language model (``rnnkit train
lm``): it then stands for stage 1. The default, ``"auto"`` (:data:`AUTO`), runs the three stages
for a training set of :data:`AUTO_MIN_TEXTS` texts or more and none below.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import logging
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rnnkit.data.classification import read_classification
from rnnkit.data.datasets.fetch import cache_root
from rnnkit.data.datasets.registry import dataset_stamp, get, split_path
from rnnkit.errors import ConfigError
from rnnkit.fileio import write_text
from rnnkit.models.classify.model import ClassifierConfig
from rnnkit.models.common.artifact import config_to_dict
from rnnkit.models.common.transfer import inherit_sizes
from rnnkit.models.lm.model import LMConfig
from rnnkit.models.lm.train import LMDataConfig, LMRunConfig, train_lm
from rnnkit.training.distributed import launched
from rnnkit.training.optim import OptimConfig
from rnnkit.training.recipe import TrainConfig
from rnnkit.training.run import METRICS_FILE, check_run_dir, holds_run

__all__ = [
    "AUTO",
    "AUTO_MIN_TEXTS",
    "GENERAL",
    "GENERAL_LM",
    "TASK_LM",
    "cached_lm",
    "general_lm",
    "pretrain_encoder",
    "pretraining_applies",
    "pretraining_start",
    "run_begun",
    "task_lm",
]

logger = logging.getLogger("rnnkit.models")

#: The value of ``model.pretrained`` that names the general LM of stage 1.
GENERAL = "general-lm"
#: The value of ``model.pretrained`` that uses :data:`GENERAL` for a training set of at least
#: :data:`AUTO_MIN_TEXTS` texts and no pretraining for a smaller one.
AUTO = "auto"
#: Where the pretrained encoder starts to win (benchmarks/RESULTS.md, issue 19, session 9): its
#: one-directional LSTM of 256 over the LM's own embeddings needs more labels than the default
#: BiLSTM over frozen-size GloVe and characters to learn the task.
AUTO_MIN_TEXTS = 20_000
#: The corpus of stage 1 (a named data set of task ``lm``).
CORPUS = "english"
#: Where stage 2 runs, inside the classifier's run directory.
TASK_LM = "pretrain/task-lm"

#: Stage 1's language model, sized for a CPU: one epoch over the corpus takes about 20 minutes on
#: one core of this machine. Adaptive softmax (Grave et al. 2017) over a vocabulary of the words
#: seen 3 times or more; the hidden state carried from window to window (no shuffling).
GENERAL_LM = LMRunConfig(
    model=LMConfig(
        embedding_dim=50,
        hidden_size=256,
        num_layers=1,
        embedding_dropout=0.1,
        output_dropout=0.3,
        softmax="adaptive",
        cutoffs=(2000, 10000),
    ),
    data=LMDataConfig(min_freq=3, max_vocab=60_000, batch_size=64, bptt=35),
    train=TrainConfig(
        max_epochs=1,
        optim=OptimConfig(lr=2e-3),
        early_stopping="perplexity",
        early_stopping_mode="min",
        shuffle=False,
        plots=False,
        checkpoint_every=500,
    ),
)


def stage_config(
    base: LMRunConfig,
    pipeline: tuple[str, ...],
    vectors: tuple[str | None, int | None],
    train: TrainConfig,
) -> LMRunConfig:
    """``base`` reading the classifier's ``pipeline`` and word vectors ``(name, width)``
    (``model.embeddings`` and the classifier's embedding width), trained by ``train``
    (``base.train`` with the run's ``progress`` and ``threads``)."""
    embeddings, width = vectors
    model = dataclasses.replace(base.model, embeddings=embeddings)
    if embeddings is not None and width is not None:  # the table takes the vectors' width
        model = dataclasses.replace(model, embedding_dim=width)
    data = dataclasses.replace(base.data, pipeline=pipeline)
    return LMRunConfig(model=model, data=data, train=train)


def general_lm(config: LMRunConfig, corpus: str = CORPUS, seed: int = 0) -> Path:
    """Stage 1: the run directory of the general LM ``config`` trained on the named data set
    ``corpus`` (its ``train`` and ``dev`` splits), trained now unless cached (module doc)."""
    train, dev = split_path(corpus, "train"), split_path(corpus, "dev")
    logger.info("general LM: on %r (%s)", corpus, get(corpus).size)
    identity = {"corpus": dataset_stamp(get(corpus))}
    return cached_lm(config, train, dev, identity, cache_root() / "pretrained", seed)


def cached_lm(
    config: LMRunConfig,
    train: Path,
    dev: Path,
    identity: dict[str, Any],
    root: Path,
    seed: int,
) -> Path:
    """The run directory ``root/general-lm-<hash>`` of the LM ``config`` trained on the text
    files ``train`` and ``dev``: trained now (in ``….partial``, resumed if interrupted, renamed
    into place when finished, under a lock) unless there already. The hash covers ``config``
    (less what does not change the weights), ``identity`` (what names the text) and ``seed``."""
    key = {
        "config": config_to_dict(dataclasses.replace(config, train=_stable(config.train))),
        **identity,
        "seed": seed,
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    target = root / f"{GENERAL}-{digest}"
    if (target / METRICS_FILE).is_file():
        logger.info("general LM: cached in %s", target)
        return target
    if launched():  # the ranks would train it together while one of them held the lock
        raise ConfigError(
            f"the general LM is not cached yet ({target}): train the classifier once without "
            "--nproc, which trains and caches it, then with --nproc (or set "
            "model.pretrained=none)"
        )
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / f"{target.name}.lock"):
        if not (target / METRICS_FILE).is_file():  # else another process trained it meanwhile
            partial = root / f"{target.name}.partial"
            logger.info("general LM: training it once; cached in %s for the next runs", target)
            train_lm(train, dev, partial, config, seed, resume=holds_run(partial))
            partial.rename(target)
    return target


def task_lm(
    source: Path,
    config: LMRunConfig,
    train_path: str | Path,
    dev_path: str | Path,
    out_dir: Path,
    seed: int,
) -> Path:
    """Stage 2: the LM ``source`` fine-tuned on the texts of the classification files (their
    labels unused) in ``out_dir``; a finished one is read back, an interrupted one resumed."""
    if (out_dir / METRICS_FILE).is_file():
        return out_dir
    texts = {}
    for name, path in (("train", train_path), ("dev", dev_path)):
        lines = [" ".join(ex.text.split()) for ex in read_classification(path)]
        texts[name] = out_dir.parent / f"task-lm-{name}.txt"
        write_text(texts[name], "".join(f"{line}\n" for line in lines if line))
    resume = holds_run(out_dir)
    train_lm(texts["train"], texts["dev"], out_dir, config, seed, resume, init_from=source)
    return out_dir


def pretraining_applies(
    model: ClassifierConfig, has_vectors: bool, init_from: str | Path | None, texts: int
) -> bool:
    """Whether ``model.pretrained`` applies to a classifier of ``texts`` training texts, whose
    word vectors ``model.embeddings`` were kept (``has_vectors``) or dropped for low coverage
    (:func:`~rnnkit.models.common.embedder.load_pretrained`: another language). It does not
    to a run started ``--init-from`` another (that run is the pretrained encoder), nor the
    general English LM to a text its English vectors do not fit; :data:`AUTO` not to fewer
    than :data:`AUTO_MIN_TEXTS` texts. Says why not: a note for :data:`AUTO`, else a warning."""
    reason = None
    if model.pretrained is None:
        return False
    auto = model.pretrained == AUTO
    if init_from is not None:
        reason = f"--init-from {init_from} starts the encoder"
    elif model.pretrained in (GENERAL, AUTO) and model.embeddings and not has_vectors:
        reason = f"the text is not one the English vectors {model.embeddings} cover"
    elif auto and texts < AUTO_MIN_TEXTS:
        reason = f"{texts} training texts, fewer than the {AUTO_MIN_TEXTS} it needs to gain"
    if reason is not None:
        log = logger.info if auto else logger.warning
        log("model.pretrained=%s: no language-model pretraining: %s", model.pretrained, reason)
    return reason is None


def pretraining_start(
    model: ClassifierConfig,
    pipeline: tuple[str, ...],
    train: TrainConfig,
    paths: tuple[str | Path, str | Path],
    run: tuple[str | Path, bool],
    keep: Collection[str],
    width: int | None,
) -> tuple[ClassifierConfig, Path]:
    """Stages 1 and 2 for a classifier run ``run`` (``(out_dir, resume)``) on ``paths``
    (train, dev): the classifier's config with the language model's sizes except the fields in
    ``keep`` (those the user set) and ``pretrained`` the stage 1 used, and the run directory
    it starts from. ``width``: the classifier's embedding width (its word vectors')."""
    out_dir, resume = run
    check_run_dir(out_dir, resume, run_begun(out_dir))  # before minutes of pretraining
    chosen = GENERAL if model.pretrained in (None, AUTO) else model.pretrained
    model = dataclasses.replace(model, pretrained=chosen)  # the run says what it used
    start = pretrain_encoder(
        chosen, model.task_lm_epochs, pipeline, (model.embeddings, width), train, paths,
        out_dir, train.seed,
    )  # fmt: skip
    return inherit_sizes(model, start, keep), start


def pretrain_encoder(
    pretrained: str,
    epochs: int,
    pipeline: tuple[str, ...],
    vectors: tuple[str | None, int | None],
    train: TrainConfig,
    paths: tuple[str | Path, str | Path],
    out_dir: str | Path,
    seed: int,
) -> Path:
    """Stages 1 and 2 for ``model.pretrained`` (:data:`GENERAL` or an LM run directory) and
    ``model.task_lm_epochs`` ``epochs``, with the classifier's ``pipeline`` and word
    ``vectors`` (:func:`stage_config`): the run directory the classifier starts from."""
    stage_train = dataclasses.replace(
        GENERAL_LM.train, progress=train.progress, threads=train.threads, device=train.device
    )
    config = stage_config(GENERAL_LM, pipeline, vectors, stage_train)
    if pretrained == GENERAL:
        source = general_lm(config, seed=0)
    else:
        source = Path(pretrained)
        if not (source / METRICS_FILE).is_file():
            raise ConfigError(
                f"model.pretrained={pretrained!r} is neither {GENERAL!r}, {AUTO!r} nor the "
                "directory of "
                "a finished run (rnnkit train lm)"
            )
    if epochs == 0:
        return source
    task_train = dataclasses.replace(stage_train, max_epochs=epochs, checkpoint_every=None)
    # every word of the task's text, so that each classifier word the general LM knows
    # reaches the classifier through the task LM
    task_data = dataclasses.replace(config.data, min_freq=1)
    stage2 = dataclasses.replace(config, data=task_data, train=task_train)
    if pretrained != GENERAL:  # the run's own sizes, so that its weights fit
        stage2 = dataclasses.replace(stage2, model=_run_model(source))
    return task_lm(source, stage2, *paths, Path(out_dir) / TASK_LM, seed)


def run_begun(out_dir: str | Path) -> bool:
    """Whether the classifier run ``out_dir`` has begun: its own checkpoints
    (:func:`~rnnkit.training.run.holds_run`) or its task LM's."""
    return holds_run(out_dir) or holds_run(Path(out_dir) / TASK_LM)


def _run_model(run_dir: Path) -> LMConfig:
    """The model config of the language-model run ``run_dir``."""
    from rnnkit.models.common.artifact import read_run_config

    model = read_run_config(run_dir).get("model")
    names = {f.name for f in dataclasses.fields(LMConfig)}
    if not isinstance(model, dict) or not names.issuperset(model):
        raise ConfigError(f"{run_dir}: not a language model's run (its config.json model)")
    if model.get("condition") is not None:
        raise ConfigError(f"{run_dir}: a label-conditioned generator cannot start a classifier")
    model = {**model, "cutoffs": tuple(model.get("cutoffs", LMConfig.cutoffs))}
    return LMConfig(**model)


def _stable(train: TrainConfig) -> TrainConfig:
    """``train`` without the fields that do not change the weights (so not the cache key)."""
    return dataclasses.replace(train, progress=None, threads=None, device="auto", plots=False)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (created if need be) for the block."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
