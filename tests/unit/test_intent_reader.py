"""The learned intent reader: training data loading, determinism, the disk cache, role limits,
confidence in the parse contract, grouped cross-validation and `inbox-agent learn`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from inbox_agent.config import Config, PartiesConfig, ReadingConfig
from inbox_agent.domain import CUSTOMER_INTENTS, SUPPLIER_INTENTS, Intent, Role
from inbox_agent.errors import ConfigError
from inbox_agent.extract.classifier import Clues, IntentModel, intent_key, model_texts, ranked_intents, trained_model
from inbox_agent.extract.evaluation import cross_validate
from inbox_agent.extract.fitting import IntentFit
from inbox_agent.extract.formats import load_format_book
from inbox_agent.extract.intent import classify_intent, intent_model, shipped_examples
from inbox_agent.extract.model_cache import cached_model, load
from inbox_agent.extract.tracking import find_tracking_numbers
from inbox_agent.extract.training import TrainingExample, TrainingFiles, digest, load_examples
from inbox_agent.reading import read_bytes

ROOT = Path(__file__).resolve().parents[2]


def _clues(role: Role) -> Clues:
    return Clues(role, False, False, False, {}, {})


def _line(**values: str) -> str:
    return json.dumps({"subject": "", "text": "hello", "intent": "other", "language": "en", "role": "customer",
                       "group": "g", **values})


def test_a_bad_training_line_names_its_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(_line() + "\n" + _line(intent="parcel_eaten") + "\n")
    with pytest.raises(ConfigError, match=r"x\.jsonl: line 2: not a training example"):
        load_examples([path])
    path.write_text('{"subject": "hi", "intent": "other"}\n')
    with pytest.raises(ConfigError, match="line 1: a training example needs 'text'"):
        load_examples([path])


def test_examples_load_once_each_and_keep_their_group(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join([_line(group="w1"), _line(group="w2"), _line(text="bye", group="w3"), ""]))
    examples = load_examples([path], taught=True)
    assert [(e.text, e.group, e.taught) for e in examples] == [("hello", "w1", True), ("bye", "w3", True)]


def test_a_cached_model_is_found_by_its_files_without_reading_their_texts(tmp_path: Path) -> None:
    shipped, taught = tmp_path / "shipped.jsonl", tmp_path / "taught.jsonl"
    shipped.write_text('{"text": "where is my parcel", "intent": "where_is_my_order", "group": "w1"}\n')
    taught.write_text('{"text": "found it at the neighbour", "intent": "received", "group": "w2"}\n')
    files = TrainingFiles.read([shipped], [taught])
    assert [(e.text, e.taught) for e in files.examples()] == [("where is my parcel", False),
                                                              ("found it at the neighbour", True)]
    assert TrainingFiles.read([taught], [shipped]).digest() != files.digest()  # a shipped text is no taught one
    model = trained_model(shipped_examples()[:60] + shipped_examples()[-60:], tmp_path)
    cached = next(tmp_path.glob("intent-*.npz"))
    key = cached.stem.removeprefix("intent-")

    def unread() -> list[TrainingExample]:
        raise AssertionError("the training texts were read although the model is cached")

    assert cached_model("intent", key, tmp_path, IntentModel, unread).classes == model.classes
    taught.write_text(taught.read_text() + '{"text": "got it thanks", "intent": "received", "group": "w3"}\n')
    assert len(files.examples()) == 2  # what was read, whatever came since
    assert TrainingFiles.read([shipped], [taught]).digest() != files.digest()  # a taught example added: another model


def test_the_shipped_set_covers_every_intent_with_a_group() -> None:
    examples = shipped_examples()
    assert {e.intent for e in examples} == set(Intent)
    assert all(e.group for e in examples)


def test_training_is_deterministic_and_cached_on_disk_as_plain_data(tmp_path: Path) -> None:
    examples = shipped_examples()[::3]
    clues = _clues(Role.CUSTOMER)
    text = "the tracking says delivered but nothing came"
    first = IntentFit().fit(examples).reader().read(text, "", clues).probabilities
    second = IntentFit().fit(examples).reader().read(text, "", clues).probabilities
    assert first == second
    model = trained_model(examples, tmp_path)  # trained in a child process, saved, loaded
    cached = tmp_path / f"intent-{intent_key(digest(examples))}.npz"
    assert [p.name for p in tmp_path.iterdir()] == [cached.name]
    with np.load(cached, allow_pickle=False) as data:  # arrays only: no pickled object inside
        assert all(data[name].dtype != object for name in data.files)
    assert load(cached, IntentModel).read(text, "", clues).probabilities == model.read(text, "", clues).probabilities
    assert model.read(text, "", clues).probabilities == pytest.approx(first, abs=1e-9)


def test_a_damaged_cache_file_is_trained_again(tmp_path: Path) -> None:
    examples = shipped_examples()[:60] + shipped_examples()[-60:]
    path = tmp_path / f"intent-{intent_key(digest(examples))}.npz"
    path.write_bytes(b"not a model")
    model = trained_model(examples, tmp_path)
    assert load(path, IntentModel).classes == model.classes
    assert sum(model.read("hi", "", _clues(Role.CUSTOMER)).probabilities.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("role, allowed", [(Role.CUSTOMER, CUSTOMER_INTENTS), (Role.SUPPLIER, SUPPLIER_INTENTS)])
def test_only_the_intents_of_the_senders_role_count(role: Role, allowed: frozenset[Intent]) -> None:
    model = intent_model(ReadingConfig())
    for text in ("we refund you the full amount", "the parcel arrived, thanks", "where is my order?"):
        ranked = ranked_intents(model.read(text, "", _clues(role)).probabilities, role)
        assert {i for i, _ in ranked} == allowed | {Intent.OTHER}
        assert sum(p for _, p in ranked) == pytest.approx(1.0)
        assert ranked == sorted(ranked, key=lambda item: item[1], reverse=True)


def test_rules_known_for_sure_decide_before_the_model() -> None:
    reading = ReadingConfig()
    auto = classify_intent(Role.CUSTOMER, True, "the parcel never arrived", "", False, (False, False), reading)
    assert (auto.intent, auto.confidence) == (Intent.AUTO_REPLY, 1.0)
    lastmile = classify_intent(Role.DISTRIBUTOR, False, "we refund", "", True, (True, False), reading)
    assert lastmile.intent is Intent.LAST_MILE_TRACKING
    cold = classify_intent(Role.UNKNOWN, False, "where is my order", "", False, (False, False), reading)
    assert cold.intent is Intent.OTHER


def test_parse_reports_a_confidence_and_whether_it_is_enough() -> None:
    raw = (b"From: kim@example.org\r\nSubject: delivered?\r\nMessage-ID: <k@example.org>\r\n\r\n"
           b"Tracking says delivered yesterday but I have nothing, not in the mailbox either.\r\n")
    for threshold in (0.0, 1.0):
        config = Config(parties=PartiesConfig(), reading=ReadingConfig(min_confidence=threshold))
        _, extraction = read_bytes(raw, config)
        assert extraction is not None
        contract = extraction.contract()
        assert 0.0 < extraction.intent_confidence <= 1.0
        assert contract["intent_confidence"] == round(extraction.intent_confidence, 3)
        assert contract["intent_confident"] is (extraction.intent_confidence >= threshold)
        assert extraction.guesses[0] == (extraction.intent, extraction.intent_confidence)
        assert len(extraction.guesses) == 2 and extraction.guesses[1][1] <= extraction.guesses[0][1]


def test_grouped_cross_validation_holds_out_whole_groups() -> None:
    """The mechanics, on every eighth group of the shipped texts (the whole set's figures are
    benchmarks/intent_cv.py's, a minute of CPU)."""
    chosen = set(sorted({e.group for e in shipped_examples()})[::8])
    examples = [e for e in shipped_examples() if e.group in chosen]
    cv = cross_validate(examples, 0.7, folds=3)
    assert cv.folds == 3 and cv.groups == len({e.group for e in examples})
    figures = cv.overall
    assert figures.n == sum(e.role in (Role.CUSTOMER, Role.SUPPLIER) and e.intent is not Intent.AUTO_REPLY
                            for e in examples) and cv.taught is None
    assert 0.0 <= figures.accuracy <= 1.0 and 0.0 <= figures.coverage <= 1.0
    assert figures.accuracy > 0.5  # far above chance over ten intents
    thresholds = [t for t, _ in cv.curve]
    assert thresholds == sorted(thresholds) and 0.7 in thresholds and dict(cv.curve)[0.7] == figures
    coverages = [f.coverage for _, f in cv.curve]
    assert coverages == sorted(coverages, reverse=True)  # a higher threshold is never surer of more
    wrong = round(figures.n * (1 - figures.accuracy))  # the confusions count every wrong answer once
    assert sum(c.n for c in cv.confusions) == wrong and all(c.labelled is not c.given for c in cv.confusions)
    assert all(0 <= c.confident <= c.n for c in cv.confusions)
    assert [c.n for c in cv.confusions] == sorted((c.n for c in cv.confusions), reverse=True)


def test_training_distributors_last_mile_numbers_are_ones_the_parse_finds() -> None:
    """A distributor's last-mile text is labelled by what the parse can see: a destination
    carrier's number with a valid check digit (a wrong digit would teach the rule nothing).
    The few left are carriers without a known format or numbers written without a tracking word."""
    origin = load_format_book().origin_carriers
    texts = [e for e in shipped_examples()
             if e.role is Role.DISTRIBUTOR and e.intent is Intent.LAST_MILE_TRACKING]
    found = [e for e in texts
             if any(t.carrier not in origin for t in find_tracking_numbers(f"{e.subject}\n{e.text}"))]
    assert len(texts) > 100 and len(found) >= 0.8 * len(texts)


def test_translations_of_one_scenario_share_a_group() -> None:
    """The five-language B texts are one set of scenarios: each scenario's group holds its
    translations, so cross-validation never scores a text learned in another language."""
    languages: dict[str, set[str]] = {}
    for e in shipped_examples():
        if e.group.startswith("B-"):
            languages.setdefault(e.group, set()).add(e.language)
    assert languages and sum(len(langs) == 5 for langs in languages.values()) >= 0.9 * len(languages)


def test_learn_prints_before_and_after_with_the_taught_examples(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules, ignore=shutil.ignore_patterns("training"))
    (rules / "training").mkdir()
    shutil.copy(ROOT / "rules" / "training" / "seed-core.jsonl", rules / "training")
    taught = tmp_path / "taught"
    taught.mkdir()
    example = TrainingExample("Re: parcel", "yep its here now, cheers", Intent.RECEIVED, Role.CUSTOMER, "en",
                              "taught:<a@example.org>", True)
    (taught / "taught.jsonl").write_text(example.to_json() + "\n")
    config = tmp_path / "config.toml"
    config.write_text(f'[paths]\nrules = "{rules}"\n[reading]\nexamples = "{taught}"\ncache_dir = "{tmp_path / "cache"}"\n')
    command = Path(sys.executable).parent / "inbox-agent"
    out = subprocess.run([str(command), "learn", "--config", str(config)], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    assert "1 taught" in out
    assert "before" in out and "after" in out and "taught texts only" in out
    assert len(list((tmp_path / "cache").glob("intent-*.npz"))) == 1


@pytest.mark.parametrize("entry, address, role", [
    ("@shop.example", "amy@shop.example", Role.SUPPLIER),
    ("@shop.example", "news@mail.shop.example", None),  # "@domain" is that domain exactly
    ("@.shop.example", "news@mail.shop.example", Role.SUPPLIER),  # "@.domain" opts in to sub-domains
    ("@.shop.example", "amy@shop.example", Role.SUPPLIER),
    ("@.shop.example", "eve@evilshop.example", None),
])
def test_party_domains_match_sub_domains_only_when_asked(entry: str, address: str, role: Role | None) -> None:
    from inbox_agent.extract.role import party_of

    assert party_of(address, PartiesConfig(suppliers=[entry])) is role


@pytest.mark.parametrize("headers, body, role", [
    ("List-Unsubscribe: <https://news.example/u>\r\n", "Spring sale: 20% off lamps this week.", "unknown"),
    ("", "Your monthly invoice is ready. Amount due: $29.00, due date 3 May.", "unknown"),
    ("List-Unsubscribe: <https://news.example/u>\r\n", "My order 2051 never arrived, where is my parcel?", "customer"),
    ("", "Hello, can I get an invoice for my order 2051?", "customer"),
    ("", "Bonjour, notre agence web propose un audit gratuit de votre référencement. Prenez rendez-vous.", "unknown"),
    ("", "Sehr geehrte Damen und Herren, Ihre Rechnung Nr. 4471 ist bereit. Zahlbar bis 12.05.", "unknown"),
    ("", "Estimado cliente, su cuenta será suspendida. Verifique su cuenta hoy mismo.", "unknown"),
    ("", "Gentile cliente, la sua fattura di aprile è disponibile. Data di scadenza: 30/04.", "unknown"),
    ("", "Hello, I host a podcast about dogs with 12,000 weekly listeners and we have ad slots "
         "open for spring. Would your brand like a sponsored mention? Rates attached.", "unknown"),
    ("", "Hallo, verzenden jullie ook naar België? Ik wil graag twee lampen bestellen.", "customer"),
    # parcel-fee phishing: addressed as a customer, a link to a bare IP address, a fee due in 48 hours
    ("", "Sehr geehrter Kunde, Ihr Paket wartet. Zollgebühr 1,99 EUR: bitte bezahlen Sie innerhalb von "
         "48 Stunden: http://203.0.113.9/pay", "unknown"),
    ("", "Dear customer, your parcel is held. Pay the 2.99 USD fee within 24 hours at http://198.51.100.4/p",
     "unknown"),
    ("", "Estimado cliente, su paquete está retenido. Pague aquí <http://pago.example/p> en las proximas "
         "48 horas o el envío será devuelto.", "unknown"),
    # an email box said to be full, with a link to "verify": a stranger; a full letterbox is a buyer's words
    ("Action required: contact@shop.example mailbox is 98% full", "Mailbox storage almost full\n\nDear contact,\n\n"
     "Your mailbox contact@shop.example is 98% full (9.8 GB of 10 GB). Incoming messages will be rejected after "
     "24 hours.\n\nTo avoid losing emails, verify your account and upgrade your quota for free:\n\nVerify Now "
     "<https://shop-mailcenter.example/verify?u=contact&ref=MX-552918>\n\nRef: MX-552918\n\nMail Administrator",
     "unknown"),
    ("", "Bonjour, le suivi dit livré mais ma boîte aux lettres était pleine et le facteur n'a rien laissé. "
         "Je n'ai rien reçu.", "customer"),
    ("", "Bonjour, je n'ai jamais reçu l'e-mail avec le suivi car ma boîte mail est pleine. Pouvez-vous me "
         "renvoyer votre facture et le numéro de suivi ? Le colis n'est pas arrivé.", "customer"),
    ("", "Hello, the tracking says delivered but the mailbox was 100% full of flyers that day. Can you send me "
         "your invoice as well?", "customer"),
    ("", "Hi, the shelves were meant to increase storage in our garage but they never came. Could you email your "
         "invoice for them?", "customer"),
    # but a buyer who pastes such a notice is still a customer
    ("", "Dear customer, your parcel was delivered. That is what I got, but my parcel is not here!", "customer"),
    ("", "Bom dia, a minha encomenda 5512 ainda não chegou e preciso da fatura.", "customer"),
    # a business buying from the store for itself is a buyer like any other: its office, its VAT number
    ("", "Sehr geehrte Damen und Herren, für unsere Tierarztpraxis benötige ich zu Bestellung 40591 eine "
         "Rechnung mit ausgewiesener Mehrwertsteuer. USt-IdNr. DE298765431", "customer"),
    ("", "Hello, we are a scout troop and would like 12 of the camping stoves for our group. Do you ship "
         "to Ireland?", "customer"),
])
def test_bulk_and_billing_mail_from_unknown_senders_is_not_a_customer(headers: str, body: str, role: str) -> None:
    raw = (f"From: hello@sender.example\r\nSubject: news\r\nMessage-ID: <n@sender.example>\r\n{headers}\r\n{body}\r\n")
    _, extraction = read_bytes(raw.encode(), Config())
    assert extraction is not None and extraction.role.value == role
    if role == "unknown":
        assert extraction.intent is Intent.OTHER


@pytest.mark.parametrize("sender, subject, body, role", [
    # a promotion, a company's register number, a prize, a job nobody asked for, a button's words
    ("hello@shop.example", "Weekend sale", "Dit weekend -30% op alle jassen. Gebruik code JAS30 bij het afrekenen. "
     "Shop BV, KvK 81234567", "unknown"),
    ("hello@shop.example", "Gewinnspiel", "Herzlichen Glückwunsch, Sie haben ein iPhone gewonnen! Hier klicken.", "unknown"),
    ("recruiting@jobs.example", "Lavoro", "Lavoro da casa, nessuna esperienza richiesta, guadagno fino a 300€ al giorno.",
     "unknown"),
    ("ana.ruiz@mail.example", "¡Premio!", "Has ganado un móvil por solo 1,95 €. Haz clic aquí antes de las 23:59.",
     "unknown"),
    # a department's address and one family; a department's address alone, or one family alone, is no stranger
    ("nieuws@shop.example", "Zomer", "Hallo! Nieuwe zomercollectie binnen. Uitschrijven? Zie onderaan.", "unknown"),
    ("promo@parts.example", "Promo estate", "Promo estate: -25% su tutti i tergicristalli fino al 31/07.", "unknown"),
    ("billing.jane@mail.example", "my lamp", "Hi, where is my lamp? Order 3899.", "customer"),
    ("jane@mail.example", "code", "Hi, which discount code can I use for my next order?", "customer"),
    # a no-reply address the policy's list does not name is a machine's, whatever it says
    ("workspace-noreply@mail.example", "Invoice", "Your workspace invoice is available.", "unknown"),
    ("naoresponda@correios.example", "Objeto entregue", "Seu objeto NA123456785BR foi entregue.", "unknown"),
    ("nolan.noreply@webmail.example", "my lamp", "Where is my lamp? Order 3899.", "customer"),
])
def test_strangers_are_known_by_their_words_and_their_address(sender: str, subject: str, body: str,
                                                              role: str) -> None:
    raw = f"From: {sender}\r\nSubject: {subject}\r\nMessage-ID: <s@sender.example>\r\n\r\n{body}\r\n"
    _, extraction = read_bytes(raw.encode(), Config())
    assert extraction is not None and extraction.role.value == role


def test_a_store_prefix_makes_its_bare_references_count() -> None:
    from inbox_agent.extract.orders import find_order_numbers

    text = "| BP2051 | shipped |\nyour ref bp-2052, #BP 2053, BP20544; not BPX2055 nor ABP2056"
    assert find_order_numbers(text, [], "BP") == ["2051", "2052", "2053", "20544"]
    # without the setting, "#BP 2053" shows the message's own letters, and they count everywhere
    assert find_order_numbers(text, []) == ["2051", "2052", "2053", "20544"]
    # with no label anywhere only the setting makes four digits count; capitals glued to five or
    # more are a store's reference by their style alone
    unlabelled = "| BP2051 | shipped |\nBP20544 too; not BPX2055 nor ABP2056"
    assert find_order_numbers(unlabelled, [], "BP") == ["2051", "20544"]
    assert find_order_numbers(unlabelled, []) == ["20544"]


@pytest.mark.parametrize("role, subject, text, intent", [
    (Role.CUSTOMER, "Re: your parcel", "It arrived this morning, thank you so much!", Intent.RECEIVED),
    (Role.CUSTOMER, "Delivered but not here", "The tracking says delivered yesterday but there is nothing in my mailbox.",
     Intent.DELIVERED_NOT_RECEIVED),
    (Role.CUSTOMER, "Where is my order?", "I ordered a month ago and the tracking has not moved. When will it arrive?",
     Intent.WHERE_IS_MY_ORDER),
    (Role.SUPPLIER, "Re: order problem", "Dear friend, we have refunded the full amount to the buyer today.",
     Intent.SUPPLIER_REFUND),
])
def test_the_reader_gets_plain_messages_right(role: Role, subject: str, text: str, intent: Intent) -> None:
    reading = classify_intent(role, False, text, subject, False, (False, False), ReadingConfig())
    assert reading.intent is intent and reading.guesses[0][0] is intent


def test_thanks_for_advice_before_one_ordered_is_no_question_before_buying() -> None:
    """"before I order" asks before buying (`other`); "before I ordered" tells of a purchase made."""
    asked = classify_intent(Role.CUSTOMER, False, "Hi, before I order: do you ship to Norway?", "Question", False,
                            (False, False), ReadingConfig(), explain=True)
    told = classify_intent(Role.CUSTOMER, False, "Just to say the charger arrived this morning. Thanks for the "
                           "advice before I ordered!", "Charger arrived", False, (False, False), ReadingConfig(),
                           explain=True)
    assert asked.intent is Intent.OTHER and any("before i order" in w for w in asked.why)
    assert told.intent is Intent.RECEIVED and not any("before i order" in w for w in told.why)


def test_a_strangers_newsletter_quoting_a_buyers_words_is_no_customer() -> None:
    raw = (b"From: Parcel News <hello@parcel-news.example>\r\nTo: support@store.example\r\n"
           b"Subject: 5 ways to cut 'where is my order' tickets\r\nMessage-ID: <n1@parcel-news.example>\r\n"
           b"List-Unsubscribe: <https://parcel-news.example/unsub>\r\nPrecedence: bulk\r\n\r\n"
           b"Parcel Weekly #212. Stores that send delay emails see fewer tickets about order #1001.\r\n")
    _, extraction = read_bytes(raw, Config())
    assert extraction is not None
    assert extraction.role is Role.UNKNOWN and extraction.order_numbers == ()


def test_an_inch_mark_is_no_quotation() -> None:
    """A phrase in quotation marks is mentioned, not said; the double quote of an inch is no quote."""
    from inbox_agent.rules import load_rules_file

    quoted = re.compile(load_rules_file("cold_senders.yaml")["quoted"])
    assert quoted.search("cut 'where is my order' tickets") and quoted.search('5 ways to cut "my order" mails')
    assert not quoted.search('the 55" TV and my order of the 32" one')
    assert not quoted.search("I don't know where my order is, it's late")


def test_our_case_tag_in_a_subject_is_not_read() -> None:
    """A reply's subject carries our case tag, whose token is random: the reader reads the
    subject's words without it, so two customers' same answer reads the same."""
    text = "Toujours pas."
    plain = model_texts("Re: Votre colis : comment le faire retrouver par USPS", text)
    assert model_texts("Re: Votre colis : comment le faire retrouver par USPS [#C-12-9f3a61c2]", text) == plain
    assert model_texts("Re: [#C-7-0b1e44aa] Votre colis : comment le faire retrouver par USPS", text) == plain
    readings = {classify_intent(Role.CUSTOMER, False, text, f"Re: Votre colis [#C-{n}-{token}]", False, (False, False),
                                ReadingConfig()).confidence for n, token in ((3, "00ff13aa"), (41, "9c2e7d10"))}
    assert len(readings) == 1


@pytest.mark.parametrize("text", ["Thanks!", "Ok, thank you 🙏", "Merci beaucoup !", "Vielen Dank.", "Bedankt!",
                                  "Muchas gracias", "Grazie mille!!", "Muito obrigada."])
def test_a_bare_thanks_is_other_whatever_the_subject(text: str) -> None:
    """A text that only thanks says nothing of the parcel, even under a subject that says it came."""
    for subject in ("Re: Your post office contact details", "Re: Parcel arrived", "Re: Delivered but not here"):
        read = classify_intent(Role.CUSTOMER, False, text, subject, False, (False, False), ReadingConfig())
        assert (read.intent, read.confidence) == (Intent.OTHER, 1.0)
        assert "a bare thanks: it says nothing of the parcel" in read.why


def test_thanks_with_more_words_is_read_by_the_model() -> None:
    read = classify_intent(Role.CUSTOMER, False, "Thanks, it arrived today!", "Re: your order", False, (False, False),
                           ReadingConfig())
    assert read.intent is Intent.RECEIVED and read.confidence < 1.0


def test_a_text_in_a_language_the_reader_was_not_trained_on_is_unsure() -> None:
    """Polish, Turkish (in sentence or title case) and Chinese words are unknown to the reader:
    whatever it guesses, it is not sure of it; the same request in a trained language, with a name
    and an unknown product word, is read as usual, and so are heavy typos and lower-case tracking
    numbers."""
    polish = ("Dzień dobry, zamówiłam u Państwa trzy tygodnie temu body dla dziecka i skarpetki. Numer "
              "śledzenia od tygodnia pokazuje tylko przesyłka w drodze. Kiedy mogę się spodziewać paczki?")
    turkish = ("Merhaba, kargo takip sayfası paketin teslim edildiğini söylüyor ama ben hiçbir şey almadım, "
               "kapıda da posta kutusunda da yok. Lütfen yardımcı olur musunuz?")
    title_case = ("Merhaba, Siparişim Gelmedi. Kargo Takip Numarası Çalışmıyor. Lütfen Yardımcı Olur Musunuz? "
                  "Teşekkürler")
    chinese = "你好，我的包裹还没有收到，物流信息两个星期没有更新了，请帮我查一下，谢谢"
    english = ("Hello, I ordered the snugglewrap three weeks ago and the tracking has said in transit for a "
               "week. When will it arrive? Anna Kowalska")
    for text in (polish, turkish, title_case, chinese):
        read = classify_intent(Role.CUSTOMER, False, text, "Zamówienie", False, (False, False), ReadingConfig())
        assert read.confidence < ReadingConfig().min_confidence
        assert any("a language it was not trained on" in w for w in read.why)
    read = classify_intent(Role.CUSTOMER, False, english, "Order", False, (False, False), ReadingConfig())
    assert read.intent is Intent.WHERE_IS_MY_ORDER and read.confidence >= ReadingConfig().min_confidence
    assert not any("not trained on" in w for w in read.why)
    typos = ("helo i havnt recievd my parsel yet its ben 3 weks, the trakin numbr dosnt wrk plz advis asap, "
             "verry dissapointd")
    listed = "hi the tracking numbers: uh673372914yp, cd188304611be, rq077135021it all show delivered, nothing here"
    for text in (typos, listed):
        read = classify_intent(Role.CUSTOMER, False, text, "parcel", False, (False, False), ReadingConfig())
        assert not any("not trained on" in w for w in read.why)
