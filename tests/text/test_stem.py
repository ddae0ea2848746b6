import pytest

from rnnkit.errors import ConfigError
from rnnkit.text.stem import Stemmer

# Examples printed in Porter (1980), "An algorithm for suffix stripping", steps 1a-5b.
PORTER_1980 = {
    "caresses": "caress", "ponies": "poni", "ties": "ti", "caress": "caress", "cats": "cat",
    "feed": "feed", "agreed": "agre", "plastered": "plaster", "motoring": "motor",
    "sing": "sing", "conflated": "conflat", "troubled": "troubl", "sized": "size",
    "hopping": "hop", "tanned": "tan", "falling": "fall", "hissing": "hiss", "fizzed": "fizz",
    "failing": "fail", "filing": "file", "happy": "happi", "relational": "relat",
    "conditional": "condit", "rational": "ration", "valenci": "valenc", "digitizer": "digit",
    "triplicate": "triplic", "formative": "form", "formalize": "formal", "electrical": "electr",
    "hopeful": "hope", "goodness": "good", "revival": "reviv", "allowance": "allow",
    "inference": "infer", "airliner": "airlin", "adjustable": "adjust", "defensible": "defens",
    "irritant": "irrit", "replacement": "replac", "adjustment": "adjust", "dependent": "depend",
    "adoption": "adopt", "communism": "commun", "activate": "activ", "angulariti": "angular",
    "homologous": "homolog", "effective": "effect", "bowdlerize": "bowdler", "probate": "probat",
    "rate": "rate", "cease": "ceas", "controll": "control", "roll": "roll",
}  # fmt: skip


@pytest.mark.parametrize("mode", ["original", "martin"])
def test_porter_reproduces_the_paper(mode: str) -> None:
    stem = Stemmer(mode=mode)
    assert stem(list(PORTER_1980)) == list(PORTER_1980.values())


def test_porter_nltk_mode_differs_from_the_paper_only_where_nltk_says() -> None:
    stem = Stemmer()
    differ = {w: stem.stem(w) for w, e in PORTER_1980.items() if stem.stem(w) != e}
    assert differ == {"ties": "tie"}  # NLTK's documented fix of the 1980 rule


def test_snowball_english_and_spanish() -> None:
    # Porter2 (Snowball English) differs from Porter where it fixed known over-stemming
    assert Stemmer("snowball")(["generously", "running", "fairly"]) == ["generous", "run", "fair"]
    assert Stemmer()(["generously"]) == ["gener"]
    assert Stemmer("snowball", "spanish")(["corriendo", "gatos"]) == ["corr", "gat"]


def test_lowercase_placeholders_and_memo() -> None:
    stem = Stemmer()
    assert stem(["Running", "<url>", "<num>", "😂"]) == ["run", "<url>", "<num>", "😂"]
    assert stem(["Running"]) == ["run"] and stem.stem("Running") == "run"


def test_bad_options() -> None:
    with pytest.raises(ConfigError, match="porter, snowball"):
        Stemmer("lancaster")
    with pytest.raises(ConfigError, match="English only"):
        Stemmer("porter", "german")
    with pytest.raises(ConfigError, match="spanish"):
        Stemmer("snowball", "klingon")
    with pytest.raises(ConfigError, match="nltk, original, martin"):
        Stemmer(mode="lovins")
