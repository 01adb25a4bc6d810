"""A web shop's contact-form notification: the sender's words are its message field, read in their
own language, not the form's template around them; and a business asking to buy for itself is
a would-be buyer, never a stranger."""

from __future__ import annotations

import pytest

from inbox_agent.config import Config
from inbox_agent.domain import Intent, Role
from inbox_agent.parse.quotes import newest_text
from inbox_agent.reading import read_bytes

FORM_LINES = """You received a new message from your online store's contact form.

Name: Murat Yilmaz
Email: murat.yilmaz@mail.example
Order: #707240
Message: Moin, seit 2 Wochen steht bei meiner Bestellung nur "Sendung in Vorbereitung". Wann wird die
verschickt? Brauche den Haartrockner eigentlich dringend.

Rosée Atelier · rosee.example · Sent from the contact page
"""

FORM_TABLE = """<p>Vous avez reçu un nouveau message depuis le formulaire de contact.</p>
<table><tr><td>Nom</td><td>Léa Martin</td></tr><tr><td>E-mail</td><td>lea@mail.example</td></tr>
<tr><td>Commande</td><td>707301</td></tr>
<tr><td>Message</td><td>Hola, mi pedido llegó ayer pero el sérum está roto.<br>¿Me pueden mandar otro?</td></tr>
</table><p>Boutique Rosée · envoyé depuis la page de contact</p>"""


def _mail(body: str, subtype: str = "plain", sender: str = "Murat Yilmaz <murat.yilmaz@mail.example>") -> bytes:
    return (f"From: {sender}\r\nTo: support@rosee.example\r\nSubject: [Rosée] New customer message\r\n"
            f"Message-ID: <f1@mail.example>\r\nContent-Type: text/{subtype}; charset=utf-8\r\n\r\n{body}").encode()


def test_the_message_field_of_a_form_in_lines_is_the_newest_text() -> None:
    assert newest_text(FORM_LINES) == ('Moin, seit 2 Wochen steht bei meiner Bestellung nur "Sendung in Vorbereitung". '
                                       "Wann wird die\nverschickt? Brauche den Haartrockner eigentlich dringend.")


def test_a_form_in_table_cells_is_read_in_its_message_language() -> None:
    parsed, extraction = read_bytes(_mail(FORM_TABLE, "html"), Config())
    assert parsed.new_text.startswith("Hola, mi pedido llegó ayer") and "formulaire" not in parsed.new_text
    assert extraction is not None and extraction.language == "es" and extraction.order_numbers == ("707301",)


def test_a_german_message_in_an_english_form_is_german() -> None:
    _, extraction = read_bytes(_mail(FORM_LINES), Config())
    assert extraction is not None and extraction.language == "de"
    assert extraction.intent is Intent.WHERE_IS_MY_ORDER and extraction.role is Role.CUSTOMER


def test_a_message_keeps_its_own_field_like_lines() -> None:
    form = FORM_LINES.replace("Brauche den", "Order: 707240 is the one.\nBrauche den")
    assert newest_text(form).endswith("Order: 707240 is the one.\nBrauche den Haartrockner eigentlich dringend.")


def test_a_reply_above_a_quoted_form_is_the_reply() -> None:
    reply = ("It finally arrived today, thank you so much! You can close this.\n\n"
             "From: Rosée Support <support@rosee.example>\nSent: Monday, 2 June 2025 10:00\n"
             "To: Murat Yilmaz\nSubject: Re: New customer message\n\n" + FORM_LINES)
    assert newest_text(reply) == "It finally arrived today, thank you so much! You can close this."


def test_a_customers_words_above_a_pasted_notice_stay_theirs() -> None:
    text = ("Hi, I got this from the courier but I never got any parcel. Please help!\n\n"
            "Name: Murat Yilmaz\nOrder: 707240\nPhone: 0612345678\n"
            "Message: Your parcel was delivered to your safe place.\n")
    assert newest_text(text).startswith("Hi, I got this from the courier")


@pytest.mark.parametrize("text", [
    # fields named in a sentence, not a form's lines
    "Hi, my name: John. Order: 1234. Message: where is it",
    # one field before the message is no form
    "Order: 1234\nMessage: the parcel never came\n",
])
def test_text_that_is_no_form_is_kept_whole(text: str) -> None:
    assert newest_text(text) == text.strip()


@pytest.mark.parametrize("sender, text, role", [
    # a business asking to buy for itself is a would-be buyer
    ("Ben Carter <ben@carterbuild.example>", "Hi,\nWe're a small building company in Geelong and go through a lot of "
     "drill bits. Do you offer\na trade account or bulk pricing for orders over $1,000?\nRegards, Ben", Role.CUSTOMER),
    ("Declan Byrne <declan@byrnemobile.example>", "Hello, I run a phone repair shop. We'd like to order 200 cables "
     "each quarter. Do you offer trade pricing?", Role.CUSTOMER),
    ("Anke Vos <anke@kdv-zonnetje.example>", "Goedendag, bieden jullie ook staffelkorting? Wij willen 30 slabbetjes "
     "voor ons kinderdagverblijf.", Role.CUSTOMER),
    # ... also when the phrase is wrapped to the next line
    ("Maura Quinn <maura@quinnaccounts.example>", "Hello, we are an accounting firm in Cork with 14 staff. Could "
     "you send us a quote for 14 desk lamps for our\noffice? We would pay by invoice.\nKind regards, Maura Quinn, "
     "Office Manager", Role.CUSTOMER),
    # a seller offers prices or speaks of "our company": a pitch in a buyer's words is still a stranger
    ("Tom <tom@linkpros.example>", "Hi there, I love your blog. We'd like to buy a sponsored guest post on your "
     "site for our client. What is your price?", Role.UNKNOWN),
    ("Amy <amy@growthco.example>", "Hello, I'm reaching out for our company GrowthCo. We help Shopify stores like "
     "yours double their sales. Can we book a 15 minute call this week?", Role.UNKNOWN),
    ("Li <li@factory.example>", "Dear friend, we are manufacturer of phone cables since 2008. Do you have business "
     "pricing needs? We can give you a quote for 1000 pcs with your logo.", Role.UNKNOWN),
])
def test_only_a_buyers_asking_skips_the_stranger_reader(sender: str, text: str, role: Role) -> None:
    _, extraction = read_bytes(_mail(text, sender=sender), Config())
    assert extraction is not None and extraction.role is role
