"""Train, evaluate and predict with a text classifier: the library behind ``rnnkit train classify``,
``rnnkit evaluate`` and ``rnnkit predict`` (docs/design.md §7: the CLI only parses and calls these).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnkit.data.batching import PaddedBatch
from rnnkit.data.chars import char_vocab
from rnnkit.data.classification import read_classification
from rnnkit.data.records import TextExample
from rnnkit.errors import ConfigError
from rnnkit.fileio import read_json
from rnnkit.models.classify.adversarial import adversarial_loss_fn
from rnnkit.models.classify.artifact import TRUNCATIONS, TextClassifier
from rnnkit.models.classify.ensemble import Ensemble
from rnnkit.models.classify.evaluate import (
    check_labels,
    classifier_metrics,
    evaluate_classifier,
)
from rnnkit.models.classify.hierarchical import boundary_ids
from rnnkit.models.classify.model import (
    Classifier,
    ClassifierConfig,
    balanced_class_weights,
    build_classifier,
    embedding_dim,
)
from rnnkit.models.classify.pretrain import AUTO, pretraining_applies, pretraining_start
from rnnkit.models.classify.wide import TfidfLogReg, fit_tfidf_logreg
from rnnkit.models.common.artifact import WEIGHTS_FILE, config_to_dict
from rnnkit.models.common.embedder import load_pretrained, read_vectors
from rnnkit.models.common.transfer import TransferReport, init_from_run
from rnnkit.text.pipeline import DEFAULT_TWEET_PIPELINE, Pipeline
from rnnkit.text.vocab import Vocab
from rnnkit.training.checkpoint import load_weights
from rnnkit.training.distributed import shard_rows
from rnnkit.training.finetune import (
    FinetuneConfig,
    FinetuneStep,
    StepResult,
    layer_groups,
    plan_steps,
)
from rnnkit.training.metrics import ClassificationReport
from rnnkit.training.optim import OptimConfig, ScheduleConfig
from rnnkit.training.recipe import TrainConfig, auto_batch_size
from rnnkit.training.run import METRICS_FILE, FitResult, TrainingRun, holds_run

__all__ = [
    "ClassifyDataConfig",
    "ClassifyRunConfig",
    "TrainResult",
    "train_classifier",
]

logger = logging.getLogger("rnnkit.models")
WordVectors = tuple[Sequence[str], np.ndarray]


@dataclass(frozen=True)
class ClassifyDataConfig:
    """How texts become batches.

    Args:
        pipeline: preprocessing step names (:mod:`rnnkit.text.pipeline`).
        min_freq: words seen fewer times in training become ``<unk>``.
        max_vocab: largest vocabulary, specials included (``None``: no limit).
        max_length: tokens read per text; longer texts are truncated.
        truncate: ``"head"`` or ``"head+tail"``: which tokens of a longer text are read
            (:func:`~rnnkit.models.classify.artifact.clip`).
        batch_size: ``B`` (``None``: by the training set's size,
            :func:`~rnnkit.training.recipe.auto_batch_size`).
        bucket: length bucketing pool, in batches (``0``: none; see :func:`make_batches`).
    """

    pipeline: tuple[str, ...] = DEFAULT_TWEET_PIPELINE
    min_freq: int = 1
    max_vocab: int | None = 50_000
    max_length: int | None = 400
    truncate: str = "head+tail"
    batch_size: int | None = None
    bucket: int = 4

    def __post_init__(self) -> None:
        if self.truncate not in TRUNCATIONS:
            raise ConfigError(f"data.truncate must be one of {', '.join(TRUNCATIONS)}")
        if self.max_length is not None and self.max_length < 1:
            raise ConfigError("data.max_length must be >= 1 or none")


#: The default of ``rnnkit train classify`` and ``rnnkit demo``: the BiLSTM with attention chosen
#: on the ``tweets`` dev split (benchmarks/classify_tweets.py), over GloVe word vectors joined to
#: a character CNN per word, averaged with a TF-IDF logistic regression over word and character
#: n-grams; from :data:`~.pretrain.AUTO_MIN_TEXTS` training texts on, the encoder is ULMFiT's,
#: pretrained on general English and the task's text (benchmarks/classify.py,
#: benchmarks/RESULTS.md, issue 19).
DEFAULT_MODEL = ClassifierConfig(
    embeddings="glove-6b-50d",
    embedding_dropout=0.3,
    hidden_size=64,
    pooling="attention",
    class_weights="balanced",
    tfidf_member=True,
    tfidf_chars=True,
    char_encoder="cnn",
    pretrained=AUTO,
)


@dataclass(frozen=True)
class ClassifyRunConfig:
    """The whole configuration of ``rnnkit train classify`` (``--set model.x=…``, ``data.x``,
    ``train.x``, ``finetune.x`` for runs started ``--init-from`` a pretrained run). Training is
    sized to the data as the tagger's is (:class:`~rnnkit.models.tag.train.TagRunConfig`): a
    step budget, batches by the data's size, Adam at a peak of 3e-3 on the slanted triangular
    schedule, early stopping on dev macro-F1 keeping the best epoch."""

    model: ClassifierConfig = field(default_factory=lambda: DEFAULT_MODEL)
    data: ClassifyDataConfig = field(default_factory=ClassifyDataConfig)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            max_epochs=None,
            optim=OptimConfig(lr=3e-3),
            schedule=ScheduleConfig("stlr"),
            early_stopping="macro_f1",
        )
    )
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)


@dataclass(frozen=True)
class TrainResult:
    """The trained classifier, its dev (and test) scores, the training time in seconds, the
    steps of its fine-tuning plan, and what was loaded from ``init_from``."""

    classifier: TextClassifier
    dev: ClassificationReport
    test: ClassificationReport | None
    seconds: float
    steps: list[StepResult] = field(default_factory=list)
    transfer: TransferReport | None = None


def train_classifier(
    train_path: str | Path,
    dev_path: str | Path,
    out_dir: str | Path,
    config: ClassifyRunConfig | None = None,
    seed: int = 0,
    resume: bool = False,
    *,
    test_path: str | Path | None = None,
    vectors: WordVectors | None = None,
    init_from: str | Path | None = None,
    keep: Collection[str] = (),
) -> TrainResult:
    """Train a classifier on a CSV / JSON-lines file and write the run directory ``out_dir``.

    Args:
        train_path, dev_path, test_path: classification files (docs/design.md §6).
        out_dir: the run directory: ``config.json``, ``model.safetensors``, ``metrics.json``,
            ``train_log.jsonl``, checkpoints and plots (:mod:`rnnkit.training.run`).
        config: every option; the defaults when ``None``.
        seed: seeds the weights and the data order (``config.train.seed`` is replaced by it).
        resume: continue an interrupted run in ``out_dir`` (same data, config and seed).
        vectors: ``(words, matrix (N, E))`` to initialise the embeddings; when ``None`` and
            ``config.model.embeddings`` names a file or data set, it is loaded from there.
        init_from: a run directory (a classifier, a language model) whose embeddings and
            encoder start this model (:mod:`~.common.transfer`); it is then trained by the
            plan of ``config.finetune`` (:mod:`rnnkit.training.finetune`).
        keep: the fields of ``config.model`` the user chose (``"bidirectional"``): with
            ``model.pretrained`` the model takes the language model's sizes except these.
    """
    cfg = config or ClassifyRunConfig()
    train_cfg = dataclasses.replace(cfg.train, seed=seed)
    train, dev = read_classification(train_path), read_classification(dev_path)
    test = read_classification(test_path) if test_path is not None else None
    paths = (train_path, dev_path)
    built = _build(cfg, (train, dev), paths, seed, vectors)  # bad data fails here
    first = built[0][0].config  # the vectors it got say whether the English LM fits the text
    if pretraining_applies(cfg.model, first.embeddings is not None, init_from, len(train)):
        model, init_from = pretraining_start(
            cfg.model, cfg.data.pipeline, train_cfg, paths, (out_dir, resume), keep,
            first.embedding_dim,
        )  # fmt: skip
        cfg = dataclasses.replace(cfg, model=model)
        resume = holds_run(out_dir)  # killed in pretraining, the classifier starts afresh
        built = _build(cfg, (train, dev), paths, seed, vectors)
    elif cfg.model.pretrained is not None:  # the run says what it used
        for m in {*built[0], built[2]}:
            m.config = dataclasses.replace(m.config, pretrained=None)
    members, wide, clf, batches = built
    if test is not None:
        check_labels(clf, test, test_path)
    inputs = {"train": train_path, "dev": dev_path}
    run = TrainingRun(
        out_dir, clf, _sections(cfg, train_cfg, init_from), resume=resume, inputs=inputs
    )
    run.start()
    if len(members) == 1 and wide is None:
        fit, transfer = _fit(run, clf, cfg, train_cfg, batches, init_from)
        seconds, steps = fit.seconds, fit.steps
    else:
        seconds, steps, transfer = _fit_members(run, members, cfg, train_cfg, batches, init_from)
    if wide is not None:
        seconds += _fit_wide(wide, members, dev, batches, seed)
    dev_report = evaluate_classifier(clf, dev, dev_path)
    test_report = evaluate_classifier(clf, test, test_path) if test is not None else None
    run.finish(dev_report, test_report, train_seconds=seconds, steps=_timings(steps))
    return TrainResult(clf, dev_report, test_report, seconds, steps, transfer)


Batches = tuple[list[PaddedBatch], list[PaddedBatch]]


def _build(
    cfg: ClassifyRunConfig,
    splits: tuple[list[TextExample], list[TextExample]],
    paths: tuple[str | Path, str | Path],
    seed: int,
    vectors: WordVectors | None,
) -> tuple[list[TextClassifier], TfidfLogReg | None, TextClassifier, Batches]:
    """The untrained members, the TF-IDF member, the classifier they make, and the train and
    dev batches (which check the data)."""
    members = _new_members(cfg, splits[0], paths[0], seed, vectors)
    wide = None
    if cfg.model.tfidf_member:  # its character n-grams are those the network's batches carry
        chars = cfg.model.tfidf_chars and cfg.model.char_encoder != "none"
        wide = TfidfLogReg(len(members[0].labels), chars=chars)
    clf = members[0] if len(members) == 1 and wide is None else _ensemble(members, wide)
    size = cfg.data.batch_size or auto_batch_size(len(splits[0]))
    batches = (
        _batches(clf, splits[0], paths[0], size, cfg.data.bucket),
        _batches(clf, splits[1], paths[1], 64, cfg.data.bucket),
    )
    return members, wide, clf, batches


def _fit_wide(
    wide: TfidfLogReg,
    members: Sequence[TextClassifier],
    dev: Sequence[TextExample],
    batches: Batches,
    seed: int,
) -> float:
    """Fit the TF-IDF member after the trained ``members``, its ``C`` chosen for the mixture
    with their mean dev probabilities; the seconds it took."""
    start = time.perf_counter()
    networks = np.mean([m.predict_proba([ex.text for ex in dev]) for m in members], axis=0)
    fit_tfidf_logreg(wide, *batches, seed, partner=networks)
    return time.perf_counter() - start


def _new_members(
    cfg: ClassifyRunConfig,
    train: list[TextExample],
    train_path: str | Path,
    seed: int,
    vectors: WordVectors | None,
) -> list[TextClassifier]:
    """The ``train.ensemble`` untrained networks, seeds ``seed, seed + 1, …`` (the word vectors
    read once); each one's own config is a plain network's (no TF-IDF member)."""
    if vectors is None and cfg.model.embeddings is not None:
        vectors = read_vectors(cfg.model.embeddings)
    members = []
    for k in range(cfg.train.ensemble):
        member = _new_classifier(cfg, train, train_path, seed + k, vectors)
        member.config = dataclasses.replace(member.config, tfidf_member=False, tfidf_chars=False)
        members.append(member)
    return members


def _fit(
    run: TrainingRun,
    clf: TextClassifier,
    cfg: ClassifyRunConfig,
    train_cfg: TrainConfig,
    batches: Batches,
    init_from: str | Path | None,
) -> tuple[FitResult, TransferReport | None]:
    """Train one classifier in ``run`` (from ``init_from`` by the fine-tuning plan, if given)."""
    assert isinstance(clf.model, Classifier)
    steps, transfer = _plan(clf.model, clf.vocab, init_from, cfg.finetune)
    # the loss is a mean weighted by class: a batch's share of it is its labels' weights
    class_weights = clf.model.class_weights.detach().cpu()
    fit = run.fit(
        dataclasses.replace(train_cfg, ensemble=1),
        batches[0],
        batches[1],
        steps=steps,
        finetune=cfg.finetune,
        frozen=["embedder"] if clf.config.freeze_embeddings else [],
        evaluate_fn=classifier_metrics,
        steps_per_epoch=len(batches[0]),
        pretrained_words=clf.config.embeddings is not None or init_from is not None,
        loss_weight_fn=lambda b: float(class_weights[b.labels].sum()),
        loss_fn=adversarial_loss_fn(clf.config.adversarial),  # None: the model's own loss
        # a data-parallel rank takes its texts; the table of the batch's words stays whole
        shard_fn=partial(shard_rows, keep=("chars", "char_lengths")),
    )
    return fit, transfer


def _fit_members(
    run: TrainingRun,
    members: Sequence[TextClassifier],
    cfg: ClassifyRunConfig,
    train_cfg: TrainConfig,
    batches: Batches,
    init_from: str | Path | None,
) -> tuple[float, list[StepResult], TransferReport | None]:
    """Train each member of an ensemble as its own run in ``members/<k>`` (seed ``seed + k``);
    a member finished before a resume is read back, an interrupted one resumed."""
    seconds, steps, transfer = 0.0, [], None
    for k, member in enumerate(members):
        member_dir = run.out_dir / "members" / str(k)
        done = member_dir / METRICS_FILE
        if run.resume and done.is_file():
            load_weights(member.model, member_dir / WEIGHTS_FILE)
            seconds += float(read_json(done)["train_seconds"])
            continue
        member_cfg = dataclasses.replace(train_cfg, seed=train_cfg.seed + k, ensemble=1)
        sections = _sections(cfg, member_cfg, init_from)
        resume = run.resume and holds_run(member_dir)
        member_run = TrainingRun(member_dir, member, sections, resume=resume, inputs={})
        member_run.start()
        fit, transfer = _fit(member_run, member, cfg, member_cfg, batches, init_from)
        seconds += fit.seconds
        steps += fit.steps
        member_run.finish(_Metrics(fit.history), None, train_seconds=fit.seconds)
    return seconds, steps, transfer


@dataclass(frozen=True)
class _Metrics:
    """A member's ``metrics.json`` ``dev`` entry: its last epoch's dev metrics."""

    history: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return dict(self.history[-1]["dev"]) if self.history else {}


def _ensemble(members: Sequence[TextClassifier], wide: TfidfLogReg | None) -> TextClassifier:
    first = members[0]
    model = Ensemble([m.model for m in members if isinstance(m.model, Classifier)], wide)
    config = dataclasses.replace(
        first.config, tfidf_member=wide is not None, tfidf_chars=wide is not None and wide.chars
    )
    return TextClassifier(
        model, config, first.vocab, first.labels, first.pipeline, first.max_length,
        first.truncate, first.chars,
    )  # fmt: skip


def _sections(
    cfg: ClassifyRunConfig, train_cfg: TrainConfig, init_from: str | Path | None
) -> dict[str, Any]:
    """The run's own sections of ``config.json``."""
    return {
        "data": config_to_dict(cfg.data),
        "train": config_to_dict(train_cfg),
        "finetune": config_to_dict(cfg.finetune),
        "init_from": str(init_from) if init_from is not None else None,
    }


