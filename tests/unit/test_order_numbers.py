"""Order numbers by rule family, on text written for each rule: order labels in several languages,
labels and numbers in table cells or on the next line, subjects, a store's letter prefix learned
from the message itself, and the numbers that only look like orders."""

from __future__ import annotations

import pytest

from inbox_agent.extract.orders import find_order_numbers
from inbox_agent.parse.html import html_to_text


@pytest.mark.parametrize("text, orders", [
    ("Hello, order no. 30417 has not shown up yet.", ["30417"]),
    # a platform's long order id after an order word; the same run after a phone word is none
    ("Pedido n.º 5807714290316 sigue sin llegar, tel. 5807714290317", ["5807714290316"]),
    ("Bestellung 5807714290318 kam nie an. Rückruf: 0049 1522 3456789", ["5807714290318"]),
    ("ord. 30418 is still in transit", ["30418"]),
    ("Ord #30419 please check", ["30419"]),
    ("Your ref: KT-30420 - the parcel is lost", ["30420"]),
    ("your reference 30421, delivered but empty mailbox", ["30421"]),
    ("Ref: KT-30422 / AE order 8190775402318866", ["30422", "8190775402318866"]),
    ("Reference KT#30423 never came", ["30423"]),
    ("Bestellnr.: 30424 fehlt noch", ["30424"]),
    ("meine Bestellung KT-30425 ist nicht da", ["30425"]),
    ("N° de commande : 30426", ["30426"]),
    ("commande n°KT-30427 toujours rien", ["30427"]),
    ("Réf. commande 30428", ["30428"]),
    ("mi pedido número KT 30429 no llegó", ["30429"]),
    ("il mio ordine n. 30430 non è arrivato", ["30430"]),
    ("bestelling nr. 30431 is niet bezorgd", ["30431"]),
    ("a minha encomenda n.º 30432", ["30432"]),
    ("Order: KT 30433", ["30433"]),
    ("Hello\nOrder confirmation KT-30434 attached", ["30434"]),
    ("Bestellbestätigung Nr. 30435", ["30435"]),
    ("the order with number 30436 and Bestellung mit der Nummer 30437", ["30436", "30437"]),
    ("see https://shop.example/account/orders/30438 or ?order_id=30439", ["30438", "30439"]),
])
def test_order_labels_in_many_languages_and_abbreviations(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


def test_a_label_and_its_number_in_adjacent_html_cells() -> None:
    minified = "<table><tr><td>Order</td><td>KT-50210</td></tr><tr><td>Total</td><td>$38.90</td></tr></table>"
    indented = """
    <table>
      <tr>
        <td>Order number</td>
        <td>50211</td>
      </tr>
      <tr>
        <td>Postcode</td>
        <td>10115</td>
      </tr>
    </table>"""
    assert find_order_numbers(html_to_text(minified), []) == ["50210"]
    assert find_order_numbers(html_to_text(indented), []) == ["50211"]


def test_a_header_cell_labels_the_cells_below_it() -> None:
    html = ("<table><tr><th>Date</th><th>Order</th><th>Zip</th><th>Total</th></tr>"
            "<tr><td>12/03/2025</td><td>50212</td><td>75011</td><td>42,50 EUR</td></tr>"
            "<tr><td>14/03/2025</td><td>KT-50213</td><td>75012</td><td>19,90 EUR</td></tr></table>")
    assert find_order_numbers(html_to_text(html), []) == ["50212", "50213"]
    plain = "| Order # | Date | Postcode |\n|---|---|---|\n| 50214 | 2025-03-12 | 10115 |\n"
    assert find_order_numbers(plain, []) == ["50214"]
    indented = """
    <table>
      <tr><th>Date</th>
          <th>Order</th>
          <th>Zip</th></tr>
      <tr><td>12/03/2025</td>
          <td>50243</td>
          <td>75011</td></tr>
      <tr><td>13/03/2025</td>
          <td>KT-50244</td>
          <td>75012</td></tr>
    </table>"""
    assert find_order_numbers(html_to_text(indented), []) == ["50243", "50244"]


@pytest.mark.parametrize("text, orders", [
    ("Order | 50215 | shipped", ["50215"]),
    ("Order number:\n50216\n\nThanks", ["50216"]),
    ("Bestellnummer\t\n   50217\t\n", ["50217"]),
    ("N° de commande :\n\n50231\n", ["50231"]),
    ("Thanks!\n\n> Order number:\n> SHOPX-50232\n> Total: $12.00", ["50232"]),
    # an address under the word is not an order
    ("Thank you for your order:\n1234 Elm Street\nSpringfield", []),
    ("Order date\n2025-03-12", []),
])
def test_a_label_with_its_number_on_the_next_line_or_after_a_bar(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text, orders", [
    ("Re: #50218 not delivered\nHi, still nothing here.", ["50218"]),
    ("Re: #KT50240 not delivered\nand #KT-50241 neither", ["50240", "50241"]),
    # '#' before a colour or a helpdesk's letters is no order
    ("Colours\nbackground #ff0000, #CC3300; see #INC-50242", []),
    ("KT-50219\nHello, the tracking says delivered but I have nothing.", ["50219"]),
    ("Re: AW: KT-50220 nicht angekommen\nHallo, leider nichts.", ["50220"]),
    # a helpdesk's ticket in the subject is not an order
    ("Re: [Ticket CS-50221] your request\nWe are looking into it.", []),
    ("RMA-50222 approved\nPlease send the item back.", []),
    ("USB-3000 cable not charging\nHello, the cable stopped working.", []),
    ("Question about model LX-2040\nDoes it fit a E27 socket?", []),
    ("New arrivals SS-2025\nOur spring collection is here.", []),
    ("Re: Quote QT-50245\nPlease find our offer.", []),
    # two or three capitals glued to four digits: a store's reference, wherever it stands
    ("Re: refund\nWe refund AliExpress order 8123456789012345 (your KB3044) today.", ["8123456789012345", "3044"]),
    ("Re: no llegó\nMi pedido es la KB3051, sigue sin llegar.", ["3051"]),
    ("Re: parcel\nKB3063, the two cushions, never came.", ["3063"]),
    ("Model XR1000 in stock\nFlight LH3044 lands at 9.", []),
    # a US state's letters glued to the number are no ZIP code ("NH 03101" is one)
    ("Re: cushion\nAbout NH3282: the cover is missing.", ["3282"]),
    ("Address\nConcord, NH 03301", []),
    # a forwarder's manifest, a helpdesk's incident ("incidencia") are no orders
    ("Manifest MF-643946\nLast-mile numbers for manifest MF-028061 below.", []),
    ("Re: pedido\nEl pedido 42903 no ha llegado. Mi número de incidencia es #53444.", ["42903"]),
])
def test_references_in_the_subject(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


def test_a_prefix_labelled_once_makes_its_other_references_count() -> None:
    text = "Order KT-50223 arrived, but KT-50224 is still missing (and KT50225 too)."
    assert find_order_numbers(text, []) == ["50223", "50224", "50225"]
    # never learned from a label: a bare prefixed number in the body stays unread
    assert find_order_numbers("Subject\nOur warehouse is at CH-8001 Zurich, item KT-50226.", []) == []
    # the learned prefix is the store's: another one in the same message is not taken
    assert find_order_numbers("Order KT-50227\nclaim QX-50228 opened", []) == ["50227"]


@pytest.mark.parametrize("text", [
    "Issue #4521: the website is slow",
    "Ticket no. 48213 was opened",
    "Case #48214 is closed",
    "Incident #48215 reported",
    "support request #48216",
    "Vorgang Nr. 48217 angelegt",
    "Anfrage #48218",
    "dossier n° 48219 ouvert",
    "incidencia #48220",
    "protocolo nº 48221",
    "segnalazione n. 48222",
    "melding #48223",
    "Invoice #48224 attached",
    "invoice no. INV-48225",
    "Rechnung Nr. 48226",
    "parcel #48227 and Sendung Nr. 48228",
    "refund #48229, coupon #48230, return #48231",
    "Reklamation Nr. 48232",
    "Check our 2025 collection!",
    "notre 2024 catalogue est en ligne",
    "our 1500 customers love it",
    "your 2025 collection is great",
    "Maple & Moss Ltd · Company No. 14829301 · Bristol",
    "Invoice No. 48224 is attached",
    "1187 Oak Ave, Columbus, OH 43215",
    "Spedizione a Milano (CAP 20121)",
    "Lot number on the bag: LOT 251104.",
    "Amtsgericht München HRB 241187",
    "a new RTX 4090 for the shop PC",
    "548 Market St #48211, San Francisco",
    "12 Harbour Road #4471",
    "Order date: 2025-03-12",
    "Order\t12/03/2025\t",
    "Ordered in 2023, still waiting",
    "Order total: 104.50",
    "Order | 45,00 €",
    "Order hotline +49 30 1234567",
    "Your ref: 2025-03-11-CP-448102",
    "AusPost enquiry ref 9034881",
    "our ref. OBF-DE-25031407",
    "our ref: CLM-55423 (claim opened with the carrier)",
    "Order: EUR 1250 paid, order via UPS 12345",
])
def test_numbers_that_only_look_like_orders(text: str) -> None:
    assert find_order_numbers(text, []) == []


def test_our_order_named_bare() -> None:
    assert find_order_numbers("Hi, our 2134 was delivered to a locker (our 2135).", []) == ["2134", "2135"]


def test_a_trade_partners_your_before_a_bare_number_names_the_stores_order() -> None:
    text = "For AliExpress order 8254857940384264 (your 32366) we resend; about your 605102: refunded"
    assert find_order_numbers(text, []) == ["8254857940384264", "32366", "605102"]


def test_an_order_next_to_a_distractor_is_still_read() -> None:
    text = "Ticket #48213 about order #50229; invoice 48224 for order 50230, issue #12"
    assert find_order_numbers(text, []) == ["50229", "50230"]


def test_a_whole_message_with_an_html_table_and_a_subject() -> None:
    """What the parser gives (subject, HTML body turned to text, quoted history) read as one."""
    from email.message import EmailMessage

    from inbox_agent.parse import parse_email

    message = EmailMessage()
    message["From"] = "ops@forwarder.example"
    message["To"] = "help@shop.example"
    message["Subject"] = "Re: KT-50246 last mile"
    message["Message-ID"] = "<t1@forwarder.example>"
    message.set_content("see the HTML part")
    message.add_alternative(
        "<p>Hello, the last mile for your parcels:</p>"
        "<table><tr><th>Your ref</th><th>Carrier</th><th>Ticket</th></tr>"
        "<tr><td>KT-50247</td><td>PostNL</td><td>48290</td></tr>"
        "<tr><td>KT-50248</td><td>PostNL</td><td>48291</td></tr></table>"
        "<p>Best regards, Team 2025</p>", subtype="html")
    parsed = parse_email(message.as_bytes())
    assert find_order_numbers(parsed.all_text, []) == ["50246", "50247", "50248"]


def test_a_character_whose_lower_case_is_longer_keeps_positions() -> None:
    # 'İ' lower-cases to two characters: the positions of what follows must not shift
    assert find_order_numbers("İstanbul, order KT-50249\nİzmir: see KT-50250", []) == ["50249", "50250"]


# A hostile sender's long run of spaces after an order word or label, next to a real order: each
# pattern takes the run whole, so reading stays linear (benchmarks/hostile_text.py prints the CPU
# time; before, 1,000 spaces after a table's label cost seconds and 2,000 after "order" a minute,
# and the table below half a minute).
_RUN = " " * 5000


@pytest.mark.parametrize("text, orders", [
    (f"order{_RUN}x\norder 30440", ["30440"]),
    (f"order{_RUN}30441", ["30441"]),
    (f"order no.{_RUN}:{_RUN}KT{_RUN}x\nyour ref 30442", ["30442"]),
    (f"order 30443\n| order{_RUN}x |\n", ["30443"]),
    (f"| order{_RUN}|{_RUN}30444{_RUN}|\n", ["30444"]),
    (f"order 30445\nyour ref{_RUN}no.{_RUN}x", ["30445"]),
    # a table of thousands of label cells over as many numbers (each row is split once), and a
    # line of dashes that is no '|---|' rule (it ends in a letter)
    ("| order " * 2000 + "|\n| " + "30446 | " * 2000 + "\n", ["30446"]),
    ("| order |\n" + "-" * 20000 + "x\n| 30447 |\n", []),
    # thousands of comma fields before an order field, and an export of thousands of rows
    ("a," * 5000 + "order,b\n" + "x," * 5000 + "30448,5\n", ["30448"]),
    ("order_id,zip\n" + "30449,75011\n" * 5000, ["30449"]),
])
def test_hostile_runs_and_tables_are_read_in_one_pass(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


def test_a_line_of_thousands_of_numbers_given_a_tracking_number_is_read_once() -> None:
    assert find_order_numbers("LV123456785CN " + "for 30450 " * 5000, ["LV123456785CN"]) == ["30450"]


@pytest.mark.parametrize("text, orders", [
    ("orders 60220 and 60221 never came", ["60220", "60221"]),
    ("Die Bestellungen 60712, 60713 und 60714 fehlen", ["60712", "60713", "60714"]),
    ("my order 51234/51235 (two lamps)", ["51234", "51235"]),
    ("les commandes 40604 et 40605", ["40604", "40605"]),
    ("Order numbers: 60536, 60537", ["60536", "60537"]),
    ("order nos. 60546 and 60547", ["60546", "60547"]),
    # a series keeps the first's length and takes no year after other numbers
    ("Bestellung 6022 und 2025 Katalog", ["6022"]),
    ("Order 60222, zip 6022", ["60222"]),
])
def test_a_series_of_orders_after_an_order_word(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text, orders", [
    ("Commandes concernées :\n• 40612\n• 40613\n\nMerci", ["40612", "40613"]),
    ("These orders never came:\n- 60212 (lamp)\n- 60213 – rug\nThanks", ["60212", "60213"]),
    ("Pedidos:\n1) 40811\n2) 40812", ["40811", "40812"]),
    ("Order number:\n50216\n50217\nThanks", ["50216", "50217"]),
    # a line that is not one of the list ends it
    ("Ordini:\n- 40912\nVia Roma 1250\n- 40913", ["40912"]),
])
def test_orders_listed_under_a_line_naming_them(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text, orders", [
    ("Thank you!\nOrder\n2025\nOur spring catalogue is out.", []),
    ("Commande :\n1999\n", []),
    # under a label that names a number, a year-shaped number is the order
    ("Order number:\n2025\n", ["2025"]),
    ("Order\n2051\n", ["2051"]),
])
def test_a_year_under_a_label_that_names_no_number(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text, orders", [
    ("ma commande est la numéro 41204", ["41204"]),
    ("Meine Bestellnummer lautet 40702.", ["40702"]),
    ("Order-ID: 60171", ["60171"]),
    ("commande réf. 60175", ["60175"]),
    ("Uw kenmerk: 60165. Ons kenmerk: ONZ-44120.", ["60165"]),
    ("Votre demande n° 70215 a bien été reçue.", []),
    ("Telefon Bestellung: 0800 123 4567", []),
    ("Store #1234, 5th Avenue; tienda nº 1235; Dispute #60502", []),
    ("je bestelling #60529 (factuur #60530)", ["60529"]),
    ("Logistics number is 7300123456789012, AliExpress order 8203145567781235.", ["8203145567781235"]),
    ("AliExpress order: 8187440293165527, tracking 8187440293165528", ["8187440293165527"]),
    ("payment id 8187440293165527, EAN: 4006381333931234", []),
])
def test_order_words_and_numbers_that_are_something_else(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


def test_a_label_and_its_number_in_an_html_definition_list() -> None:
    html = "<dl><dt>Numero ordine</dt><dd>60307</dd><dt>Anno</dt><dd>2025</dd></dl>"
    assert find_order_numbers(html_to_text(html), []) == ["60307"]


@pytest.mark.parametrize("text, orders", [
    ("issue #4521 closed, see also #4522.", []),
    ("Tickets #4521 and #4522; invoices #60605 and #60606", []),
    ("Invoice no. 48224, n° 48225", []),
    # an order word, the end of the sentence or of a bracket sets the bare number free again
    ("Ticket #48213 about order #50229", ["50229"]),
    ("Ticket #48213. #50230 never arrived", ["50230"]),
    ("Re: [Ticket #55102] #41205 not delivered", ["41205"]),
])
def test_a_bare_number_after_a_ticket_or_invoice_in_its_sentence(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text, orders", [
    ("Los números de pedido son 70255, 70256 y 70257.", ["70255", "70256", "70257"]),
    ("I numeri d'ordine sono 70261 e 70262.", ["70261", "70262"]),
    ("Betroffen sind die Bestellnummern 70249, 70250 sowie 70251.", ["70249", "70250", "70251"]),
    ("commandes 70243 ainsi que 70244", ["70243", "70244"]),
    # a quantity after an order word is no order
    ("The minimum order is 2500 pieces", []),
    ("los pedidos son 500 unidades como mínimo; Bestellungen sind 1000 Stück", []),
])
def test_orders_after_a_plural_verb_and_quantities(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text, orders", [
    ("the order (80554) and order [80553]", ["80554", "80553"]),
    ("la commande « 80557 » et Bestellung „80562“", ["80557", "80562"]),
    ("my order, which is number 80555, placed on 02/03/2025", ["80555"]),
    ("Ma commande, dont le numéro est 80561, n'est jamais arrivée.", ["80561"]),
    ("Mi pedido, cuyo número es 80573, no ha llegado.", ["80573"]),
    # a relative clause without a number after its verb names none
    ("my order, which is 3 weeks late", []),
    # a purchase word introduces an order too, but not a quantity
    ("purchase #80601, mon achat 80602, Einkauf 80603, acquisto n. 80604", ["80601", "80602", "80603", "80604"]),
    ("the purchase of 2500 units; compra de 1500 unidades", []),
])
def test_an_order_number_in_quotes_brackets_a_relative_clause_or_after_a_purchase_word(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text, orders", [
    # the same order named another way in a bracket right after its number, or beside it in one
    ("Sorry, this order 3051790026647713 (612089) is delivered on 6 Feb", ["3051790026647713", "612089"]),
    ("Refund request AE order 3051822946617703 (our PG-4108)", ["3051822946617703", "4108"]),
    ("Our customer (our ref: PG-4140, AE order 3052266390184471) never received it",
     ["4140", "3052266390184471"]),
    ("about order 40127 (ref. BB-40127)", ["40127"]),
    # a bracket of anything else, or beside no order, names none
    ("order 3051790026647713 (2025) and order 3051790026647714 (2 pcs, 1500 EUR)",
     ["3051790026647713", "3051790026647714"]),
    ("Your request (#104887) has been received", []),
    ("votre commande VL-3009921 annulée. Le remboursement de 59,90 € (réf. RB-77120)", ["3009921"]),
    ("order 3051790026647713 (tel 0612345678)", ["3051790026647713"]),
    # a word and a number in the bracket are no reference, and their word does not spread
    ("My order 40127 (phone 612345678). Phone 699887766", ["40127"]),
    ("order 40127 (not 40126). I paid 2999 for it, not 1999", ["40127"]),
    ("order 40127 (total 1500) and (case 98765)", ["40127"]),
    ("(order 40127, apt 1204, 2 pcs, 1500)", ["40127"]),
    ("order 40127 (١٢٣٤٥)", ["40127"]),
])
def test_a_bracket_that_names_an_order_another_way(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


def test_a_hasty_my_oder_is_an_order_word_but_german_oder_is_not() -> None:
    assert find_order_numbers("hi my oder 4190 says deliverd but nothing here??", []) == ["4190"]
    assert find_order_numbers("Es dauert 3 oder 4190 Tage", []) == []


@pytest.mark.parametrize("text, orders", [
    # stores whose order numbers are long (9-digit increment ids, 8-digit sequences)
    ("Bestellung 100004521 ist nicht angekommen", ["100004521"]),
    ("my order #000012345 never came", ["000012345"]),
    ("commande n° 710482913 pas reçue", ["710482913"]),
    ("Order number:\n45001234\n", ["45001234"]),
    ("| Order | Date |\n| 300012877 | 2 May |", ["300012877"]),
    # a platform's long ids right after an order word (up to 14 digits), not in a table cell
    ("order 5801234567890 never came", ["5801234567890"]),
    ("| Order | Date |\n| 5801234567891 | 2 May |", []),
    # but not a phone number, a marketplace order cut short, nor fifteen digits
    ("Tel n° 0612345678, order 100004522", ["100004522"]),
    ("AliExpress order 8187440293165527", ["8187440293165527"]),
    ("order 123456789012345 (fifteen digits)", []),
])
def test_long_store_order_numbers(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text, orders", [
    # a request's tag and a subscription's number are no orders; an order named so beside a ticket is
    ("Re: [Request #70303] order 70304 missing", ["70304"]),
    ("Subscription ID SUB-70305, mon abonnement n° 70306", []),
    ("Ticket 70307 opened about your order 70307", ["70307"]),
])
def test_a_ticket_or_subscription_number_is_no_order(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text, orders", [
    # once letters are labelled as an order's, references with other letters are a refund's, a return's
    ("commande VL-70310 annulée, remboursement (réf. RB-70311)", ["70310"]),
    ("Order VL-70312; see also #RB70313 and RB-70314", ["70312"]),
    # with no letters labelled, a reference still counts; a return's letters never do
    ("réf. RB-70315", ["70315"]),
    ("RET-70316 approved", []),
])
def test_references_with_other_letters_than_the_orders(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


def test_an_order_column_beside_a_return_column() -> None:
    html = ("<table><tr><th>N° de commande</th><th>N° de retour</th><th>Article</th></tr>"
            "<tr><td>VL-70317</td><td>RX-55012</td><td>Jean slim 28/32</td></tr></table>")
    assert find_order_numbers(html_to_text(html), []) == ["70317"]


@pytest.mark.parametrize("text, prefix, orders", [
    # the store's own letters glued to the number, after a return or complaint word: the order concerned
    ("Reso VL70320\nCome faccio il reso?", "VL", ["70320"]),
    ("Reclamo TL31084003", "TL", ["31084003"]),
    # but not after a model word
    ("model VL-4071, order VL-40710", "VL", ["40710"]),
])
def test_the_store_prefix_after_a_return_or_complaint_word(text: str, prefix: str, orders: list[str]) -> None:
    assert find_order_numbers(text, [], prefix) == orders


@pytest.mark.parametrize("text, orders", [
    # a count, a plural order word, a comma, then the list
    ("I have 2 orders, 70330 and 70331, both for the same address", ["70330", "70331"]),
    ("two orders, 1500 customers", []),
    # order words written with a hyphen or abbreviated; a label line after "Re:"
    ("Bestell-ID: 4021566721", ["4021566721"]),
    ("hoi, bestelnr 4021588127 nog niet binnen", ["4021588127"]),
    ("Hi,\nRe: Order ID\n31084420\nThe drawer is broken.", ["31084420"]),
])
def test_a_list_after_a_comma_and_more_order_words(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text, orders", [
    # sixteen digits glued to letters in one token are a part of a carrier's code
    ("verzonden via DHL, code JVGL0612345678901235.", []),
    ("Envío con Correos, seguimiento PQ4F6P0712345670128002L.", []),
    # nor are the first sixteen of seventeen digits (a post's domestic number)
    ("handed to the local post, local no. 70730259000048812", []),
    # but not in a link's parameter
    ("https://shop.example/detail?orderId=8187440293165529", ["8187440293165529"]),
])
def test_a_marketplace_id_is_no_part_of_a_longer_token(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text, orders", [
    # a store's letters, a space, the number: a reference in the store's style, as with a dash
    ("hi, we send again the earbuds (your ZP 88274). new number follows", ["88274"]),
    ("Suivi dernier kilomètre ZP 88296 / ZP 88329", ["88296", "88329"]),
    ("Ma commande c'est ZP 88329. Je fais quoi ?", ["88329"]),
    # a plural order word, a colon, then the list
    ("I placed two orders a week apart: 403071266 and 403073940.", ["403071266", "403073940"]),
    # a tracking column header on the line above is no tracking word for the marketplace order below
    ("AE order\tStore ref\tNew tracking\t\n\n3950468524727228\t#4866\n", ["3950468524727228", "4866"]),
    ("Tracking number:\n3950468524727228", []),
])
def test_spaced_store_references_colon_lists_and_table_rows(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("subject, text, orders", [
    # a subject's glued reference shows the store's letters: they count there and in the text
    ("Re: CF4230 / CF4231", "Parcel 1 (CF4230) showed up today, the second one (CF4231) did not.", ["4230", "4231"]),
    ("Where is CF4612?", "Tracking says delivered, nothing here.", ["4612"]),
    # not a return's, an invoice's or a ticket's letters, nor after such a word
    ("RMA20931 received", "Thanks, we got the return.", []),
    ("Invoice KT40210", "Please find the invoice attached.", []),
    # without the subject, a glued reference alone is no order
    ("", "Missing package CF4612", []),
])
def test_a_subjects_glued_reference_names_the_stores_letters(subject: str, text: str, orders: list[str]) -> None:
    assert find_order_numbers(f"{subject}\n{text}", [], subject=subject) == orders


def test_a_trade_partners_your_number_is_the_stores_order() -> None:
    text = "wir haben die Rückerstattung für die Bestellung 3050391128847716 gemacht (Ihre Nummer 2096614)."
    assert find_order_numbers(text, []) == ["3050391128847716", "2096614"]


@pytest.mark.parametrize("text, tracking, orders", [
    # "No." as "#"; a store whose letters are KB; a price after the number; a forwarder's list
    ("the dog bed finally arrived today (No. 70655)", [], ["70655"]),
    ("meine Bestellung KB204511 ist nicht da", [], ["204511"]),
    ("New disputes:\n - Order #3203  $58.40  reason: item not received", [], ["3203"]),
    ("Parcels you flagged:\n\n  61410  LQ827104496DE   zugestellt", ["LQ827104496DE"], ["61410"]),
    ("the total was 3203 $ in the end", [], []),
    ("Last mile info\nSB42830 Correos: LS206566412ES\nSB42444 Correios: LR193638056BR", ["LS206566412ES", "LR193638056BR"],
     ["42830", "42444"]),
    ("\n2051 was delivered, tracking LA482915635FR", ["LA482915635FR"], []),
    ("Last mile as below:\n31302 - Canada Post RR718040450CA\n30961 - USPS 9400111679863218267988",
     ["RR718040450CA", "9400111679863218267988"], ["31302", "30961"]),
    ("\n2 - 3 days more for LA482915635FR", ["LA482915635FR"], []),
    ("Handed over today:\n41207 (YT2506321874502931) -> La Poste LA482915635FR", ["YT2506321874502931", "LA482915635FR"],
     ["41207"]),
    ("\n250 (grams) sent with LA482915635FR", ["LA482915635FR"], []),
])
def test_no_dot_kb_letters_prices_after_and_indented_forwarder_rows(text: str, tracking: list[str],
                                                                     orders: list[str]) -> None:
    assert find_order_numbers(text, tracking) == orders


@pytest.mark.parametrize("text, orders", [
    # the order as what is missing or wanted again, bare
    ("waar blijft 54919?? al 3 weken wachten", ["54919"]),
    ("where is my 60233? nothing since Monday", ["60233"]),
    ("can u resend 604331. nothing came", ["604331"]),
    ("waar blijft kt-22811??", ["22811"]),
    ("where is 2025 going, what a year", []),
    ("where is 25 Elm Street exactly?", []),
    # a line that starts with it and says it is missing, also after a subject line ending in a
    # word that would make the number something else at the end of its own line
    ("parcel\n20811 still not here. tracking says delivered", ["20811"]),
    ("2025 still not here", []),
    # "num", two groups of three, a year's series
    ("hi my order num is 1673 , the tracking is stuck", ["1673"]),
    ("Order 610 536 - tracking shows it was delivered", ["610536"]),
    ("Bestellung 2026-0412 fehlt", ["20260412"]),
    ("order placed 2026-04-12, still nothing", []),
    # capitals glued to five digits or more, as a store writes its references
    ("I have two orders with you, BR11587 and BR11323.", ["11587", "11323"]),
    ("container MSKU7712345 arrived", []),
    ("the gift card BRG289482 does not work", []),
])
def test_bare_orders_in_short_mail_and_written_references(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("subject, body, orders", [
    ("60301", "where is it?? been 3 wks", ["60301"]),
    ("Re: #60302", "any news?", ["60302"]),
    ("2025", "the year in review", []),
    ("Parcel 60303 update", "nothing here", []),
])
def test_a_subject_that_is_only_a_number_names_the_order(subject: str, body: str, orders: list[str]) -> None:
    assert find_order_numbers(f"{subject}\n{body}", [], subject=subject) == orders


@pytest.mark.parametrize("text, orders", [
    ("Amazon order 302-4418826-7710958 arrived empty", ["30244188267710958"]),
    ("Bought it on eBay, 12-11873-40925, never came", ["121187340925"]),
    ("eBay item 394417295561, case 5191148820", []),
    ("Order 40841NL shows delivered", ["40841"]),
    ("a encomenda 40866-PT chegou riscada", ["40866"]),
    ("order 5000mm of cable", []),
])
def test_marketplace_groups_and_a_country_after_the_number(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text, orders", [
    ("[Ticket #DG-118204] We received your request", []),
    ("INVOICE #DG-559120: domain renewal", []),
    ("Reference: US-77310-ZX", []),
    ("Royal Mail Group Ltd, registered in England and Wales, no. 4138203.", []),
    ("Sua encomenda NB482917038BR foi taxada", []),
    ("I have two orders with you, 100004702 (cushion covers) and 100004709 (jute rug).",
     ["100004702", "100004709"]),
    ("The order number on my receipt is 8958. I paid by card.", ["8958"]),
])
def test_codes_tickets_and_footers_beside_lists_and_labels(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("subject, body, orders", [
    ("elc748", "came today, ty", ["748"]),
    ("Re: Case 41894", "my actual order is #1191", ["1191"]),
])
def test_a_subject_that_is_only_a_reference_names_the_order(subject: str, body: str, orders: list[str]) -> None:
    assert find_order_numbers(f"{subject}\n{body}", [], subject=subject) == orders


@pytest.mark.parametrize("text, orders", [
    ("Suivi dit livré. Rien reçu. Cde 3378.", ["3378"]),
    ("Bella, order 8127730612208843 for our customer (our ref 5563) is still not received.",
     ["8127730612208843", "5563"]),
    ("Last mile for 27795 (AE 3019928110452286): PostNL", ["27795", "3019928110452286"]),
    ("RE: last mile no. 20417 / 20433", ["20417", "20433"]),
    ("Parcelwise Weekly #212, our newsletter", []),
])
def test_a_forwarders_last_mile_our_ref_and_abbreviations(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text", [
    "Your ticket number:\n#48213",
    "order number is not on the page, my zip is 90210",
    "Order number? My account is 55123",
    "ordered 4090ti, 2000lm and 500ft of cable",
    "Where is my 1500 euros refund?",
    "Where is 1600 Pennsylvania Ave?",
    "Can you resend 5000 units",
    "2280 Still Creek Dr",
    "5000 is still too expensive",
    "Flight LH12345 delayed",
    "PO12345 attached",
    "Call us: 30-12345-67890",
    "the last mile for 3000 parcels a day",
])
def test_look_alikes_of_the_bare_and_written_order_rules(text: str) -> None:
    assert find_order_numbers(text, []) == []


def test_a_single_letter_after_a_dash_stays_with_the_order() -> None:
    assert find_order_numbers("my order is 4521-B", []) == ["4521"]


def test_a_comma_separated_exports_order_field() -> None:
    export = ("Orders not shipped yet:\n\ncreated,order_id,qty,zip\n"
              "2025-04-02 10:00,KT-60310,2,75011\n3 April 2025,nr. 60311,1,10115\n2025-04-04,60312,1,90210\n\n"
              "Job 70001, run 2025-04-05.")
    assert find_order_numbers(export, []) == ["60310", "60311", "60312"]
    # a line with another count of fields ends the table; a header without an order field is none
    assert find_order_numbers("order id,zip\n60313,75011\nnote,60314,extra\n", []) == ["60313"]
    assert find_order_numbers("sku,qty,zip\n60315,2,75011\n", []) == []


@pytest.mark.parametrize("text, orders", [
    # the first of a count's list behind the store's letters
    ("I placed two orders by mistake, KT-60320 and 60321 (the same lamp).", ["60320", "60321"]),
    # a store's word after an order word names the order's store
    ('Buyer note: "pedido tienda #60322 - sin precio"', ["60322"]),
    ("Votre commande boutique n° 60323", ["60323"]),
    # an order word cut by a hyphen at the line's end
    ("es geht um meine Bestell-\nnummer 60324 vom 16.05.", ["60324"]),
    # a cell behind "nr."
    ("Your ref | Weight\nnr. 60325 | 2kg\n", ["60325"]),
])
def test_lists_qualified_orders_split_words_and_marked_cells(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text", [
    # "ord" inside a word is no abbreviation
    "eBay: item sold, sales record 6033, see the report 6034",
    # a delivery note's, a notice card's and a waybill's numbers
    "Pallet 2 of 6, delivery note DN603350.",
    "Card no. 60336, collect it at the post office",
    "Avis n°60337 : votre colis vous attend",
    "Waybill | Tracking\nWB6033812345 | RB227827893CN\n",
    # a ticket's number, also behind '#' or a reference word elsewhere in the message
    "[Ticket #60339] received\nPlease keep the reference #60339 in the subject.",
    "Shop 60340 is closed on Sundays",
])
def test_look_alikes_of_the_b9_and_b10_rules(text: str) -> None:
    tracking = ["RB227827893CN"] if "RB227827893CN" in text else []
    assert find_order_numbers(text, tracking) == []


