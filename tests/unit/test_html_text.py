"""An HTML part is read as a browser shows it: the source's line breaks and blank runs are one
space, a <br> breaks a line and a block starts and ends one, <pre> and a `white-space: pre` style
keep their lines, a table cell ends with a tab; and the quote containers of an HTML-only reply are
history, not the newest text (an indent drawn as a borderless blockquote is not)."""

from __future__ import annotations

import pytest

from inbox_agent.extract.lexicon import score
from inbox_agent.parse import parse_email
from inbox_agent.parse.html import MAX_HTML_BLOCKS, html_to_text

WRAPPED = ("<div style=\"font-family: Arial\"><p>Bonjour,</p>\n<p>Ma commande n'est jamais arrivée, alors que le "
           "transporteur affiche qu'elle a été\n   « livrée » hier à 10h02.</p>\n<p>Cordialement,<br>\nInès</p></div>")


@pytest.mark.parametrize(("html", "text"), [
    (WRAPPED, "Bonjour,\n\nMa commande n'est jamais arrivée, alors que le transporteur affiche qu'elle a été "
              "« livrée » hier à 10h02.\n\nCordialement,\nInès"),
    ("<pre>Hello<br>order number<br>710233</pre>", "Hello\norder number\n710233"),
    ("<pre>a\n<pre>b\n<pre>c\nd</pre></pre></pre>", "a\n\nb\n\nc\nd"),  # nested: each line once
    ('<div style="white-space: pre-wrap">still not here\n\nOn Mon, Shop wrote:\n&gt; delivered</div>',
     "still not here\n\nOn Mon, Shop wrote:\n> delivered"),
    ("<b>From:</b> Shop<br><b>Sent:</b> Monday", "From: Shop\nSent: Monday"),
    ("<pre>Order 4471\n  shipped  twice</pre><p>then\nnothing</p>", "Order 4471\nshipped twice\n\nthen nothing"),
    ("<table>\n <tr>\n  <td>Order</td>\n  <td>50211</td>\n </tr>\n</table>", "Order\t50211"),
    ("<p>a&nbsp;&nbsp;b</p>", "a\xa0\xa0b"),  # no-break spaces are the writer's, kept
])
def test_html_white_space_reads_as_a_browser_shows_it(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_a_claim_wrapped_in_the_html_source_is_read_whole() -> None:
    body, = score([(html_to_text(WRAPPED), 1.0)])
    assert any("livr" in why and "delivered_not_received" in why for why in body.why)


def test_the_quotes_of_an_html_only_reply_are_history() -> None:
    html = ('<html><body><div dir="ltr">Found it at the neighbour\'s, thanks!</div><br>'
            '<div class="gmail_quote"><div class="gmail_attr">On Mon, 2 Mar 2026, Shop wrote:<br></div>'
            '<blockquote class="gmail_quote">Where is my parcel?\nOrder 4471, it says delivered.'
            '<blockquote>an older quote</blockquote></blockquote></div></body></html>')
    raw = ("From: Ann <ann@mail.example>\r\nTo: support@shop.example\r\nSubject: Re: Order 4471\r\n"
           "Message-ID: <h-1@mail.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           + html).encode()
    parsed = parse_email(raw)
    assert parsed.new_text.strip() == "Found it at the neighbour's, thanks!"
    assert "Order 4471, it says delivered." in parsed.all_text
    assert "> an older quote" in html_to_text(html)  # a quote inside a quote is marked once, with it


def test_an_indent_is_the_writers_own_words() -> None:
    html = ('<div>Hi,</div><blockquote style="margin: 0 0 0 40px; border: none; padding: 0px;">'
            "<div>Order 604530 never arrived</div></blockquote><div>Thanks</div>")
    assert html_to_text(html) == "Hi,\n\nOrder 604530 never arrived\n\nThanks"


def test_a_part_nesting_thousands_of_blocks_is_read_up_to_its_tag_cap() -> None:
    """The parser's cost grows with the square of nested blocks: a part is read to MAX_HTML_BLOCKS
    block tags, so a word before the cap is read and one after it is not; other tags and what only
    looks like tags do not count."""
    nested = "<blockquote>x" * MAX_HTML_BLOCKS
    assert "order 48213" in html_to_text(f"<p>order 48213</p>{nested}")
    assert "order 48214" not in html_to_text(f"{nested}<p>order 48214</p>")
    assert "order 48215" in html_to_text("<!--" + "<x" * MAX_HTML_BLOCKS + "--><p>order 48215</p>")
