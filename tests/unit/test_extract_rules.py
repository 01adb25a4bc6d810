"""General reading rules, each on text written for the rule (not from the corpus)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox_agent.extract.orders import find_order_numbers
from inbox_agent.extract.tracking import find_tracking_numbers


@pytest.mark.parametrize("text, orders", [
    ("Bonjour, ma commande CN4471 est indiquée livrée.", ["4471"]),
    ("Hi, order SS-10432 says delivered but nothing came.", ["10432"]),
    ("Order MM#2051 is missing.", ["2051"]),
    ("I placed my order in 2025 and nothing came.", []),
    ("Bonjour, ma commande est la 2205.", ["2205"]),
    ("Pedido n.º 2206, factura 2207", ["2206"]),
    ("Ordernummer: 2208, artikelnummer 55121", ["2208"]),
    ("my order number is 2209 and my zip 10115", ["2209"]),
    ("orders 2215 and 2216 both missing", ["2215", "2216"]),
    ("the order is 100% wrong and cost 250 EUR", []),
])
def test_store_orders_behind_a_letter_prefix(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("subject, orders", [
    ("Re: bowl set 40870 customer not get", ["40870"]),
    ("RE: 40822 neighbour delivery", ["40822"]),
    ("Tracking update 40944", ["40944"]),
    ("RE: POD request 40745", ["40745"]),  # a proof of delivery asked for an order
    ("Parcel 40303 update", []),  # a parcel's number
    ("Last mile list 0612", []),  # a date
    ("Join 30000 happy clients", []),
    ("Ticket 70215 : votre demande", []),
    ("Casa Olmo: -15% 2027", []),
    ("Re: 40870 and 40871", []),  # two numbers: the words must say which is what
])
def test_a_subjects_one_bare_number_is_its_order(subject: str, orders: list[str]) -> None:
    assert find_order_numbers(f"{subject}\nHello, any news?", [], subject=subject) == orders


@pytest.mark.parametrize("text, tracking, orders", [
    ("store order;AE order;first mile;last mile\n40412;8190234471625508;LP00105981538140;LA670554144FR\n",
     ["LP00105981538140", "LA670554144FR"], ["40412", "8190234471625508"]),
    ("ref,carrier,last mile\n40812,bpost,CD943840523BE\n", ["CD943840523BE"], ["40812"]),
    ("Hi Lotte,\n\n40766 last mile is La Poste RR391060591FR, handed over today", ["RR391060591FR"], ["40766"]),
    ("lastmile: 40906=LA214185804FR", ["LA214185804FR"], ["40906"]),
    ("2025 was a busy year; tracking LA214185804FR", ["LA214185804FR"], []),
    ("the second one (40931 -> LA214185804FR) left today", ["LA214185804FR"], ["40931"]),
    ("Order\tFirst mile\tLast mile\n47870\tUA320543888YP\tRP102232950CA\tCanada Post\n",
     ["UA320543888YP", "RP102232950CA"], ["47870"]),
])
def test_a_forwarders_row_names_the_order_of_its_tracking_number(text: str, tracking: list[str],
                                                                 orders: list[str]) -> None:
    assert find_order_numbers(text, tracking) == orders


@pytest.mark.parametrize("text, orders", [
    ("Könnten Sie mir eine Rechnung für Bestellung\n40969 schicken?", ["40969"]),
    ("Thank you for your order\n2025 was a great year for us.", []),
])
def test_an_order_word_at_a_lines_end_and_its_number_on_the_next(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text, orders", [
    ("Buenas, cuando me llega el 45296? Gracias", ["45296"]),
    ("quando chega o 45297?", ["45297"]),
    ("cade meu pedido????? 45272", ["45272"]),
    ("Your order: 8141207735529046 (your store ref 45214)", ["8141207735529046", "45214"]),
    ("Colis GH-205190", ["205190"]),
    ("Wo ist mein Paket GH-205207?", ["205207"]),
    ("Refund ID RF-100233 received on my Visa", []),
    ("our store 1204 in Lisbon is closed", []),
    ("My order 910-6102 (foam roller) was delivered", ["9106102"]),
    ("orders 1310-1312 both missing", ["1310", "1312"]),
    ("Auto Reply: last mile request 9108841", ["9108841"]),
    ("Your request 418907 was received", []),
    ("Your enquiry has been logged as KLF-58812 and a team member will reply", []),
    ("Address query GZ20280: holding GZ20280 here, the label says unit 4", ["20280"]),
])
def test_bare_orders_asked_after_and_references_after_a_parcel_word(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text, numbers", [
    ("Bonjour, ma commande CN4471 est indiquée livrée mais je n'ai rien reçu.", []),
    ("Tracking: LP 0061 2849 3051 72 shows delivered.", ["LP00612849305172"]),
    ("Your parcel RR 123 456 785 FR arrived.", ["RR123456785FR"]),
    ("LaserShip 1LS CX VE00 58631Y", ["1LSCXVE0058631Y"]),
])
def test_words_are_never_pieces_of_a_tracking_number(text: str, numbers: list[str]) -> None:
    assert [f.number for f in find_tracking_numbers(text)] == numbers


@pytest.mark.parametrize("text, numbers", [
    ("Tracking update 1007802 1007955 1007988", []),  # orders side by side: no 14-digit number of two
    ("tracking numbers 5108 7693037816 and 5108 7693037817", ["51087693037816", "51087693037817"]),
    ("tracking 51087693037816", ["51087693037816"]),
])
def test_numbers_side_by_side_are_not_one_without_a_check_digit(text: str, numbers: list[str]) -> None:
    assert [f.number for f in find_tracking_numbers(text)] == numbers


@pytest.mark.parametrize("text, found", [
    ("Het pakket (3SDFC0123456789) staat als bezorgd.", [("3SDFC0123456789", "postnl")]),
    ("Die Sendung 00340434511539026190 wurde laut DHL zugestellt.", [("00340434511539026190", "dhl")]),
    ("DHL shipment JJD000390007882366 delivered", [("JJD000390007882366", "dhl")]),
    ("the last-mile number: La Poste 6A12345678901.", [("6A12345678901", "laposte")]),
    ("Call me at 6A12345678901 please", []),
])
def test_european_last_mile_numbers(text: str, found: list[tuple[str, str]]) -> None:
    assert [(f.number, f.carrier) for f in find_tracking_numbers(text)] == found


def test_caseless_patterns_match_any_case_and_keep_positions() -> None:
    from inbox_agent.extract.patterns import caseless

    order = caseless(r"order (\d+)")
    text = "ORDER 1043 and Order 2051"
    assert [m.group(1) for m in order.finditer(text, text.lower())] == ["1043", "2051"]
    dotted = "İstanbul order 7788"  # lower-casing İ changes the length: the slower path is taken
    found = order.finditer(dotted, dotted.lower())
    assert [(m.group(1), m.start(1)) for m in found] == [("7788", dotted.index("7788"))]
    mixed = caseless(r"[A-Z]{2}#(\d+)")
    assert mixed.search("ref mm#2051", "ref mm#2051") is not None


@pytest.mark.parametrize("text, intent", [
    ("Buongiorno, finalmente il pacco è arrivato ieri sera. Tutto perfetto!", "received"),
    ("Salve, il pacco non è arrivato ieri e il tracciamento dice consegnato.", "delivered_not_received"),
    ("I ordered a lamp almost a month ago and still nothing. Can you tell me when it will arrive?",
     "where_is_my_order"),
    ("Hi, the parcel never arrived.", "delivered_not_received"),
    ("Mein Paket ist leider nicht angekommen.", "delivered_not_received"),
    ("Het pakket is niet aangekomen.", "delivered_not_received"),
    ("A encomenda não chegou hoje.", "delivered_not_received"),
    ("Es ist heute angekommen, vielen Dank!", "received"),
    ("Nothing was missing, it arrived today.", "received"),
    ("Il est arrivé ce matin, merci !", "received"),
    ("Ya me llegó, gracias.", "received"),
    ("Já chegou, obrigado!", "received"),
    ("¡Lo encontré! Estaba en casa de la vecina.", "received"),
    ("Goed nieuws: de buurvrouw had het pakket aangenomen.", "received"),
    ("Entwarnung: das Paket lag bei meinem Nachbarn.", "received"),
    ("Finalement mon voisin l'avait récupéré, merci !", "received"),
    ("Il pacco l'ho trovato dal vicino, grazie!", "received"),
    ("Estava com o vizinho, obrigado!", "received"),
    # collected after a card or from a pick-up point
    ("The card said post office, I collected it this morning.", "received"),
    ("Ich habe es eben abgeholt, alles da.", "received"),
    ("Já peguei na portaria, obrigado.", "received"),
    ("Ik heb het pakket vandaag opgehaald bij het servicepunt.", "received"),
    ("Je l'ai récupéré au bureau de poste ce matin.", "received"),
    ("Ya lo he recogido en Correos.", "received"),
    ("L'ho appena ritirato in posta, grazie.", "received"),
    ("Ich habe nur einen Zettel gefunden, laut DHL zugestellt, aber nichts erhalten.", "delivered_not_received"),
    # "cassetta" (Italian letterbox) is not the French "cassé" (broken)
    ("Solo un avviso nella cassetta, il pacco risulta consegnato ma non ho ricevuto nulla.",
     "delivered_not_received"),
])
def test_customer_phrasings(text: str, intent: str) -> None:
    """The lexicon's phrases (a feature of the learned reader) point to the intent."""
    from inbox_agent.domain import CUSTOMER_INTENTS
    from inbox_agent.extract.classifier import lexicon_scores

    totals = lexicon_scores(text, "")[0].totals
    assert max(CUSTOMER_INTENTS, key=lambda i: totals.get(i, 0.0)).value == intent


