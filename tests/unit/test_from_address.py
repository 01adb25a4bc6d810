"""The From header's plain forms are read without the standard library's RFC 5322 parser, with the
same answer; every other form still goes through that parser."""

from __future__ import annotations

from email.headerregistry import AddressHeader, HeaderRegistry

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox_agent.parse.message import parse_addresses, plain_mailbox

_REGISTRY = HeaderRegistry()
_ATOM = st.text("abcXYZ019!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=5)
_DOT_ATOM = st.lists(_ATOM, min_size=1, max_size=3).map(".".join)
_ADDRESS = st.builds(lambda local, domain: f"{local}@{domain}", _DOT_ATOM, _DOT_ATOM)
_NAME = st.one_of(st.lists(_ATOM, min_size=1, max_size=3).map(" ".join),
                  st.text(" ,.;:()<>@[]abc'", min_size=1, max_size=8).map(lambda s: f'"{s}"'))
_BLANK = st.sampled_from(["", " ", "\t ", "  "])
_PIECES = st.sampled_from(['"', "<", ">", "@", ".", ",", ";", ":", "(", ")", "\\", "[", "]", "=?", "?=", " ", "\t",
                           "a", "B", "x9", "é", "-", "+", "'", "\x00", "\x7f", "example", "a.b", "..", "@x.example",
                           "Name", '""'])
_HEADERS = st.one_of(
    _ADDRESS,
    st.builds(lambda name, address, outer, inner: f"{outer}{name}{inner}<{address}>{outer}", _NAME, _ADDRESS, _BLANK,
              _BLANK),
    st.lists(_PIECES, max_size=14).map("".join),
)


def _standard(raw_value: str) -> list[tuple[str, str]]:
    header = _REGISTRY("from", raw_value)
    assert isinstance(header, AddressHeader)
    return [(a.display_name, a.addr_spec) for a in header.addresses]


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(_HEADERS)
def test_plain_form_reads_as_the_standard_parser_reads_it(raw_value: str) -> None:
    plain = plain_mailbox(raw_value)
    if plain is not None:
        assert [plain] == _standard(raw_value)


@pytest.mark.parametrize("raw_value", [
    "Marta Kowalska <marta.k@Mail.Example>", '"Chen, Vivian" <vivian@brightleaf-home.example>',
    "noreply@shop.example", "  Bob<b@x.example> ", "O'Neil Sam <o+tag@x.example>",
])
def test_common_forms_take_the_plain_path(raw_value: str) -> None:
    assert plain_mailbox(raw_value) is not None
    assert [plain_mailbox(raw_value)] == _standard(raw_value)


@pytest.mark.parametrize(("raw_value", "expected"), [
    ("=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@web.example>", [("Jürgen Müller", "jm@web.example")]),
    ("J. Smith <j@x.example>", [("J. Smith", "j@x.example")]),
    ("a@b.example (Ann)", [("", "a@b.example")]),
    ("A <a@b.example>, C <c@d.example>", [("A", "a@b.example"), ("C", "c@d.example")]),
    ("broken <not an address>", [("broken", "")]),
])
def test_other_forms_go_through_the_standard_parser(raw_value: str, expected: list[tuple[str, str]]) -> None:
    assert plain_mailbox(raw_value) is None
    assert parse_addresses(raw_value) == expected
