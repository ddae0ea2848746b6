import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.tokenize import TreebankWordTokenizer
from nltk.tokenize import TweetTokenizer as NltkTweetTokenizer

from rnnkit.text.tokenize import CharTokenizer, SplitTokenizer, TweetTokenizer, WordTokenizer

tweet = TweetTokenizer()
word = WordTokenizer()


@pytest.mark.parametrize(
    "text",
    [
        "I just don't trust my life in google's hands, no thank you",
        "Driverless cars are not worth the risk. Don't want to be on the highway",
        "@united Made it to the gate and they wouldn't let us on http://t.co/xAToxBnsFa",
        "self-driving cars just seem lazy and a waste of money :( #fail",
        "@VirginAmerica you're the best :) I <3 it #love",
    ],
)
def test_tweet_tokenizer_agrees_with_nltk_on_ordinary_tweets(text: str) -> None:
    assert tweet(text) == NltkTweetTokenizer().tokenize(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sooooo happy!!!", ["sooooo", "happy", "!!!"]),
        ("ooooh :-) ;P =D :'( >:( :)))", ["ooooh", ":-)", ";P", "=D", ":'(", ">:(", ":)))"]),
        ("re:Dallas", ["re", ":", "Dallas"]),
        ("love it <3 </3 ^_^ -_- o_O", ["love", "it", "<3", "</3", "^_^", "-_-", "o_O"]),
        ("mail me: a.b+c@ex-ample.org @bob_1", ["mail", "me", ":", "a.b+c@ex-ample.org", "@bob_1"]),
        ("visit https://t.co/AbC123. now", ["visit", "https://t.co/AbC123", ".", "now"]),
        ("(see www.example.com/x?q=1)", ["(", "see", "www.example.com/x?q=1", ")"]),
        (
            "$AAPL up 3.50 at 10:30pm, 1,000 shares",
            ["$AAPL", "up", "3.50", "at", "10:30pm", ",", "1,000", "shares"],
        ),
        ("in the U.S. today...", ["in", "the", "U.S.", "today", "..."]),
        ("<user> said <url> <num>", ["<user>", "said", "<url>", "<num>"]),
        ("#self-driving cars", ["#self", "-", "driving", "cars"]),
        ("it's state-of-the-art", ["it's", "state-of-the-art"]),
    ],
)
def test_tweet_tokenizer_cases(text: str, expected: list[str]) -> None:
    assert tweet(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("😂😂", ["😂", "😂"]),  # each emoji its own token
        ("👍🏽ok", ["👍🏽", "ok"]),  # skin tone
        ("👨\u200d👩\u200d👧 family", ["👨\u200d👩\u200d👧", "family"]),  # ZWJ sequence
        ("🏳️\u200d🌈!", ["🏳️\u200d🌈", "!"]),  # with variation selector
        ("🇫🇷🇩🇪", ["🇫🇷", "🇩🇪"]),  # flags: regional-indicator pairs
        ("1️⃣ first", ["1️⃣", "first"]),  # keycap
        ("❤️fun", ["❤️", "fun"]),
        (
            "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
            ["🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"],
        ),  # tag sequence
    ],
)
def test_tweet_tokenizer_keeps_each_emoji_whole(text: str, expected: list[str]) -> None:
    assert tweet(text) == expected


@settings(deadline=None)  # the 2-core machine is shared: no timing limit
@given(st.text())
def test_tweet_tokenizer_loses_only_whitespace(text: str) -> None:
    tokens = tweet(text)
    assert all(t and not any(c.isspace() for c in t) for t in tokens)
    assert "".join(tokens) == "".join(text.split())


# characters that the tweet patterns treat specially, so that their combinations get tried
TWEETISH = st.text(
    alphabet="aZé9_ .,:;!?-'’()<>@#$/=^*3😂🏽\u200d\ufe0f\u20e3🇫🇷\u0301²\x1f", max_size=30
)


def test_every_letter_and_digit_continues_a_word() -> None:
    # the fast path emits letter/digit chunks whole; the regular expression must agree
    findall = TweetTokenizer._regex.findall
    alnum = [chr(i) for i in range(sys.maxunicode + 1) if chr(i).isalnum()]
    assert [
        c for c in alnum if findall(f"{c}a1") != [f"{c}a1"] or findall(f"a{c}") != [f"a{c}"]
    ] == []


@settings(deadline=None)  # the 2-core machine is shared: no timing limit
@given(st.one_of(st.text(), TWEETISH))
def test_tweet_tokenizer_fast_path_equals_the_whole_text_regex(text: str) -> None:
    assert tweet(text) == TweetTokenizer._regex.findall(text)


@settings(deadline=None)  # the 2-core machine is shared: no timing limit
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_word_tokenizer_never_crashes(text: str) -> None:
    tokens = word(text)
    assert all(isinstance(t, str) and t for t in tokens)


def test_word_tokenizer_is_treebank_per_sentence() -> None:
    sentences = [
        "Mr. Smith paid $3.50 for a cat, didn't he?",
        '"Yes," said Dr. Jones.',
        "It's 5 p.m. in the U.S. now.",
    ]
    oracle = [t for s in sentences for t in TreebankWordTokenizer().tokenize(s)]
    assert WordTokenizer()(" ".join(sentences)) == oracle
    assert "Jones" in oracle and "." in oracle  # the sentence-final periods were split


def test_word_tokenizer_without_sentence_splitting_is_plain_treebank() -> None:
    text = "He left. She stayed."
    assert WordTokenizer(split_sentences=False)(text) == TreebankWordTokenizer().tokenize(text)
    assert WordTokenizer(split_sentences=False)(text) != WordTokenizer()(text)


def test_word_tokenizer_keeps_placeholders() -> None:
    assert WordTokenizer()("see <url> and <user>'s post.") == [
        "see",
        "<url>",
        "and",
        "<user>",
        "'s",
        "post",
        ".",
    ]


def test_char_tokenizer() -> None:
    assert CharTokenizer()("ab c") == ["a", "b", " ", "c"]
    assert CharTokenizer(keep_space=False)("ab c") == ["a", "b", "c"]
    text = "e\u0301👍🏽 x"
    assert CharTokenizer(graphemes=True)(text) == ["e\u0301", "👍🏽", " ", "x"]
    assert CharTokenizer(graphemes=True, keep_space=False)(text) == ["e\u0301", "👍🏽", "x"]


@settings(deadline=None)  # the 2-core machine is shared: no timing limit
@given(st.text())
def test_char_tokenizer_round_trips(text: str) -> None:
    assert "".join(CharTokenizer()(text)) == text
    assert "".join(CharTokenizer(graphemes=True)(text)) == text


def test_split_tokenizer() -> None:
    assert SplitTokenizer()(" the <unk> N\tyears \n") == ["the", "<unk>", "N", "years"]