def test_abbreviated_order_words() -> None:
    assert find_order_numbers("Bestellnr. 2211, Auftragsnr 2212 und ordernr: 2213", []) == ["2211", "2212", "2213"]
    assert find_order_numbers("My order. 2025 was a good year.", []) == []


def test_a_negation_block_needs_words_and_intents(tmp_path: Path) -> None:
    from inbox_agent.errors import ConfigError
    from inbox_agent.extract.lexicon import _negation

    with pytest.raises(ConfigError, match="negation"):
        _negation(tmp_path / "xx.yaml", {"words": "nope"})
    with pytest.raises(ConfigError, match="negation"):
        _negation(tmp_path / "xx.yaml", {"words": "nope", "intents": ["not_an_intent"]})
    words, intents = _negation(tmp_path / "xx.yaml", {"words": r"\bnope\b", "intents": ["received"]})
    assert words is not None and [i.value for i in intents] == ["received"]


def test_check_names_a_broken_thanks_pattern_in_a_stores_rules(tmp_path: Path) -> None:
    """`inbox-agent check` compiles every lexicon's `thanks:` with its phrases, so a store's broken
    pattern is named before the daemon starts, not at the first short message."""
    import shutil
    import subprocess
    import sys

    from inbox_agent.rules import DEFAULT_RULES_DIR

    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    french = rules / "lexicons" / "fr.yaml"
    text = french.read_text(encoding="utf-8")
    assert "thanks: '(?:ok\\W*)?merci" in text
    french.write_text(text.replace("thanks: '(?:ok\\W*)?merci", "thanks: '(?:ok\\W*merci"), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "inbox_agent.cli", "check"], capture_output=True, text=True,
                         check=False, env={"PATH": "/usr/bin:/bin", "INBOX_AGENT_RULES": str(rules)})
    assert out.returncode == 2
    assert out.stderr.strip().startswith(f"problem: lexicons: {french}: thanks: bad pattern: missing )")


