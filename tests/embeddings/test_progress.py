import io
import logging

import pytest
from rich.console import Console

from rnnkit.embeddings.progress import EpochBar, EpochReport, Stage, hms


def test_report_speed_and_line():
    r = EpochReport("glove", 2, 15, 1_000_000, "pairs", 4.0, 0.0123)
    assert r.per_second == 250_000
    assert r.format() == "glove epoch 2/15: 250,000 pairs/s, loss 0.0123"
    assert EpochReport("cbow", 1, 5, 10, "words", 0.0).per_second == 0.0
    assert "loss" not in EpochReport("cbow", 1, 5, 10, "words", 1.0).format()


def test_bar_prints_lines_when_not_a_terminal():
    out = io.StringIO()
    with EpochBar(Console(file=out, width=100)) as bar:
        bar(EpochReport("cbow", 1, 2, 100, "words", 0.5))
        bar(EpochReport("cbow", 2, 2, 100, "words", 0.25))
    assert out.getvalue().splitlines() == [
        "cbow epoch 1/2: 200 words/s",
        "cbow epoch 2/2: 400 words/s",
    ]


def test_bar_draws_on_a_terminal():
    out = io.StringIO()
    with EpochBar(Console(file=out, width=100, force_terminal=True), enabled=True) as bar:
        bar(EpochReport("glove", 3, 3, 900, "pairs", 1.0, 0.5))
    text = out.getvalue()
    assert "glove epochs" in text and "3/3" in text and "900 pairs/s" in text


def test_stage_off_a_terminal_logs_its_start_and_end(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="rnnkit")
    with Stage("loading vectors v.txt", total=3, console=Console(file=io.StringIO())) as stage:
        stage.advance(3)
    assert [r.getMessage() for r in caplog.records] == [
        "loading vectors v.txt …",
        "loading vectors v.txt: done in 0:00:00",
    ]


def test_stage_on_a_terminal_draws_a_bar_it_clears() -> None:
    out = io.StringIO()
    with Stage("answering 3 analogy questions", 3, Console(file=out, force_terminal=True)) as s:
        s.advance(2)
    assert "answering 3 analogy questions" in out.getvalue()


def test_hms() -> None:
    assert [hms(s) for s in (0, 65.9, 3600 * 26 + 61)] == ["0:00:00", "0:01:05", "26:01:01"]
