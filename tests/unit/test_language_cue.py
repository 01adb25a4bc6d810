"""The language of the newest text: function words settle most texts before lingua reads them."""

from __future__ import annotations

import pytest

from inbox_agent.config import STORE_LANGUAGES
from inbox_agent.extract.language import _cue, detect_language

CODES = tuple(STORE_LANGUAGES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ich habe mein Paket noch nicht bekommen, bitte helfen Sie mir", "de"),
        ("Bonjour, je n'ai toujours pas reçu mon colis, merci de vérifier", "fr"),
        ("Hallo, ik heb mijn pakket nog niet ontvangen", "nl"),
        ("Ciao, non ho ancora ricevuto il mio pacco", "it"),
        ("Hello, my parcel says delivered but it is not here", "en"),
    ],
)
def test_function_words_settle_the_language(text: str, expected: str) -> None:
    assert _cue(text, CODES) == expected
    assert detect_language(text, CODES) == expected  # lingua would answer the same


@pytest.mark.parametrize(
    "text",
    [
        "LM 2190 Canada Post",  # no function word: lingua decides
        "Hello, ich habe the parcel nicht and the box",  # two languages: lingua decides
    ],
)
def test_a_text_without_a_clear_majority_is_left_to_lingua(text: str) -> None:
    assert _cue(text, CODES) is None


def test_a_word_two_store_languages_share_counts_for_neither() -> None:
    """'pedido' is Spanish and Portuguese: with both in the store it settles nothing."""
    assert _cue("pedido pedido pedido", ("es", "pt")) is None
    assert _cue("pedido pedido pedido", ("es", "en")) == "es"
    # "la" and "les" are French, Spanish and Italian words: a formal Spanish letter is not French
    letter = ("Estimados señores: En relación con la incidencia abierta sobre su pedido, les informamos de que "
              "nos confirma la entrega")
    assert _cue(letter, CODES) != "fr" and detect_language(letter, CODES) == "es"


@pytest.mark.parametrize(
    ("text", "expected", "settled"),
    [
        ("Re: order 2207\nall good got it", "en", "en"),  # two function words in a short text
        ("Re: Order #3823\nyep it's here", "en", "en"),
        ("Hi Femke\n\npls see subject. handed over to PostNL yesterday.\n\nRgds\nHelen", "en", "en"),
        ("got it, merci", None, None),  # one word of each: lingua decides
    ],
)
def test_a_short_text_is_settled_by_two_function_words_of_one_language(
        text: str, expected: str | None, settled: str | None) -> None:
    assert _cue(text, CODES) == settled
    if expected:
        assert detect_language(text, CODES) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dear Ilse,\n\n1007802: YT2576818435371454 / Poste Italiane RI317784305IT\n"
         "1007955: 4PX3074061782658CN / Correios RM278610274BR\nBest\nKowloon Express", "en"),
        ("sorry for delay. LM = LE409188278DE (DHL/Deutsche Post). Status delivered 02.10.", "en"),
        ("fui a correos y dicen que esta entregado. yo no tengo nada", "es"),  # in lower case, a word of the text
        ("Hallo, ich habe nichts bekommen: https://tools.example/USPS/track?tLabels=9400111899223334445561 zeigt "
         "zugestellt", "de"),  # a name inside a link goes with the link
    ],
)
def test_carriers_names_do_not_name_the_writers_language(text: str, expected: str) -> None:
    assert detect_language(text, CODES) == expected


def test_a_text_of_names_only_is_judged_on_them() -> None:
    assert detect_language("Colissimo", CODES) is not None


@pytest.mark.parametrize(
    ("text", "codes", "expected"),
    [
        ("您好，订单 8150808228838942 的包裹已妥投，我们无法退款，也无法重新发货。", CODES, "zh"),
        ("您好，包裹显示已妥投。", ("en",), "zh"),  # a one-language store still tells it apart
        ("お世話になっております。荷物はまだ届いていません。", CODES, "ja"),  # kana beside Han characters
        ("配達完了と表示されていますが、商品未着です。至急確認願います。", CODES, "ja"),  # more Han than kana
        ("您好・包裹没有收到", CODES, "zh"),  # the middle dot is no kana
        ("안녕하세요, 소포가 아직 도착하지 않았습니다.", CODES, "ko"),
        ("Hello, the parcel (包裹) never came, please check it for me", CODES, "en"),  # a few characters quoted
    ],
)
def test_a_writing_system_names_its_language(text: str, codes: tuple[str, ...], expected: str) -> None:
    assert detect_language(text, codes) == expected