@pytest.mark.parametrize("text, intent", [
    ("Logistic show the package is signed by receiver, so we can not do refund or resend.", "supplier_declined"),
    ("We agree give you 100% money back, pls cancel the dispute and we return money.", "supplier_refund"),
    ("Hi friend, we will ship another one for you at once, no extra charge.", "supplier_reship"),
    ("Sorry we cannot resend this item but we refund you the full amount today.", "supplier_refund"),
    # a firm's formal refusals and requests for documents, in each language
    ("We are not in a position to offer a refund, as the parcel was signed for.", "supplier_declined"),
    ("Nous ne sommes pas en mesure de procéder à un remboursement ni à un renvoi.", "supplier_declined"),
    ("Wir sind leider nicht in der Lage, eine Gutschrift auszustellen.", "supplier_declined"),
    ("Ci dispiace, ma non possiamo procedere né al rimborso né a una nuova spedizione.", "supplier_declined"),
    ("Lamentablemente no nos es posible realizar el reembolso.", "supplier_declined"),
    ("Helaas kunnen wij niet terugbetalen, het pakket is bezorgd.", "supplier_declined"),
    ("Infelizmente não podemos reembolsar, a encomenda foi entregue.", "supplier_declined"),
    ("Para poder tramitar la reclamación, necesitamos que nos remitan una declaración firmada.", "supplier_info_request"),
    ("Bevor wir über eine Gutschrift entscheiden können, benötigen wir eine Erklärung des Empfängers.",
     "supplier_info_request"),
    ("Vi preghiamo di inviarci la dichiarazione firmata del destinatario.", "supplier_info_request"),
    ("Wij hebben een ondertekende verklaring van de ontvanger nodig.", "supplier_info_request"),
    ("Precisamos de uma declaração assinada do destinatário antes de reembolsar.", "supplier_info_request"),
    ("Nous avons besoin d'une attestation signée de votre client.", "supplier_info_request"),
])
def test_supplier_phrasings(text: str, intent: str) -> None:
    """The lexicon's phrases (a feature of the learned reader) point to the intent."""
    from inbox_agent.domain import SUPPLIER_INTENTS
    from inbox_agent.extract.classifier import lexicon_scores

    totals = lexicon_scores(text, "")[0].totals
    assert max(SUPPLIER_INTENTS, key=lambda i: totals.get(i, 0.0)).value == intent


