import json

import pytest

from rnnkit.training.metrics import classification_report, plot_confusion_matrix, report_table


def test_scores_match_hand_computation():
    gold = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "a", "b", "b", "c", "c"]
    r = classification_report(gold, pred)
    assert r.labels == ("a", "b", "c")
    assert r.accuracy == pytest.approx(4 / 6)
    # a: P=2/2 R=2/3; b: P=1/2 R=1/2; c: P=1/2 R=1/1
    f1 = {"a": 2 * 1 * (2 / 3) / (1 + 2 / 3), "b": 0.5, "c": 2 * 0.5 * 1 / 1.5}
    for score in r.per_class:
        assert score.f1 == pytest.approx(f1[score.label])
    assert r.macro_f1 == pytest.approx(sum(f1.values()) / 3)
    assert r.confusion == ((2, 1, 0), (0, 1, 1), (0, 0, 1))
    assert [s.support for s in r.per_class] == [3, 2, 1]


def test_label_order_and_absent_class():
    r = classification_report(["x", "y"], ["x", "x"], labels=["y", "x", "z"])
    assert r.labels == ("y", "x", "z")
    assert r.per_class[2].support == 0 and r.per_class[2].f1 == 0.0
    assert r.confusion[0] == (0, 1, 0)


def test_json_round_trip_and_table(tmp_path):
    r = classification_report(["a", "b", "b"], ["a", "b", "a"])
    data = json.loads(json.dumps(r.to_json()))
    assert data["confusion"] == [[1, 0], [1, 1]]
    assert data["per_class"][0]["label"] == "a"
    assert report_table(r).row_count == 4


def test_confusion_png(tmp_path):
    r = classification_report(["a", "b", "b"], ["a", "b", "a"])
    path = tmp_path / "sub" / "cm.png"
    plot_confusion_matrix(r, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["cm.png"]


def test_bad_lengths():
    with pytest.raises(ValueError, match="2 gold labels but 1"):
        classification_report(["a", "b"], ["a"])
