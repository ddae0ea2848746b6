import csv
import json

import pytest

from rnnkit.baselines.vader import VaderLabels, VaderRule, evaluate_vader
from rnnkit.errors import ConfigError

ROWS = [
    ("What a great, wonderful day!", "positive"),  # compound 0.84
    ("This is terrible and I hate it.", "negative"),  # -0.78
    ("The meeting is at noon.", "neutral"),  # 0.0: no lexicon word
    ("I do not like it", "neutral"),  # -0.28: the negation rule flips "like"
]


def _write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows)
    return path


@pytest.fixture(scope="module")
def rule():
    return VaderRule()


def test_thresholds_are_inclusive(rule):
    assert rule.label(0.05) == "positive"
    assert rule.label(0.0499) == "neutral"
    assert rule.label(-0.0499) == "neutral"
    assert rule.label(-0.05) == "negative"


def test_compound_signs_and_negation(rule):
    scores = rule.compound([text for text, _ in ROWS])
    assert scores[0] > 0.5 and scores[1] < -0.5 and scores[2] == 0.0
    assert scores[3] < -0.05  # "not like" is negative, unlike "like" alone
    assert rule.compound(["I like it"])[0] > 0.05
    assert rule.predict([text for text, _ in ROWS]) == [
        "positive",
        "negative",
        "neutral",
        "negative",
    ]


def test_evaluate_file_against_hand_computed_report(tmp_path):
    report = evaluate_vader(_write_csv(tmp_path / "d.csv", ROWS))
    assert report.labels == ("negative", "neutral", "positive")
    assert report.accuracy == 0.75
    # negative P=1/2 R=1, neutral P=1 R=1/2, positive perfect: F1 2/3, 2/3, 1
    assert report.macro_f1 == pytest.approx(7 / 9)
    assert report.confusion == ((1, 0, 0), (1, 1, 0), (0, 0, 1))


def test_custom_label_names_on_json_lines(tmp_path):
    names = {"positive": "pos", "negative": "neg", "neutral": "neu"}
    path = tmp_path / "d.jsonl"
    path.write_text(
        "".join(json.dumps({"text": t, "label": names[y]}) + "\n" for t, y in ROWS),
        encoding="utf-8",
    )
    report = evaluate_vader(path, VaderLabels("neg", "neu", "pos"))
    assert report.labels == ("neg", "neu", "pos")
    assert report.accuracy == 0.75


def test_label_outside_the_three_classes_is_refused(tmp_path):
    path = _write_csv(tmp_path / "d.csv", [*ROWS, ("so-so", "mixed")])
    with pytest.raises(ConfigError, match="'mixed'") as err:
        evaluate_vader(path)
    assert str(err.value).startswith(f"{path}:")


@pytest.mark.parametrize("threshold", [-0.1, 1.0])
def test_bad_threshold(threshold):
    with pytest.raises(ConfigError, match="threshold"):
        VaderRule(threshold=threshold)


def test_labels_must_differ():
    with pytest.raises(ConfigError, match="differ"):
        VaderRule(VaderLabels("x", "x", "pos"))