@pytest.mark.parametrize("body, intent", [
    ("Hello, we are checking with the airline about LP00612849305172, will update soon.", "other"),
    ("Hello, the last mile number of LP00612849305172 is RB123456785GB (Royal Mail).", "last_mile_tracking"),
])
def test_a_distributor_gives_last_mile_only_with_a_destination_number(body: str, intent: str) -> None:
    from inbox_agent.config import Config, PartiesConfig
    from inbox_agent.reading import read_bytes

    raw = f"From: tom@relay.example\r\nSubject: RE: parcels\r\nMessage-ID: <x@relay.example>\r\n\r\n{body}\r\n"
    _, extraction = read_bytes(raw.encode(), Config(parties=PartiesConfig(distributors=["@relay.example"])))
    assert extraction is not None and extraction.intent.value == intent


@pytest.mark.parametrize("text, other", [
    # a wrong item is `other`; a parcel put in the wrong letterbox, or left at the wrong address, is not
    ("Ik kreeg de verkeerde kleur, kan ik ruilen?", True),
    ("Misschien hebben ze het in de verkeerde bus gestoken, er zat niets in.", False),
    ("Recebi o produto errado, quero trocar.", True),
    ("Foi entregue na morada errada, não recebi nada.", False),
])
def test_a_wrong_item_is_other_a_wrong_letterbox_is_not(text: str, other: bool) -> None:
    from inbox_agent.domain import Intent
    from inbox_agent.extract.classifier import lexicon_scores

    assert (Intent.OTHER in lexicon_scores(text, "")[0].totals) is other
