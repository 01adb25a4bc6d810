"""Language of the sender's newest text, with lingua restricted to the store's languages.

Restricting the candidates makes short texts far more accurate and the detector fast. Lingua
reads every n-gram size (1 to 5) of a text shorter than 120 characters and only trigrams of a
longer one; its time grows with the text. So a short text is read whole by the full detector,
and a long one by the trigram-only detector over its first words only (some thirty words: the
same answer as the whole text on every message measured, at a fraction of the cost). Detectors
are built once per language set, and load each language model when a text first needs it (not
all of them up front: ~200 MB the store's texts may never use).
"""

from __future__ import annotations

import re
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

_ALL_NGRAMS_BELOW = 120  # lingua's own threshold between the two ways of reading
_SAMPLE_CHARS = 160
_URLS = re.compile(r"https?://\S+|\S+@\S+|\b[A-Z0-9]{8,}\b")


@lru_cache(maxsize=8)
def _detector(codes: tuple[str, ...], trigrams_only: bool) -> LanguageDetector:
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in codes]
    builder = LanguageDetectorBuilder.from_languages(*languages)
    return (builder.with_low_accuracy_mode() if trigrams_only else builder).build()


def detect_language(text: str, codes: tuple[str, ...]) -> str | None:
    """ISO 639-1 code of `text`, or None when there are no words to judge."""
    cleaned = " ".join(_URLS.sub(" ", text[: 4 * _SAMPLE_CHARS]).split())  # the start is enough
    if not re.search(r"[^\W\d_]{2,}", cleaned):
        return None
    if len(codes) == 1:
        return codes[0]
    if len(cleaned) < _ALL_NGRAMS_BELOW:
        found = _detector(codes, False).detect_language_of(cleaned)
    else:
        sample = cleaned[:_SAMPLE_CHARS].rsplit(" ", 1)[0]
        found = _detector(codes, True).detect_language_of(sample)
    return found.iso_code_639_1.name.lower() if found else None
