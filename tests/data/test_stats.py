"""Statistics for ``rnnkit data check``: counts against independent counts, JSON, the table."""

import io
import json
import statistics
from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console

from rnnkit.data.formats import Pair, TextExample, read_conll, write_classification, write_pairs
from rnnkit.data.stats import FileStats, compute_stats, file_stats, render_stats
from rnnkit.errors import ConfigError, DataFormatError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"


def rendered(stats: FileStats, **options: int) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=120, color_system=None).print(render_stats(stats, **options))
    return buffer.getvalue()


def test_tagging_stats_match_direct_counts() -> None:
    path = FIXTURES / "conll2003.conll"
    sentences = read_conll(path)
    stats = file_stats(path)
    lengths = [len(s.tokens) for s in sentences]
    tags = Counter(t for s in sentences for t in s.tags)
    assert (stats.format, stats.unit, stats.items) == ("conll", "sentences", len(sentences))
    assert stats.text.tokens == sum(lengths)
    assert stats.text.vocabulary == len({t for s in sentences for t in s.tokens})
    assert (stats.text.min_length, stats.text.max_length) == (min(lengths), max(lengths))
    assert stats.text.mean_length == pytest.approx(statistics.mean(lengths))
    assert dict(stats.labels) == tags
    counts = [c for _, c in stats.labels]
    assert counts == sorted(counts, reverse=True)
    assert stats.label_kind == "tags" and stats.target is None


def test_classification_stats(tmp_path: Path) -> None:
    rows = [TextExample("a b c", "pos"), TextExample("a  d", "neg"), TextExample("e", "pos")]
    path = tmp_path / "a.jsonl"
    write_classification(path, rows)
    stats = file_stats(path)
    assert (stats.items, stats.unit, stats.text.tokens, stats.text.vocabulary) == (3, "rows", 6, 5)
    assert stats.labels == (("pos", 2), ("neg", 1))
    assert stats.label_kind == "labels"


def test_label_ties_are_ordered_by_name() -> None:
    rows = [TextExample("x", label) for label in ["b", "a", "c", "a", "b"]]
    assert [label for label, _ in compute_stats(rows, "classification").labels] == ["a", "b", "c"]


def test_pairs_have_a_target_side(tmp_path: Path) -> None:
    path = tmp_path / "a.tsv"
    write_pairs(path, [Pair("one two", "uno dos tres"), Pair("three", "tres")])
    stats = file_stats(path)
    assert stats.text.tokens == 3 and stats.target is not None and stats.target.tokens == 4
    assert stats.target.vocabulary == 3 and stats.labels == ()
    out = rendered(stats)
    assert "source tokens" in out and "target vocabulary" in out


def test_to_json_is_json_with_ordered_labels() -> None:
    stats = file_stats(FIXTURES / "sample.conllu")
    data = json.loads(json.dumps(stats.to_json()))
    assert data["items"] == stats.items and data["tokens"] == stats.text.tokens
    assert list(data["labels"]) == [label for label, _ in stats.labels]
    assert data["length"]["max"] == stats.text.max_length and data["target"] is None


def test_table_shows_counts_and_truncates_labels(tmp_path: Path) -> None:
    rows = [TextExample(f"text {i}", f"[l{i % 5}]") for i in range(12)]
    stats = compute_stats(rows, "classification", "x.csv")
    out = rendered(stats, max_labels=3)
    assert "[l0]" in out and "[l1]" in out  # brackets are not taken as markup
    assert "[l4]" not in out and "2 more" in out
    assert "rows" in out and "12" in out


def test_file_stats_passes_errors_through(tmp_path: Path) -> None:
    bad = tmp_path / "bad.conll"
    bad.write_text("a\tB\nb\tC\tD\n", encoding="utf-8")
    with pytest.raises(DataFormatError) as err:
        file_stats(bad)
    assert err.value.line == 2
    with pytest.raises(ConfigError):
        file_stats(bad, "nonsense")
    assert file_stats(bad, "text").items == 2


def test_compute_stats_refuses_nothing_or_wrong_records() -> None:
    with pytest.raises(ValueError):
        compute_stats([], "text")
    with pytest.raises(ValueError):
        compute_stats(["a line"], "classification")
