import csv
import json
import random

import pytest

from rnnkit.baselines.tfidf import TfidfConfig, run_tfidf_baseline
from rnnkit.errors import DataFormatError

KEYWORDS = {
    "negative": ["awful", "hate", "worst"],
    "neutral": ["maybe", "today", "report"],
    "positive": ["love", "great", "best"],
}
FILLER = ["the", "a", "of", "to", "and", "in", "is", "it", "on", "for", "with", "this"]


def _write(path, n, seed):
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "label"])
        for i in range(n):
            label = rng.choice(sorted(KEYWORDS))
            words = [*rng.sample(FILLER, 5), rng.choice(KEYWORDS[label])]
            rng.shuffle(words)
            w.writerow([i, " ".join(words), label])


def test_baseline_learns_keywords_and_writes_outputs(tmp_path):
    for name, n, seed in (("train", 300, 0), ("dev", 60, 1), ("test", 60, 2)):
        _write(tmp_path / f"{name}.csv", n, seed)
    out = tmp_path / "run"
    result = run_tfidf_baseline(
        tmp_path / "train.csv",
        tmp_path / "dev.csv",
        tmp_path / "test.csv",
        out,
        TfidfConfig(c_grid=(0.01, 10.0)),
    )
    assert result.test.accuracy > 0.95
    assert result.best_c == 10.0  # C=0.01 underfits three balanced classes
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] == result.test.accuracy
    assert set(metrics["dev_macro_f1_by_c"]) == {"0.01", "10.0"}
    assert (out / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    assert result.predict(["i love it", "worst ever"]) == ["positive", "negative"]


def test_missing_label_column_writes_nothing(tmp_path):
    _write(tmp_path / "train.csv", 30, 0)
    bad = tmp_path / "dev.csv"
    bad.write_text("text,sentiment\nhello,positive\n", encoding="utf-8")
    out = tmp_path / "run"
    with pytest.raises(DataFormatError, match="label") as err:
        run_tfidf_baseline(tmp_path / "train.csv", bad, tmp_path / "train.csv", out)
    assert str(err.value).startswith(f"{bad}:")
    assert not out.exists()
