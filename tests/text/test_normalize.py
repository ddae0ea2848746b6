import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.tokenize.casual import reduce_lengthening

from rnnkit.errors import ConfigError
from rnnkit.text import normalize as nz


def test_placeholders() -> None:
    text = "@Bob_1 see https://t.co/x1?a=b, www.ex.com/p and mail a@b.com at 10:30 for 3.50 x3"
    out = nz.replace_numbers(nz.replace_users(nz.replace_urls(text)))
    assert out == "<user> see <url>, <url> and mail a@b.com at <num> for <num> x3"
    assert nz.replace_numbers("in 2015-2016 mp3 2day -5 +1,000") == "in <num> mp3 2day <num> <num>"
    assert nz.replace_numbers(nz.replace_numbers("7 <num>")) == "<num> <num>"
    assert nz.replace_numbers("<3 <35 </3 <0 0> 3<3") == "<3 <3<num> </3 <<num> <num>> <num><3"


def test_is_placeholder() -> None:
    assert nz.is_placeholder("<url>") and nz.is_placeholder("<num>")
    assert not nz.is_placeholder("<3") and not nz.is_placeholder("<URL>")
    assert not nz.is_placeholder("<url>s") and not nz.is_placeholder("")


def test_html_lower_hashtags_whitespace() -> None:
    assert nz.unescape_html("Q&amp;A &lt;3 &#128514;") == "Q&A <3 😂"
    assert nz.lowercase("ÀB Ç") == "àb ç"
    assert nz.strip_hashtags("#Happy days #1, C# and &#35;") == "Happy days 1, C# and &#35;"
    assert nz.normalize_whitespace("  a \t\n b\u00a0c  ") == "a b c"


@settings(deadline=None)  # the 2-core machine is shared: no timing limit
@given(st.text())
def test_punctuation_removal_matches_unicode_categories(text: str) -> None:
    oracle = "".join(c for c in text if not unicodedata.category(c).startswith("P"))
    assert nz.remove_punctuation(text) == oracle


def test_punctuation_and_special_removal_examples() -> None:
    assert nz.remove_punctuation("don't!! #win $5 <url> :) «ok»") == "dont win $5 <url>  ok"
    assert nz.remove_special("don't :) #1 <url> a_b 😂 é") == "dont  1 <url> ab  é"


@settings(deadline=None)  # the 2-core machine is shared: no timing limit
@given(st.text())
def test_special_removal_keeps_only_word_characters_and_space(text: str) -> None:
    out = re.sub(r"<[a-z]+>", "", nz.remove_special(text))
    assert all(c.isspace() or (c.isalnum() or unicodedata.category(c)[0] in "LMN") for c in out)


@settings(deadline=None)  # the 2-core machine is shared: no timing limit
@given(st.text(alphabet="aAbo!?.-😂", max_size=40))
def test_elongation_with_three_matches_nltk(text: str) -> None:
    # NLTK shortens any run to 3, of spaces and digits too, which we leave alone
    assert nz.ReduceElongation(3)(text) == reduce_lengthening(text)


@settings(deadline=None)  # the 2-core machine is shared: no timing limit
@given(st.text(), st.integers(1, 4))
def test_elongation_bounds_runs_and_is_idempotent(text: str, k: int) -> None:
    reduce = nz.ReduceElongation(k)
    out = reduce(text)
    assert reduce(out) == out
    for m in re.finditer(r"(.)\1*", out):
        run, ch = m.group(0), m.group(1)
        if not (ch.isdigit() or ch.isspace() or ch == "_" or ch.isnumeric()):
            assert len(run) <= k


def test_elongation_examples() -> None:
    assert nz.reduce_elongation("sooooo goooood!!!! 1000 cooool") == "soo good!! 1000 cool"
    assert nz.ReduceElongation(3)("yessssss") == "yesss"
    with pytest.raises(ConfigError, match="max_repeat"):
        nz.ReduceElongation(0)
