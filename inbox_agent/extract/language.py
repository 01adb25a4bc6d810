"""Language of the sender's newest text, with lingua restricted to the store's languages.

Restricting the candidates makes short texts far more accurate and the detector fast. The
detector reads trigrams only (lingua's low-accuracy mode), whatever the text's length: its
models for the seven shipped languages take ~25 MB, against ~195 MB for the high-accuracy
mode's 1- to 5-gram models, which alone would push a worker past 200 MB. On the dev corpus both
answer alike (1.000); on the 4,170 labelled training texts, trigrams lose 17 of 276 texts under
40 characters (mostly a few words of shop jargon such as "LM 2190 Canada Post") and 15 of 1,297
between 40 and 80; longer texts answer alike. A long text is read over its first words only
(some thirty words: the same answer as the whole text on every message measured, at a fraction
of the cost). The detector is built once per language set and loads each language model when a
text first needs it.

Most texts settle it before lingua runs, at a tenth of its cost: their function words. A word
of `CUE_WORDS` counts for its language when no other of the store's languages lists it; a text
with at least `_CUE_HITS` such words of one language and at most `_CUE_RIVAL_HITS` of any other is
that language; a text of `_SHORT_WORDS` words or fewer ("ok got it", "yep its here") needs
`_SHORT_CUE_HITS` and none of another language, where lingua's trigrams guess. On the 8,198
labelled training texts the cue settles 5,425 (66%) and is right on 5,413 of them, where lingua
is right on 5,370 of the same; the whole reader is right on 98.4% of them (98.1% with three
words needed whatever the length).

A text mostly in kana, Hangul or Han characters is Japanese, Korean or Chinese by its writing
system alone, before any of this (a supplier's Chinese reply is in none of the store's languages).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

_SAMPLE_CHARS = 160
_URLS = re.compile(r"https?://\S+|\S+@\S+|\b[A-Z0-9]{8,}\b")
# Carriers' and posts' names, capitalised, say nothing of the writer's language ("RM278610274BR
# via Correios" in an English table); written in lower case they are words of the text ("fui a
# correos", "la poste dit livré") and stay. Only names that are no common word are listed.
_CARRIERS = re.compile(
    r"\b(?:Poste Italiane|La Poste|Colissimo|Chronopost|Correos(?: Express)?|Correios|CTT|PostNL|bpost|"
    r"Deutsche Post|DHL(?: Paket| Express| eCommerce)?|Royal Mail|Parcelforce|Canada Post|Postes Canada|"
    r"Australia Post|NZ Post|An Post|PostNord|Swiss Post|Japan Post|China Post|China EMS|Cainiao|YunExpress|"
    r"Yanwen|SF Express|USPS|FedEx|GLS|DPD|Evri|SEUR|Nacex|Mondial Relay)\b")
_WORD = re.compile(r"[^\W\d_]+")
_LETTERS = re.compile(r"[^\W\d_]{2,}")  # a word to judge
_BLANK = re.compile(r"\s")
# Writing systems that name their language: a text mostly in Hangul is Korean, in Han characters
# Chinese, or Japanese when kana are among them (Japanese writes Han characters too), whatever the
# store's languages (a supplier writing in Chinese is no reader's French). The middle dot U+30FB
# is no kana: Chinese writes it too.
_KANA_BLOCKS = "\u3040-\u30ff"  # hiragana and katakana, the middle dot among them
_HANGUL = "\uac00-\ud7af\u1100-\u11ff"
_HAN = "\u4e00-\u9fff\u3400-\u4dbf"
_KANA = re.compile("[\u3040-\u309f\u30a0-\u30fa\u30fc-\u30ff]")  # the blocks but the middle dot
_SCRIPTS = (("ja", re.compile(f"[{_KANA_BLOCKS}{_HAN}]")), ("ko", re.compile(f"[{_HANGUL}]")),
            ("zh", re.compile(f"[{_HAN}]")))
_ANY_SCRIPT = re.compile(f"[{_KANA_BLOCKS}{_HANGUL}{_HAN}]")
_CUE_HITS = 3
_CUE_RIVAL_HITS = 1
_SHORT_WORDS = 6  # a text of this many words or fewer...
_SHORT_CUE_HITS = 2  # ...is settled by this many function words of one language and none of another
# A word listed for two languages ("la", "les": French, Spanish, Italian) counts for neither
CUE_WORDS = {
    "en": "the and you my is was have has not please this that it with for of me your but would could thank thanks "
          "hello hi received yet still where when what did been are will can there any they we our just "
          "to see from yesterday today regards rgds pls got arrived yep yup its here came thx tnx cheers",
    "fr": "le la les des du je mon ma mes vous votre est pas une et pour avec qui colis bonjour merci commande "
          "toujours reçu suis ai au aux ce cette ne mais été très nous sur",
    "de": "ich und der die das nicht ist mein meine meinen sie ihr ihre mit für von zu ein eine den dem noch bitte "
          "hallo danke paket bestellung habe wurde aber auf wir sendung",
    "es": "el los las mi mis pero está estoy paquete hola gracias recibido todavía aún y muy su sus pedido "
          "la les usted ustedes señor señores señora estimado estimados estimada hemos",
    "pt": "não meu minha você obrigado obrigada olá encomenda pacote ainda recebi o os é ao até do da seu sua pedido",
    "it": "il non è mio mia che ho sono pacco ordine grazie buongiorno ancora ricevuto della gli lo mi la",
    "nl": "ik het niet mijn een van dat op nog pakket bestelling heb wel maar bedankt graag u uw voor geen",
}


@lru_cache(maxsize=8)
def _detector(codes: tuple[str, ...]) -> LanguageDetector:
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in codes]
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


@lru_cache(maxsize=8)
def _cue_words(codes: tuple[str, ...]) -> dict[str, str]:
    """Each function word listed for exactly one of `codes`, with its language."""
    owners: dict[str, set[str]] = {}
    for code in codes:
        for word in CUE_WORDS.get(code, "").split():
            owners.setdefault(word, set()).add(code)
    return {word: next(iter(langs)) for word, langs in owners.items() if len(langs) == 1}


def _cue(sample: str, codes: tuple[str, ...]) -> str | None:
    """The language the function words of `sample` settle, or None (see the module docstring)."""
    words = _cue_words(codes)
    hits = Counter(lang for lang in map(words.get, _WORD.findall(sample.lower())) if lang is not None)
    ranked = hits.most_common(2)
    if not ranked:
        return None
    if len(ranked) == 1 and ranked[0][1] >= _SHORT_CUE_HITS and len(_WORD.findall(sample)) <= _SHORT_WORDS:
        return ranked[0][0]
    if ranked[0][1] < _CUE_HITS or (len(ranked) > 1 and ranked[1][1] > _CUE_RIVAL_HITS):
        return None
    return ranked[0][0]


def _cleaned(text: str) -> str:
    """The start of `text` (`4 * _SAMPLE_CHARS` characters) without links, addresses and codes,
    its blanks collapsed; or only as much of that start as decides the sample: a start cut at a
    blank (none of them spans one) that still holds more than `_SAMPLE_CHARS` characters and a word,
    which the whole start begins with. Most texts are decided by half the start."""
    head = text[: 4 * _SAMPLE_CHARS]
    blank = _BLANK.search(head, 2 * _SAMPLE_CHARS)
    if blank is not None:
        start = " ".join(_URLS.sub(" ", head[: blank.start()]).split())
        if len(start) > _SAMPLE_CHARS and _LETTERS.search(start):
            return start
    return " ".join(_URLS.sub(" ", head).split())


def detect_language(text: str, codes: tuple[str, ...]) -> str | None:
    """ISO 639-1 code of `text`, or None when there are no words to judge."""
    # the start is enough; links first, so that a name inside one does not cut it
    cleaned = _cleaned(_CARRIERS.sub(" ", _URLS.sub(" ", text[: 4 * _SAMPLE_CHARS])))
    if not _LETTERS.search(cleaned):
        cleaned = _cleaned(text)  # nothing but carriers' names: they are all there is to judge
    if not _LETTERS.search(cleaned):
        return None
    sample = cleaned if len(cleaned) <= _SAMPLE_CHARS else cleaned[:_SAMPLE_CHARS].rsplit(" ", 1)[0]
    if _ANY_SCRIPT.search(sample) and (script := _script(sample)) is not None:
        return script
    if len(codes) == 1:
        return codes[0]
    cue = _cue(sample, codes)
    if cue is not None:
        return cue
    found = _detector(codes).detect_language_of(sample)
    return found.iso_code_639_1.name.lower() if found else None


def _script(text: str) -> str | None:
    """The language of `text`'s writing system when most of its letters are written in one of
    `_SCRIPTS` (see there), or None."""
    letters = sum(len(w) for w in _WORD.findall(text))
    kana = _KANA.search(text) is not None
    for code, script in _SCRIPTS:
        if (code != "ja" or kana) and 2 * len(script.findall(text)) > letters:
            return code
    return None