def _timings(steps: Sequence[StepResult]) -> list[dict[str, Any]]:
    return [{"name": st.name, "seconds": st.seconds} for st in steps]


def _new_classifier(
    cfg: ClassifyRunConfig,
    train: list[TextExample],
    train_path: str | Path,
    seed: int,
    vectors: WordVectors | None,
) -> TextClassifier:
    """An untrained classifier: the pipeline, the vocabulary, the labels and (with a character
    encoder) the characters of ``train``."""
    pipeline = Pipeline(cfg.data.pipeline)
    tokens = pipeline.batch([ex.text for ex in train])
    vocab = Vocab.build(tokens, min_freq=cfg.data.min_freq, max_size=cfg.data.max_vocab)
    chars = char_vocab(tokens) if cfg.model.char_encoder != "none" else None
    labels = sorted({ex.label for ex in train})
    if len(labels) < 2:
        raise ConfigError(f"{train_path}: a classifier needs at least 2 labels, found {labels}")
    model, model_cfg = _build_model(
        cfg.model, vocab, labels, [ex.label for ex in train], seed, vectors,
        len(chars) if chars is not None else 0,
    )  # fmt: skip
    data = cfg.data
    return TextClassifier(
        model, model_cfg, vocab, labels, pipeline, data.max_length, data.truncate, chars
    )