def test_a_ticket_number_named_after_an_order_word_stays_an_order() -> None:
    assert find_order_numbers("[Ticket #60341]\nMy order #60341... no, order 60341 is late", []) == ["60341"]


@pytest.mark.parametrize("text, tracking, orders", [
    # the number a tracking number is given for, in its line
    ("Correos number for 60350 is NX309182745BR.", ["NX309182745BR"], ["60350"]),
    ("Tracking for 2025: NX309182745BR", ["NX309182745BR"], []),
    ("NX309182745BR for 3000 pieces", ["NX309182745BR"], []),
    ("Number for 60351 is pending. Yours: NX309182745BR", ["NX309182745BR"], ["60351"]),
    ("Number for 60352 is pending.\nYours: NX309182745BR", ["NX309182745BR"], []),
])
def test_the_order_a_tracking_number_is_given_for(text: str, tracking: list[str], orders: list[str]) -> None:
    assert find_order_numbers(text, tracking) == orders


def test_a_parcel_word_before_the_store_letters_of_a_subject_names_the_orders_parcel() -> None:
    subject = "Re: lost parcel LF60360"
    assert find_order_numbers(f"{subject}\nThe claim for LF60360 was refused.", [], subject=subject) == ["60360"]
    # a bare parcel number is still none
    assert find_order_numbers("Your parcel 60361 is on its way", []) == []


