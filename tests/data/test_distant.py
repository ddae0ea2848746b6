"""Distant supervision: markers found, removed, one example per distinct marker."""

import pytest

from rnnkit.data.distant import distant_examples, find_markers
from rnnkit.errors import ConfigError


def test_emoji_with_skin_tone_is_one_label():
    assert find_markers("great game 👍🏽 so 😂😂", "emoji") == ["👍", "😂", "😂"]


def test_emoticons_only_as_whole_tokens():
    text = "see http://t.co/x :) and :-( but not a:b or 10:30 <3"
    assert find_markers(text, "emoticon") == [":)", ":-(", "<3"]


def test_hashtags_lowercased_numbers_alone_are_not_tags():
    assert find_markers("#DeflateGate is #1 news #NFL2015!", "hashtag") == [
        "#deflategate",
        "#nfl2015",
    ]


def test_one_example_per_distinct_marker_all_removed():
    result = distant_examples(["so happy 😂 today 😍😂", "no marker", "😂"], "emoji")
    assert [(e.text, e.label) for e in result.examples] == [
        ("so happy today", "😂"),
        ("so happy today", "😍"),
    ]
    assert result.without_marker == 1 and result.counts["😂"] == 1


def test_top_keeps_the_most_frequent_markers():
    texts = ["a #x", "b #x", "c #y", "d #z", "e #x #z"]
    result = distant_examples(texts, "hashtag", top=2)
    assert {e.label for e in result.examples} == {"#x", "#z"}
    assert len(distant_examples(texts, "hashtag", min_count=2).examples) == 5


def test_bad_kind_is_a_clear_error():
    with pytest.raises(ConfigError, match="emoji, emoticon, hashtag"):
        distant_examples(["x"], "emojis")
