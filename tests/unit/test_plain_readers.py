"""The plain-data readers give what scikit-learn gives: the same grams (characters and words), and
the same probabilities for the intent and the stranger readers over the training texts and the
dev corpus's newest texts; and the saved reader loads back identical."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer, strip_accents_unicode

from inbox_agent.domain import Intent, Role
from inbox_agent.extract.classifier import IntentModel, clues_of
from inbox_agent.extract.fitting import IntentFit, StrangerFit
from inbox_agent.extract.intent import shipped_examples
from inbox_agent.extract.model_cache import load, save
from inbox_agent.extract.stranger import StrangerModel
from inbox_agent.extract.tfidf import Analyzer, TfidfStack, char_grams, fold_accents, word_grams
from inbox_agent.extract.training import TrainingExample
from inbox_agent.parse import parse_email

TOLERANCE = 1e-6
ODD_TEXTS = ("Colis livré, mais RIEN reçu!!", "a b  cd\tefghij Übergröße", "", "pkg 9400111206206406260787 ok",
             "ﬁnal Ǆ straße İstanbul ½ café—naïve_x 3.5kg", "Re: Fwd: 我的包裹 ещё не пришёл")


@pytest.fixture(scope="module")
def texts(corpus: Path) -> list[TrainingExample]:
    """The training texts and the dev corpus's newest texts (read as customers' texts)."""
    dev = []
    for path in sorted(corpus.glob("*.eml")):
        parsed = parse_email(path.read_bytes())
        dev.append(TrainingExample(parsed.subject, parsed.new_text, Intent.OTHER, Role.CUSTOMER, "", path.name))
    assert len(dev) >= 60
    return [*shipped_examples(), *dev]


@given(st.text(st.characters(codec="utf-8"), max_size=40))
def test_accents_fold_as_scikit_learn_folds_them(text: str) -> None:
    assert fold_accents(text) == strip_accents_unicode(text)


def test_character_grams_are_those_of_char_wb() -> None:
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), strip_accents="unicode").build_analyzer()
    for text in ODD_TEXTS:
        assert sorted(char_grams(text)) == sorted(reference(text))


@pytest.mark.parametrize("longest", [1, 2])
def test_word_grams_are_those_of_the_word_analyzer(longest: int, texts: list[TrainingExample]) -> None:
    reference = TfidfVectorizer(ngram_range=(1, longest), strip_accents="unicode",
                                token_pattern=r"(?u)\b\w+\b").build_analyzer()
    for text in [*ODD_TEXTS, *(f"{e.subject}\n{e.text}" for e in texts)]:
        assert word_grams(text, longest) == reference(text)


@pytest.mark.parametrize("most", [1, 60, 5000])
def test_a_row_holds_sublinear_tf_idf_values_looked_up_or_computed(most: int) -> None:
    names = [f"w{i}" for i in range(60)]
    idf = np.linspace(1.0, 3.0, len(names))
    times = [most, *range(59, 0, -1)]  # the first word is the most frequent, then fewer and fewer
    text = " ".join(f"{name} " * n for name, n in zip(names, times, strict=True))
    columns, values = TfidfStack([(Analyzer.SINGLE_WORDS, names, idf)]).row([text + " unknown"])
    expected = (np.log(np.array(times, dtype=np.float64)) + 1.0) * idf
    assert columns.tolist() == list(range(len(names)))
    assert values.tolist() == (expected / np.sqrt(np.bincount(np.zeros(len(names), dtype=np.int64),
                                                              weights=expected * expected))[0]).tolist()


def test_the_intent_reader_gives_scikit_learns_probabilities(texts: list[TrainingExample], tmp_path: Path) -> None:
    fit = IntentFit().fit(shipped_examples()[::2])
    expected = fit.probabilities(texts)
    reader = fit.reader()
    save(reader, tmp_path / "intent.npz")
    loaded = load(tmp_path / "intent.npz", IntentModel)
    for example, row in zip(texts, expected, strict=True):
        got = reader.read(example.text, example.subject, clues_of(example)).probabilities
        assert [got[c] for c in reader.classes] == pytest.approx(list(row), abs=TOLERANCE)
        assert loaded.read(example.text, example.subject, clues_of(example)).probabilities == got


def test_the_stranger_reader_gives_scikit_learns_probabilities(texts: list[TrainingExample], tmp_path: Path) -> None:
    fit = StrangerFit().fit(shipped_examples())
    expected = fit.probabilities([(e.subject, e.text) for e in texts])
    reader = fit.reader()
    save(reader, tmp_path / "stranger.npz")
    loaded = load(tmp_path / "stranger.npz", StrangerModel)
    got = np.array([reader.probability(e.subject, e.text) for e in texts])
    assert got == pytest.approx(expected, abs=TOLERANCE)
    assert [loaded.probability(e.subject, e.text) for e in texts] == got.tolist()
    assert (expected >= 0.7).any() and (expected < 0.3).any()  # both answers occur among the texts


def test_the_stranger_reader_keeps_no_word_of_one_text_only() -> None:
    """A word (or pair of words) written in one training text only teaches the stranger reader
    nothing that holds elsewhere and costs memory in every worker: it is left out."""
    def example(text: str, role: Role) -> TrainingExample:
        return TrainingExample("hello", text, Intent.OTHER, role, "en", f"g-{text}", False)

    people = [example("where is my parcel please", Role.CUSTOMER), example("my parcel never came zyxquux", Role.CUSTOMER),
              example("buy our backlinks now", Role.UNKNOWN), example("cheap backlinks for your shop", Role.UNKNOWN)]
    words = StrangerFit().fit(people).reader().grams.blocks[1].names
    assert "parcel" in words and "backlinks" in words
    assert "zyxquux" not in words and "cheap backlinks" not in words
