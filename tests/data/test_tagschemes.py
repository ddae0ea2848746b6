"""Tag schemes: conversions against hand-written oracles, validity, constraints."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnkit.data.tagschemes import (
    allowed,
    constraints,
    convert,
    detect_scheme,
    iob1_to_iob2,
    iob2_to_bioes,
    is_valid,
    split_tag,
)
from rnnkit.errors import ConfigError

IOB1 = ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG", "O", "I-MISC-X"]
IOB2 = ["B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-ORG", "O", "B-MISC-X"]
BIOES = ["B-PER", "E-PER", "S-PER", "O", "S-LOC", "S-ORG", "O", "S-MISC-X"]


def test_conversions_match_hand_written_oracles() -> None:
    assert iob1_to_iob2(IOB1) == IOB2
    assert iob2_to_bioes(IOB2) == BIOES
    assert convert(IOB1, "iob1", "bioes") == BIOES
    assert convert(BIOES, "bioes", "iob2") == IOB2
    assert convert(["NOUN"], "none", "none") == ["NOUN"]
    assert split_tag("B-MISC-X") == ("B", "MISC-X") and split_tag("NOUN") == ("O", "")


def test_bad_conversions() -> None:
    with pytest.raises(ConfigError):
        convert(IOB2, "iob2", "iob1")
    with pytest.raises(ConfigError):
        convert(IOB2, "none", "iob2")
    with pytest.raises(ConfigError):
        convert(IOB2, "iobx", "iob2")


def test_validity() -> None:
    assert is_valid(IOB2, "iob2") and not is_valid(IOB1, "iob2")
    assert is_valid(IOB1, "iob1") and is_valid(BIOES, "bioes")
    assert not is_valid(["O", "I-PER"], "iob2")
    assert not is_valid(["B-PER", "I-LOC"], "iob2")
    assert not is_valid(["B-PER"], "bioes")  # an open chunk at the end
    assert not is_valid(["B-PER", "O"], "bioes")
    assert not is_valid(["O", "B-PER"], "iob1")  # B only after a chunk of its type
    assert allowed("I-PER", "B-PER", "iob1")
    assert is_valid(["X", "I-Y"], "none")


def test_constraints_matrix() -> None:
    tags = ["O", "B-PER", "I-PER"]
    c = constraints(tags, "iob2")
    assert c.start.tolist() == [True, True, False]
    assert c.end.tolist() == [True, True, True]
    assert c.transitions.tolist() == [[True, True, False], [True, True, True], [True, True, True]]


def test_detect() -> None:
    assert detect_scheme(["NOUN", "VERB", "."]) == "none"
    assert detect_scheme(["O", "B-PER", "I-PER"]) == "iob2"
    assert detect_scheme(["O", "S-PER"]) == "bioes"


_TAG = st.sampled_from(["O", "B-A", "I-A", "B-B", "I-B"])


@given(st.lists(_TAG, max_size=12))
def test_round_trips_and_outputs_are_valid(tags: list[str]) -> None:
    iob2 = iob1_to_iob2(tags)  # any sequence read as IOB1 is valid IOB2 after conversion
    assert is_valid(iob2, "iob2")
    bioes = iob2_to_bioes(iob2)
    assert is_valid(bioes, "bioes")
    assert convert(bioes, "bioes", "iob2") == iob2