def _plan(
    model: Classifier, vocab: Vocab, init_from: str | Path | None, finetune: FinetuneConfig
) -> tuple[list[FinetuneStep], TransferReport | None]:
    """One step training everything; or, started ``init_from`` a run, the loaded weights and
    the steps of ``finetune.strategy`` (what was loaded is logged per layer group)."""
    groups = layer_groups(model)
    if init_from is None:
        return [FinetuneStep("full", tuple(groups))], None
    transfer = init_from_run(model, vocab, init_from)
    for group, status, detail in transfer.rows(groups):
        logger.info("init from %s: %-24s %-8s %s", init_from, group, status, detail)
    return plan_steps(list(groups), transfer.new_groups(groups), finetune), transfer


def _build_model(
    config: ClassifierConfig,
    vocab: Vocab,
    labels: list[str],
    train_labels: list[str],
    seed: int,
    vectors: WordVectors | None,
    num_chars: int = 0,
) -> tuple[Classifier, ClassifierConfig]:
    """The model, and its config with ``embedding_dim`` resolved (saved in the run)."""
    embeddings = load_pretrained(config.embeddings, vocab, seed, vectors)
    if embeddings is None and (config.embeddings is not None or vectors is not None):
        config = dataclasses.replace(config, embeddings=None)  # the run says what it used
    weights = None
    if config.class_weights == "balanced":
        index = {name: i for i, name in enumerate(labels)}
        weights = balanced_class_weights([index[x] for x in train_labels], len(labels))
    config = dataclasses.replace(config, embedding_dim=embedding_dim(config, embeddings))
    torch.manual_seed(seed)
    model = build_classifier(
        config, len(vocab), len(labels), embeddings, weights, boundary_ids(vocab), num_chars
    )
    return model, config


def _batches(
    clf: TextClassifier,
    examples: Sequence[TextExample],
    path: str | Path,
    batch_size: int,
    bucket: int,
) -> list[PaddedBatch]:
    texts, labels = [ex.text for ex in examples], [ex.label for ex in examples]
    if not texts:
        raise ConfigError(f"{path}: no examples")
    try:
        batches = clf.batches(texts, labels, batch_size, bucket)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
    if clf.max_length is not None:
        cut = sum(int((b.lengths >= clf.max_length).sum()) for b in batches)
        if cut:
            logger.info(
                "%s: %d of %d texts have data.max_length=%d tokens or more; the model reads "
                "that many of each (data.truncate=%s)",
                path, cut, len(texts), clf.max_length, clf.truncate,
            )  # fmt: skip
    return batches