@pytest.mark.parametrize("text, orders", [
    # an abbreviation glued to the number, or after an order word
    ("rien reçu. cmd60370. merci", ["60370"]),
    ("my order cmd 60371 still says awaiting payment", ["60371"]),
    # a year's series after the reader's reference and in a reference column; a date is none
    ("Uw referentie 2026-0372: PostNL barcode", ["20260372"]),
    ("your ref\tlast mile\tkg\n2026-0373\tLZ393342900US\t0.42\n2025-0374\tRQ999405992DE\t0.88\n",
     ["20260373", "20250374"]),
    ("Your ref 2025-03-12: see the label", []),
])
def test_glued_abbreviations_and_a_years_series_after_a_reference(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text, orders", [
    # an order word misspelt, its past participle, a bracket before the label
    ("ordr 60380 not arrived yet??", ["60380"]),
    ("hoesje besteld 60381, nog geen track en trace", ["60381"]),
    ("re: my order (ref 60382) - has it shipped?", ["60382"]),
    # the store's letters cut from the number by the line's end, or alone on a line under the label
    ("order no. CL-\n60383 - the lid doesn't fit", ["60383"]),
    ("Order ref:\nBB\n60384\nDelivery address: 9 Rosewood Close", ["60384"]),
    ("Order\n#FF\n60385\n— wrong print", ["60385"]),
    ("Order\nplease\n60386", []),
    # a number cut by the line's end after three digits
    ("Hi, order no. 603\n87 (the form cut it off)", ["60387"]),
    ("Order 60388\n60389 is fine", ["60388"]),
    # a note to write on the parcel, a bare number asked whether it shipped
    ("Just write '60390 resend' on the new box", ["60390"]),
    ("hey did 60391 ship yet?", ["60391"]),
    ("did 2025 ship anything new?", []),
    # a range ends above its start: "to" before an address is none
    ("Can you change the shipping address on order #60392 to 4412 Oak Hollow Dr?", ["60392"]),
    ("orders 60393 to 60395", ["60393", "60395"]),
])
def test_b11_rules(text: str, orders: list[str]) -> None:
    assert find_order_numbers(text, []) == orders


@pytest.mark.parametrize("text", [
    # a return authorisation with the store's letters, a refund's "REF-" reference, a licence
    "RMA-CL-60396 has been issued for the cracked slicer.",
    "Le confirmamos el reembolso de 12,95 € con referencia REF-60397.",
    "Mine is licence no. 60398 (state of MN).",
])
def test_look_alikes_of_the_b11_rules(text: str) -> None:
    assert find_order_numbers(text, [], "CL") == []


def test_the_words_before_for_do_not_unmake_the_order_a_tracking_number_is_given_for() -> None:
    text = "The resend case for 60399 ship today, tracking LP00699102284417."
    assert find_order_numbers(text, ["LP00699102284417"]) == ["60399"]
