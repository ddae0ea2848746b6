import io

from rich.console import Console

from rnnkit.embeddings.progress import EpochBar, EpochReport


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
