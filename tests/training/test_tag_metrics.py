"""Tagging metrics against hand-counted oracles."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.training.tag_metrics import (
    most_confused,
    plot_most_confused,
    span_scores,
    tagging_report,
    tagging_tables,
    token_accuracy,
)

GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG", "O"]]
PRED = [["B-PER", "I-PER", "O", "O"], ["O", "B-ORG", "B-ORG", "O"]]


def test_token_accuracy() -> None:
    assert token_accuracy(GOLD, PRED) == pytest.approx(6 / 8)
    with pytest.raises(ValueError):
        token_accuracy(GOLD, PRED[:1])
    with pytest.raises(ValueError):
        token_accuracy([["O"]], [["O", "O"]])


def test_strict_spans_hand_counted() -> None:
    types, micro = span_scores(GOLD, PRED, "iob2")
    by = {s.type: s for s in types}
    # gold spans: PER, LOC, ORG(2 tokens); predicted: PER, ORG(1), ORG(1); only PER matches
    assert by["PER"].f1 == 1.0 and by["LOC"].recall == 0.0 and by["ORG"].precision == 0.0
    assert micro.support == 3
    assert micro.precision == pytest.approx(1 / 3) and micro.recall == pytest.approx(1 / 3)
    # strict mode: an I- start is not a span (conlleval would count it)
    _, strict = span_scores([["B-PER", "I-PER"]], [["I-PER", "I-PER"]], "iob2")
    assert strict.f1 == 0.0


def test_iob1_and_bioes_agree_with_iob2() -> None:
    iob1_gold = [["I-PER", "I-PER", "O", "I-LOC"]]
    _, micro = span_scores(iob1_gold, [["I-PER", "I-PER", "O", "O"]], "iob1")
    assert micro.recall == pytest.approx(0.5) and micro.precision == 1.0
    _, bioes = span_scores([["B-PER", "E-PER", "S-LOC"]], [["B-PER", "E-PER", "O"]], "bioes")
    assert bioes.recall == pytest.approx(0.5)
    with pytest.raises(ValueError):
        span_scores(GOLD, PRED, "none")


def test_report_confusion_and_plot(tmp_path: Path) -> None:
    report = tagging_report([["N", "V", "N", "D"]], [["N", "N", "V", "D"]], tags=["D", "N", "V"])
    assert report.accuracy == 0.5 and report.tokens == 4 and report.micro is None
    assert report.score == 0.5
    assert most_confused(report, 2) == ["N", "V"]
    png = tmp_path / "c.png"
    assert plot_most_confused(report, png, top=2) == ["N", "V"]
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert len(tagging_tables(report)) == 1
    ner = tagging_report(GOLD, PRED, "iob2")
    assert ner.score == pytest.approx(1 / 3) and ner.to_json()["f1"] == pytest.approx(1 / 3)
    assert len(tagging_tables(ner)) == 2
    perfect = tagging_report(GOLD, GOLD, "iob2")
    assert plot_most_confused(perfect, tmp_path / "none.png") == []
    assert not (tmp_path / "none.png").exists()
