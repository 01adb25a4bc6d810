"""Language of the sender's newest text, with lingua restricted to the store's languages.

Restricting the candidates makes short texts far more accurate and the detector fast. The
detector is built once per language set (building it is the slow part).
"""

from __future__ import annotations

import re
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

_SAMPLE_CHARS = 200  # some forty words: a confident answer; lingua's time grows with the text
_URLS = re.compile(r"https?://\S+|\S+@\S+|\b[A-Z0-9]{8,}\b")


@lru_cache(maxsize=8)
def _detector(codes: tuple[str, ...]) -> LanguageDetector:
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in codes]
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


def detect_language(text: str, codes: tuple[str, ...]) -> str | None:
    """ISO 639-1 code of `text`, or None when there are no words to judge."""
    cleaned = _URLS.sub(" ", text)
    if not re.search(r"[^\W\d_]{2,}", cleaned):
        return None
    if len(codes) == 1:
        return codes[0]
    found = _detector(codes).detect_language_of(cleaned[:_SAMPLE_CHARS])
    return found.iso_code_639_1.name.lower() if found else None
