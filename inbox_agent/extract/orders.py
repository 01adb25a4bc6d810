"""Order numbers: the store's own (presented as an order) and marketplace orders (16 digits).

A store order needs an order word or mark before it (rules/orders.yaml): a bare 4-digit number
is a year, a house number or a price as often as an order. The families that present one:
- an order word, "#", "n°" or a reference word before the number, in any language
  ("order no. 3042", "Bestellnr. 3042", "your ref KT-3042", "Ref: MM#2051");
- a cell or line holding only an order label, with the number in the next cell, on the next line,
  or below it in the table's column ("Order | 3042", "Order number:\\n3042", "Re: Order ID\\n3042",
  a header row), a line naming orders with them listed below ("Orders concerned:\\n- 3042\\n- 3043"),
  the order field of a comma-separated export ("order_id,created_at\\n3042,2025-03-12"),
  a number whose store letters were cut onto a line of their own ("Order ref:\\nBB\\n3042"),
  and a plural order word, a comma and a list ("I have 2 orders, 3042 and 3043", "two orders, KT-3042 and 3043");
- after an order's number, the next ones of a series as long as it ("orders 3042 and 3043",
  "3042/3043", "Bestellungen 3042, 3043 und 3044", a range's two ends "3042-3045", a doubt
  "3042? or 3024?"; a range ends above its start); after an order word, a number written in
  groups ("100 920 114") or cut by the line's end ("order no. 104\\n9527");
- a number asked about bare ("where is 3042", "cuando me llega el 3042?", "did 3042 ship yet?"), or as a note to write on a
  parcel ("write '3042 resend' on the box");
- a line that starts with a number and gives a tracking number ("2051 -> LA482915635FR", an
  export's "2051;LP0061...;LA482915635FR", "2051 last mile is LA482915635FR"), a number joined to
  one by '=' or an arrow anywhere ("lastmile: 2051=LA482915635FR"), or a line that names the number
  it gives one for ("Correos number for 2051 is NX309182745BR");
- a subject's only number, bare among words ("RE: 30822 neighbour delivery"), and an order word
  that ends a line with its number starting the next (a wrapped sentence);
- anywhere, a reference in a store's style: capitals, a dash, the number ("PX-3042", "WX-20931"),
  unless a ticket, invoice, model... word is before it (a parcel's word may be: "Paket GH-205207");
  a code with a year's series inside it is its letters before the whole number ("TK20-7741" is
  207741), found so when labelled only (a model's "XR25-9000" has the same shape);
- the store's letters, once seen labelled in the message (or set as `[store] order_prefix`, e.g.
  "BP"), make its other references count without a label: "BP2051", "BP-2051", "#BP 2051", also
  after a return, complaint, parcel or tracking word ("Reso BP2051", "lost parcel BP2051");
  references with other letters then count only when labelled themselves (a refund's "réf.
  RB-77120" beside "commande BP-2051").
Ticket, case, issue, request, subscription, invoice, delivery-note and notice-card numbers (and a
bare "#" number after one in its sentence, or a number the message names as a ticket's that is
elsewhere only behind '#' or a reference word), licences, a return authorisation's number with the
store's letters ("RMA-CL-7741"), "REF-" references, waybills' letters ("WB8111947002"), years (also
under a label that names no number: "Order\\n2025"), dates, amounts, phone numbers and numbers
that are part of a tracking number (or follow a tracking word) are never orders; nor are 16 digits
glued to letters (a carrier's code "JVGL0612345678901234").
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cached_property, lru_cache

from inbox_agent.extract.patterns import Caseless, CaselessSet, caseless
from inbox_agent.extract.prefilter import GuardedPattern
from inbox_agent.parse.message import subject_topic
from inbox_agent.rules import load_rules_file

_BEFORE = 28  # characters before a number in which a ticket/invoice word makes it something else
_BEFORE_MARKETPLACE = 40  # the same before a marketplace number ("logistics number is 7300...")
_BEFORE_SIBLING = 80  # characters of its line before a bare "#3042" in which its sibling is sought
_ORDER_WORD_REACH = 200  # characters of its line before "our" + a reference in which an order word is sought
_BEFORE_BRACKET = 40  # characters before a bracket holding a tracking number in which its order is sought
_TRACKING_BRACKET = re.compile(r"\([^\S\n]*+([a-z0-9]{8,40})[^\S\n]*+\)")  # "(LP00650349451056)"
_MARKS = ("#", "n°", "nº")  # what makes a bare number a reference
_SIBLING = re.compile(r"(?<!\d)\d{3,10}(?!\d)")  # a number that may be a ticket's before a bare "#3042"
_SENTENCE_END = re.compile(r"[.!?](?=\s+\D)|[)\]]")  # ends a sentence or a bracket ("no. 48224" does not)
_TABLE_ROWS = 50  # rows below a header cell that its column label reaches
_CELL_BREAK = re.compile(r"[\t|]")
_QUOTE_MARKS = re.compile(r"(?:>[^\S\n]*)+")
_GROUP_BREAK = re.compile(r"[\s-]")  # between the groups of a number written "100 920 114"
_DIGIT_RUN = re.compile(r"\d\d{3,}")  # where a store reference's number may be (4 digits or more)
_REFERENCE_LETTERS = 5  # a store reference's letters: 2 to 5 (orders.yaml's `store_reference`)
_REFERENCE_MIN_LETTERS = 2
_TABLE_RULE = re.compile(r"[\s|:+=]*-[\s|:+=-]*")  # "|---|:--|" under a plain-text table's header


@dataclass(frozen=True)
class _OrderRules:
    # the store patterns, the reference patterns, the marketplace one, then the cell label's
    # (only asked whether it can match: the label itself is found by `cell_label`)
    patterns: CaselessSet
    references: range  # indices of the reference patterns in `patterns`
    marketplace: int  # index of the marketplace pattern, then the cell label's, the list label's, the CSV header's
    not_store_before: GuardedPattern
    not_lettered_before: GuardedPattern  # the same before the store's own letters
    not_reference_before: GuardedPattern  # the same before a dashed reference in a store's style (a parcel's words may come)
    order_word: re.Pattern[str]
    not_letters_before: re.Pattern[str]
    marketplace_exclude: tuple[re.Pattern[str], ...]
    not_marketplace_before: re.Pattern[str]
    cell_label: re.Pattern[str]
    cell_number: re.Pattern[str]
    cell_letters: re.Pattern[str]
    list_item: re.Pattern[str]
    label_numbered: re.Pattern[str]
    year: re.Pattern[str]
    series_next: re.Pattern[str]
    series_range: re.Pattern[str]
    store_reference: re.Pattern[str]
    tracking_row: re.Pattern[str]
    tracking_pair: re.Pattern[str]
    tracking_bracket: re.Pattern[str]
    tracking_for: GuardedPattern
    bracket: re.Pattern[str]
    bracket_item: re.Pattern[str]
    subject_bare: re.Pattern[str]
    postcode_letters: re.Pattern[str]
    spaced_postcode_letters: re.Pattern[str]  # the same before a space ("TX 78704")
    not_order_letters: re.Pattern[str]
    named_not_order: Caseless  # a number named as a ticket's..., its digits the last group
    named_alone: re.Pattern[str]  # the words of those that name a ticket even right before its letters
    ticket_tag: re.Pattern[str]  # a helpdesk's "[Name #60231]" starting a reply's subject, the number its group
    reference_tag: re.Pattern[str]  # a helpdesk's "[HL-58344]" before the store's reference, the number its 2nd group


class _Tracked:
    """The message's tracking numbers (upper case, no blanks), asked which of them a piece of text
    holds by sliding each of their lengths along it: a text of thousands of rows and numbers costs
    its length times a few lengths, not rows times numbers."""

    def __init__(self, numbers: list[str]) -> None:
        self.ordered = list(dict.fromkeys(numbers))
        self.numbers = frozenset(self.ordered)
        self.sizes = sorted({len(n) for n in self.ordered})

    def in_text(self, text: str) -> bool:
        """Whether `text` holds one of the numbers."""
        numbers = self.numbers
        return any(text[i : i + size] in numbers for size in self.sizes for i in range(len(text) - size + 1))

    def holding(self, parts: set[str]) -> dict[str, list[str]]:
        """For each of `parts` (numbers found in the text), the tracking numbers it is a part of,
        in their order."""
        found: dict[str, list[str]] = {p: [] for p in parts}
        sizes = {len(p) for p in parts}
        for number in self.ordered:
            for size in sizes:
                for i in range(len(number) - size + 1):
                    holders = found.get(number[i : i + size])
                    if holders is not None and (not holders or holders[-1] != number):
                        holders.append(number)
        return found


@dataclass(frozen=True)
class _Hit:
    position: int
    number: str
    letters: str = ""  # the store's letters written against a labelled number, as written
    style: str = ""  # the letters of a number that counts for its reference style alone ("RB-77120", "réf. RB-77120")
    marked: bool = False  # found behind '#', 'n°' or a reference word only, with no order word


@lru_cache(maxsize=1)
def _rules() -> _OrderRules:
    data = load_rules_file("orders.yaml")

    def expand(pattern: str) -> str:
        for name in ("order", "no", "ref", "store", "digits", "year_series", "end", "range_end", "ends"):
            pattern = pattern.replace("{" + name + "}", data["pieces"][name])
        return pattern

    stores, references = len(data["store_patterns"]), len(data["reference_patterns"])
    cell_number = expand(data["cell_number"])
    # a label is one cell: the spaces around it are not tabs, which end a cell (see orders.yaml on `*+`)
    label = rf"(?:>[^\S\t\n]*+)*+[^\S\t\n]*+(?:{expand(data['cell_label'])})[^\S\t\n]*+"
    return _OrderRules(
        patterns=CaselessSet([
            *(caseless(expand(p)) for p in data["store_patterns"]),
            *(caseless(expand(p)) for p in data["reference_patterns"]),
            # not glued to letters in one token: then it is a part of a carrier's code ("JVGL0612..."),
            # nor the start of a longer number (a post's 17-digit domestic number)
            caseless(rf"\d(?<![\d.,]\d)(?<![^\W\d_]\d){data['marketplace_rest']}(?!\d|[.,]\d|[^\W\d_])"),
            caseless(rf"[\t|\n]{label}[\t|\n]"),
            caseless(data["list_label"]),
            caseless(data["csv_header"]),
        ]),
        references=range(stores, stores + references),
        marketplace=stores + references,
        not_store_before=_words_before(f"{data['not_store_before']}|{data['parcel_before']}|{data['about_order_before']}"),
        not_reference_before=_words_before(f"{data['not_store_before']}|{data['about_order_before']}"),
        not_lettered_before=_words_before(data["not_store_before"]),
        order_word=re.compile(expand("{order}")),
        not_letters_before=re.compile(
            rf"(?<!\w)(?:{data['not_letters_before']})[^\S\n]+(?P<word>(?!{expand('{order}')})[^\W\d]+\.?[^\S\n]*[:.]?[^\S\n]*)?\Z"
        ),
        marketplace_exclude=tuple(re.compile(p) for p in data["marketplace_exclude"]),
        not_marketplace_before=re.compile(
            rf"(?:{data['not_marketplace_before']}){data['not_marketplace_filler']}(?:[^\w\n]*+|[^\w\n]*:[^\S\n]*\n[^\S\n]*)$"
        ),
        cell_label=re.compile(rf"[\t|\n]{label}(?=[\t|\n]|$)"),
        cell_number=re.compile(cell_number),
        cell_letters=re.compile(data["cell_letters"]),
        list_item=re.compile(rf"(?:>[^\S\n]*)*[^\S\n]*{cell_number}{expand('{end}')}(?:{data['list_rest']})?"),
        label_numbered=re.compile(data["label_numbered"]),
        year=re.compile(data["year"]),
        series_next=re.compile(expand(data["series_next"])),
        series_range=re.compile(data["series_range"]),
        store_reference=re.compile(data["store_reference"]),
        tracking_row=re.compile(data["tracking_row"]),
        tracking_pair=re.compile(data["tracking_pair"]),
        tracking_bracket=re.compile(data["tracking_bracket"]),
        subject_bare=re.compile(expand(data["subject_bare"])),
        bracket=re.compile(data["bracket"]),
        bracket_item=re.compile(expand(data["bracket_item"])),
        tracking_for=GuardedPattern(re.compile(expand(data["tracking_for"]))),
        postcode_letters=re.compile(f"(?:{data['postcode_letters']})"),
        spaced_postcode_letters=re.compile(f"(?:{data['spaced_postcode_letters']})"),
        not_order_letters=re.compile(f"(?:{data['not_order_letters']})"),
        named_not_order=caseless(
            rf"(?<![^\W\d_])({data['named_not_order_words']}){data['named_not_order_rest']}"),
        named_alone=re.compile(data["named_alone_words"]),
        ticket_tag=re.compile(expand(data["ticket_tag"])),
        reference_tag=re.compile(expand(data["reference_tag"]).replace("{not_order_letters}", data["not_order_letters"])),
    )


def _words_before(words: str) -> GuardedPattern:
    """One of `words` (each starting a word) at the end of a text, maybe with a number word and a
    colon, a '#' or a dash after it ("ticket", "Ticketnummer:", "invoice no.", "Ticket #", the
    "RMA-" of "RMA-CL-7741": a return's number with the store's letters), which may end the
    line before the number's ("Your ticket number:" above "#48213"): what makes the next number no
    order. RE2 is asked first: the words are many, and most texts before a number hold none of them."""
    return GuardedPattern(
        re.compile(rf"(?<![^\W\d_])(?:{words})s?(?:[^\S\n]*(?:number|no|nr|n[°º]|id|ref))?(?:[^\S\n]*[:.#-]?|[^\S\n]*[:#][^\S\n]*\n)[^\S\n]*\Z"))


_LETTERED_NUMBER = r"[^\S\n]?[-#]?[^\S\n]?(?P<number>\d{3,10})(?![\d.,]\d|-?[A-Za-z0-9])"
# Any letters written against a number as the store's are ("BP2051", "BP-2051", "#BP 2051"): one
# pass finds every number behind the letters seen labelled, however many different ones a text has
_LETTERED = re.compile(rf"(?<![A-Za-z0-9])(?P<letters>[A-Za-z]{{2,5}}){_LETTERED_NUMBER}", re.IGNORECASE)


# A reference in a subject: capitals glued to the number ("Missing package CF4612"): people title a
# mail with their order's reference, and its letters then count before any number of the message
_SUBJECT_REFERENCE = re.compile(r"(?<![\w-])(?P<letters>[A-Z]{2,3})\d{4,7}(?![\w-])")
# A subject that is nothing but a number, maybe behind letters glued to it ("60301", "Re: #60301",
# "elc748"; not a word such as "Case 41894"): the order the mail is about, its letters the store's
_SUBJECT_NUMBER = re.compile(r"#?[^\S\n]?(?:(?P<letters>[A-Za-z]{2,4})[-#]?)?(?P<number>\d{3,10})")
# A store's code with a year's series inside it, letters, the year's two digits, a dash and the
# number ("TK20-7741", "TK21-0123"): read as the letters before the whole number, written in the same
# characters so that every position stays ("TK-207741"). It counts where an order word, a reference
# word or the store's letters seen labelled present it, never for its style alone: a model's
# "XR25-9000", a fiscal year's "FY24-2025" have the same shape
_SERIES_CODE = re.compile(r"(?<![\w-])([A-Za-z]{2,5})(2\d)-(\d{3,6})(?![\w-]|[.,/]\d)")
_SERIES_HINT = re.compile(r"[A-Za-z]2\d-\d")
_NAMED_LETTERS = re.compile(r"[a-z]{2,5}[-#]?$")  # a reference's letters right before a named number
_SUBJECT_RUN = re.compile(r"\d{3,}")  # a subject's numbers that may be an order's (or a code's part)
_BRACKET_ITEMS = re.compile(r"([,;])")  # between the items of a bracket, kept so their positions add up


@lru_cache(maxsize=8)
def _prefixed(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(prefix)}{_LETTERED_NUMBER}", re.IGNORECASE)


def find_order_numbers(text: str, tracking_numbers: list[str], prefix: str = "", subject: str = "") -> list[str]:
    """Order numbers in `text` in order of first appearance, without duplicates (`prefix`: the
    store's own letters before its references, which then count without an order word; `subject`:
    the message's subject, whose glued references show the store's letters the same way)."""
    rules = _rules()
    series_codes: set[int] = set()
    if _SERIES_HINT.search(text):  # most texts hold none: one scan in C for the year, the dash and a digit
        series_codes = {m.start() for m in _SERIES_CODE.finditer(text)}
        text = _SERIES_CODE.sub(r"\1-\2\3", text)
    lower = _lower(text)
    hits: list[_Hit] = []
    # the text between line breaks, so that a label on its first or last line is one between separators
    lined = f"\n{lower}\n"
    for index in rules.patterns.candidates(lined, lined):
        if index == rules.marketplace + 1:
            hits += _cell_hits(text, lower, lined, rules)
            continue
        if index == rules.marketplace + 2:
            hits += _list_hits(text, lower, lined, rules)
            continue
        if index == rules.marketplace + 3:
            hits += _csv_hits(text, lower, lined, rules)
            continue
        matches = rules.patterns.members[index].finditer(text, lower)
        if index == rules.marketplace:
            hits += _marketplace_hits(lower, matches, rules)
        else:
            hits += _store_hits(text, lower, matches, rules, index in rules.references)
    hits += _reference_hits(text, lower, rules, series_codes)
    tracked = _Tracked(tracking_numbers)
    hits += _tracking_row_hits(text, lower, tracked, rules)
    hits += _tracking_for_hits(lower, tracked, rules)
    hits += _tracking_pair_hits(lower, tracked, rules)
    hits += _tracking_bracket_hits(text, lower, tracked, rules)
    hits += _subject_number(text, subject, rules)
    hits += _bracket_hits(text, lower, hits, rules)
    hits = _without_other_letters(hits)
    letters = {h.letters.lower() for h in hits if h.letters} | _subject_letters(subject, rules)
    lettered = [m for m in _LETTERED.finditer(text) if m.group("letters").lower() in letters] if letters else []
    if prefix and prefix.lower() not in letters:
        lettered += _prefixed(prefix.lower()).finditer(text)
    hits += [_Hit(m.start("number"), m.group("number")) for m in lettered
             if not rules.not_lettered_before.search(lower[max(0, m.start() - _BEFORE) : m.start()])]
    hits = _without_ticket_numbers(text, lower, subject, _longest_at_each_place(hits), rules)
    holding = tracked.holding({h.number for h in hits})
    ordered = [h.number for h in sorted(hits, key=_position) if not _in_tracking(text, h, holding[h.number])]
    return list(dict.fromkeys(ordered))


def _subject_letters(subject: str, rules: _OrderRules) -> set[str]:
    """The letters of the subject's glued references ("CF4612"), lower case; not those of a return,
    an invoice, a ticket... nor letters after a word that makes them such ("Invoice INV4821")."""
    found = set()
    for m in _SUBJECT_REFERENCE.finditer(subject):
        letters = _letters(subject, rules, m.start("letters"), m.end("letters"))
        before = subject[max(0, m.start() - _BEFORE) : m.start()].lower()
        if letters is not None and not rules.not_lettered_before.search(before):
            found.add(letters.lower())
    return found


def _subject_number(text: str, subject: str, rules: _OrderRules) -> list[_Hit]:
    """The number a subject holds alone (not a year, nor three digits without letters), with its
    letters (not those of a ticket, an invoice...), or its only number bare among words
    (`subject_bare`); where the text first gives it."""
    topic = subject_topic(subject)
    m = _SUBJECT_NUMBER.fullmatch(topic)
    if m is None:
        return _subject_bare(text, topic, rules)
    if rules.year.fullmatch(m["number"]) or (not m["letters"] and len(m["number"]) < 4):
        return []
    letters = ""
    if m["letters"]:
        written = _letters(m.string, rules, m.start("letters"), m.end("letters"))
        if written is None:
            return []
        letters = written
    at = re.search(rf"(?<!\d){m['number']}(?!\d)", text)
    return [_Hit(at.start(), m["number"], letters)] if at else []


def _subject_bare(text: str, topic: str, rules: _OrderRules) -> list[_Hit]:
    """The subject's number when it is its only run of three digits or more, stands bare among
    words (`subject_bare`: four to seven digits) and no ticket, invoice, case, parcel... word comes
    before it: the order the thread is about."""
    runs = _SUBJECT_RUN.findall(topic)
    if len(runs) != 1:
        return []
    lower = topic.lower()
    m = rules.subject_bare.search(lower)
    if m is None or rules.not_store_before.search(lower[max(0, m.start() - _BEFORE) : m.start()]):
        return []
    at = re.search(rf"(?<!\d){m[1]}(?!\d)", text)
    return [_Hit(at.start(), m[1])] if at else []


def _bracket_hits(text: str, lower: str, hits: list[_Hit], rules: _OrderRules) -> list[_Hit]:
    """The references of a bracket right after an order's number or around one (`bracket`; not a
    number found by its '#' or its style alone, which may be a ticket's or a refund's): the same
    order named another way ("order 3051790026647713 (612089)", "(our ref: PG-4140, AE order
    3052266390184471)"), each item of the bracket that is only a reference (`bracket_item`)."""
    named = [h for h in hits if not (h.style or h.marked)]  # by an order word, or a marketplace's
    if not named or "(" not in lower:
        return []
    ends = {h.position + len(h.number) for h in named if lower.startswith(h.number, h.position)}
    starts = sorted(h.position for h in named)
    found = []
    for m in rules.bracket.finditer(lower):
        before = m.start()
        while before > 0 and lower[before - 1] in " \t":
            before -= 1
        after = before in ends
        inside = bisect_right(starts, m.start())  # the first order named after the bracket opens
        if not after and not (inside < len(starts) and starts[inside] < m.end()):
            continue
        items = _BRACKET_ITEMS.split(m.group(1))
        at = m.start(1)
        for item in items:
            lead = len(item) - len(item.lstrip())
            one = rules.bracket_item.fullmatch(item.strip())
            at_item = at + lead
            at += len(item)
            if one is None:
                continue
            letters = ""
            if one["letters"]:
                written = _letters(text, rules, at_item + one.start("letters"), at_item + one.end("letters"))
                if written is None or not written.isupper():
                    continue
                letters = written
            elif not one["said"] and not (after and len(items) == 1 and not rules.year.fullmatch(one["number"])):
                continue
            found.append(_Hit(at_item + one.start("number"), one["number"], letters))
    return found


def _without_other_letters(hits: list[_Hit]) -> list[_Hit]:
    """`hits` without the references whose letters only their style makes count, once letters
    labelled as an order's are seen: a store writes its orders with its own letters, and other
    letters then are a refund's, a return's ("commande VL-3009921 ... (réf. RB-77120)")."""
    labelled = {h.letters.lower() for h in hits if h.letters and not h.style}
    if not labelled:
        return hits
    return [h for h in hits if not h.style or h.style.lower() in labelled]


def _longest_at_each_place(hits: list[_Hit]) -> list[_Hit]:
    """`hits` without a number read shorter where another reading of the same place is longer:
    the patterns that join a number written in groups or cut by the line's end ("order no. 104"
    then "9527") read its whole, others only its first part ("no. 104")."""
    longest: dict[int, int] = {}
    for h in hits:
        longest[h.position] = max(longest.get(h.position, 0), len(h.number))
    return [h for h in hits if len(h.number) == longest[h.position]]


def _without_ticket_numbers(text: str, lower: str, subject: str, hits: list[_Hit], rules: _OrderRules) -> list[_Hit]:
    """`hits` without the numbers the message names as a ticket's, a case's or a request's that are
    found only behind a mark ('#', 'n°'), a reference word or in a reference's style: "[Ticket
    #62836]" and "keep the reference #62836" name one ticket; a reference in a store's style counts
    as named only with words between ("Your enquiry has been logged as KLF-58812", not "Address
    query GZ20280") or after a word that names a ticket alone ("ticket AGF-204117"); so is a
    helpdesk's ticket tag starting a reply's subject ("Re: [Zapkit #60231] Your order ..."). A
    number also found after an order word stays an order."""
    marked = {h.number for h in hits if h.marked or h.style} - {h.number for h in hits if not (h.marked or h.style)}
    if not marked:
        return hits
    named: set[str] = set()
    said: set[str] = set()  # named with words between ("has been logged as", "no.", "#"), not a word's bare neighbour
    for m in rules.named_not_order.finditer(text, lower):
        number = m.group(m.re.groups)
        named.add(number)
        between = _NAMED_LETTERS.sub("", lower[m.end(1) : m.start(m.re.groups)])
        if between.removeprefix("s").strip() or rules.named_alone.fullmatch(m.group(1)):
            said.add(number)
    topic = subject_topic(subject)
    if topic != subject.strip():
        tagged = topic.lower()
        if (tag := rules.ticket_tag.match(tagged)) is not None:
            named.add(tag.group(1))
            said.add(tag.group(1))
        if (tag := rules.reference_tag.match(tagged)) is not None:
            named.add(tag.group(2))
            said.add(tag.group(2))
    return [h for h in hits if h.number not in marked or h.number not in (named if h.marked else said)]


def _in_tracking(text: str, hit: _Hit, holding: list[str]) -> bool:
    """Whether the number at `hit` is part of one of the tracking numbers `holding` it, written
    there ("RA 551 208 391 AU"), not a number of its own that a tracking number merely contains
    ("WX-37710" beside "377100012345")."""
    if not holding:
        return False
    reach = max(len(t) for t in holding) * 2  # a tracking number written with a space or dash between its characters
    around = _GROUP_BREAK.sub("", text[max(0, hit.position - reach) : hit.position + len(hit.number) + reach]).upper()
    return any(t in around for t in holding)


def _position(hit: _Hit) -> int:
    return hit.position


def _lower(text: str) -> str:
    """`text` lower-cased, keeping every character's position (a character whose lower case is
    longer, such as 'İ', stays as it is)."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _letters(text: str, rules: _OrderRules, start: int, end: int) -> str | None:
    """The store's letters at text[start:end] as written, or None when they are not a store's
    (a word such as 'of' before a spaced number, or letters of a return, an invoice, a ticket)."""
    written = text[start:end]
    if rules.not_order_letters.fullmatch(written.lower()):
        return None
    return written


def _store_hits(text: str, lower: str, matches: list[re.Match[str]], rules: _OrderRules,
                reference: bool) -> list[_Hit]:
    """Store orders, unless the words before the number make it a ticket, an invoice, an item...
    (`reference`: the matches are of a reference word, whose letters after "our" are the writer's)."""
    hits = []
    named: dict[str, bool] = {}  # whether the words before a "#" number name it no order
    for m in matches:
        number = m.re.groups
        before = lower[max(0, m.start() - _BEFORE) : m.start()]
        if rules.not_store_before.search(before + lower[m.start() : m.start(number)].split("#")[0]):
            continue
        if lower.startswith(_MARKS, m.start()) and _sibling_not_order(lower, m.start(), rules, named):
            continue
        letters = ""
        if number == 2 and m.group(1) and not rules.order_word.fullmatch(m.group(1)):  # not "order cmd 20501"
            written = _letters(text, rules, m.start(1), m.end(1))
            spaced = any(c.isspace() for c in lower[m.end(1) : m.start(number)])  # "KT 3042", "WF - 88447"
            if written is None or (spaced and not written.isupper()) or _coded(lower, m.end(number)):
                continue
            if reference and rules.not_letters_before.search(before):
                continue
            letters = written if written.isupper() else ""
        digits = _GROUP_BREAK.sub("", m.group(number))
        styled = reference or lower.startswith(_MARKS, m.start())  # a reference word or '#', no order word
        hits.append(_Hit(m.start(number), digits, letters, letters if styled else "", styled))
        if not reference:
            hits += _series(lower, m.end(number), digits, rules)
    return hits


def _writers_letters(lower: str, start: int, before: str, rules: _OrderRules) -> bool:
    """Whether the words `before` the reference in a store's style at `start` make it the writer's
    own: "our" and a word ("our ref: CLM-55423", "Unser Zeichen: NF-881234"), or "our" alone
    ("please quote our KLF-58812") unless an order word comes before it in its line (up to
    `_ORDER_WORD_REACH` characters back), where a store names its own order to a partner ("AE order
    3754... = our ZK-40466")."""
    m = rules.not_letters_before.search(before)
    if m is None or m["word"]:
        return m is not None
    line_start = max(lower.rfind("\n", 0, start) + 1, start - _ORDER_WORD_REACH)
    return rules.order_word.search(lower, line_start, start) is None


def _coded(lower: str, end: int) -> bool:
    """Whether letters follow the number ending at `end` (maybe after a dash): with letters before
    it, a code such as a tracking number ("NB482917038BR"), not the store's reference."""
    rest = lower[end : end + 2]
    return rest[:1].isalpha() or (rest[:1] == "-" and rest[1:].isalpha())


def _sibling_not_order(lower: str, start: int, rules: _OrderRules, named: dict[str, bool]) -> bool:
    """Whether a bare "#3042" at `start` is a sibling of a ticket, issue or invoice number named
    earlier in its sentence with no order word between ("issue #4521 closed, see also #4522").
    `named` keeps, for the words before each number asked about, whether they name it so: a text
    of thousands of "#" numbers asks about the same words once, not once a sibling."""
    sentence = max(lower.rfind("\n", 0, start) + 1, start - _BEFORE_SIBLING)
    for end in _SENTENCE_END.finditer(lower, sentence, start + 1):
        sentence = end.end()
    for number in _SIBLING.finditer(lower, sentence, start):
        before = lower[max(sentence, number.start() - _BEFORE) : number.start()].rstrip(" #")
        if before not in named:
            named[before] = rules.not_store_before.search(before) is not None
        if named[before] and not rules.order_word.search(lower, number.end(), start):
            return True
    return False


def _series(lower: str, end: int, first: str, rules: _OrderRules) -> list[_Hit]:
    """The orders of a series after the one ending at `end` (`first`, its digits: "2215 and 2216",
    "2215/2216"): each as long as the first, as a store's order numbers are, no year after one
    that is not year-shaped ("Bestellung 6022 und 2025 Katalog"), and a range's end above its start
    ("orders 2210 to 2214"; "change order 4508 to 4412 Oak Hollow Dr" names an address)."""
    hits = []
    years = bool(rules.year.fullmatch(first))
    previous = first
    m = rules.series_next.match(lower, end)
    while m is not None and len(digits := _GROUP_BREAK.sub("", m.group(1))) == len(first) and (
            years or not rules.year.fullmatch(digits)):
        if digits <= previous and rules.series_range.search(lower, end, m.start(1)):
            break
        hits.append(_Hit(m.start(1), digits))
        previous, end = digits, m.end()
        m = rules.series_next.match(lower, end)
    return hits


def _marketplace_hits(lower: str, matches: list[re.Match[str]], rules: _OrderRules) -> list[_Hit]:
    """Marketplace orders, unless the number is a product id or follows a refund, card, phone..."""
    hits = []
    for m in matches:
        number = m.group(0)
        if any(p.search(number) for p in rules.marketplace_exclude):
            continue
        if rules.not_marketplace_before.search(lower[max(0, m.start() - _BEFORE_MARKETPLACE) : m.start()]):
            continue
        hits.append(_Hit(m.start(), number))
    return hits


@dataclass(frozen=True)
class _Cell:
    start: int  # position of its first non-blank character in the text
    text: str  # lower-cased, stripped


@dataclass(frozen=True)
class _Row:
    cells: list[_Cell]
    end: int  # position of the line break after it (the text's length at the end)

    @cached_property
    def starts(self) -> list[int]:
        """Where each cell starts, ascending (cells are in the order of the text)."""
        return [c.start for c in self.cells]

    @cached_property
    def next_filled(self) -> list[int | None]:
        """For each index, the first cell at or after it that is not empty (one past the end: None)."""
        found: list[int | None] = [None] * (len(self.cells) + 1)
        for i in range(len(self.cells) - 1, -1, -1):
            found[i] = i if self.cells[i].text else found[i + 1]
        return found

    @cached_property
    def filled(self) -> int:
        return sum(1 for c in self.cells if c.text)


class _Rows:
    """The table rows of one text, each split into cells once, however many labels point into it
    (a hostile line of thousands of labels would otherwise be split again for each of them)."""

    def __init__(self, lower: str) -> None:
        self.lower = lower
        self._known: dict[int, _Row] = {}
        self._below: dict[tuple[int, int], _Row | None] = {}

    def at(self, position: int) -> _Row:
        """The row holding `position`."""
        start = _row_start(self.lower, position)
        if start not in self._known:
            self._known[start] = _row(self.lower, start)
        return self._known[start]

    def below(self, end: int, blank_lines: int) -> _Row | None:
        """The row after the one ending at `end`, at most `blank_lines` blank lines below it (HTML
        rows are one apart), past any '|---|' rule under a plain-text table's header."""
        if (end, blank_lines) not in self._below:
            self._below[end, blank_lines] = self._find_below(end, blank_lines)
        return self._below[end, blank_lines]

    def _find_below(self, end: int, blank_lines: int) -> _Row | None:
        lower = self.lower
        position = end + 1
        while position < len(lower):
            line = lower[position : _line_end(lower, position)]
            if not line.strip():
                if blank_lines == 0:
                    return None
                blank_lines -= 1
            elif not _TABLE_RULE.fullmatch(line):
                return self.at(position)
            position = _line_end(lower, position) + 1
        return None


def _line_cells(lower: str, line_start: int, line_end: int) -> list[_Cell]:
    """The cells of one line: split at tabs (HTML tables) and bars (plain-text tables), without
    quote marks and the empty ends a row's first or last separator leaves."""
    line = lower[line_start:line_end]
    quoted = _QUOTE_MARKS.match(line)
    if quoted:  # a quoted line's "> " marks are no part of its first cell
        line_start += quoted.end()
        line = line[quoted.end() :]
    cells = []
    start = 0
    for brk in [*_CELL_BREAK.finditer(line), None]:
        stop = brk.start() if brk else len(line)
        piece = line[start:stop]
        stripped = piece.lstrip()
        cells.append(_Cell(line_start + start + len(piece) - len(stripped), stripped.rstrip()))
        start = stop + 1
    if cells and not cells[-1].text:
        cells.pop()
    if cells and not cells[0].text and line.lstrip().startswith("|"):
        cells.pop(0)
    return cells


def _line_end(lower: str, position: int) -> int:
    end = lower.find("\n", position)
    return end if end >= 0 else len(lower)


def _row_start(lower: str, position: int) -> int:
    """Where the table row holding `position` starts: its line, or, where an HTML table's cells
    went on lines of their own (each ends in a tab), the first of the run of such lines."""
    start = lower.rfind("\n", 0, position) + 1
    while start >= 2 and lower[start - 2] == "\t":  # the line before ends a cell of this row
        start = lower.rfind("\n", 0, start - 1) + 1
    return start


def _row(lower: str, start: int) -> _Row:
    """The table row starting at `start` (see `_row_start`)."""
    end = _line_end(lower, start)
    while start < end < len(lower) and lower[end - 1] == "\t" and lower[end + 1 : _line_end(lower, end + 1)].strip():
        end = _line_end(lower, end + 1)
    cells = []
    line = start
    while line <= end:
        cells += _line_cells(lower, line, _line_end(lower, line))
        line = _line_end(lower, line) + 1
    return _Row(cells, end)


def _cell_hits(text: str, lower: str, lined: str, rules: _OrderRules) -> list[_Hit]:
    """Numbers in the cell next to an order label, in the row under it, or in its column
    (`lined`: `lower` between two line breaks; a label starts after a separator, so the scan skips
    from separator to separator, and a position in `lined` is one past the same one in `lower`)."""
    hits = []
    rows = _Rows(lower)
    for label in rules.cell_label.finditer(lined):
        row = rows.at(label.start())
        column = bisect_left(row.starts, label.start())
        if column == len(row.cells):
            continue
        after = row.next_filled[column + 1]
        if after is not None:
            hits += _cell_number(text, row.cells[after], rules)
        else:
            below = rows.below(row.end, blank_lines=1)
            first = below.next_filled[0] if below else None
            if below is not None and first is not None:
                found = _cell_number(text, below.cells[first], rules)
                cut = not found and len(below.cells) == 1
                if cut:
                    found = _cut_number(text, rows, below, rules)
                numbered = rules.label_numbered.search(label.group(0))
                if found and not numbered and rules.year.fullmatch(found[0].number):
                    found = []  # "Order" then "2025": a year
                hits += found
                if found and not cut and len(below.cells) == 1:
                    hits += _listed(text, lower, below.end + 1, rules)
        if row.filled >= 2:
            hits += _column_hits(text, rows, row, column, rules)
    return hits


def _list_hits(text: str, lower: str, lined: str, rules: _OrderRules) -> list[_Hit]:
    """The orders listed under each line that names them and ends in ':' (`lined` as in
    `_cell_hits`: the label's match ends after its line break, at the first listed line)."""
    hits = []
    for label in rules.patterns.members[rules.marketplace + 2].finditer(lined, lined):
        hits += _listed(text, lower, label.end() - 1, rules)
    return hits


def _csv_hits(text: str, lower: str, lined: str, rules: _OrderRules) -> list[_Hit]:
    """The orders in the order field of the lines under each comma-separated header that has one
    (`lined` as in `_cell_hits`), up to the first line with another count of fields."""
    hits = []
    for header in rules.patterns.members[rules.marketplace + 3].finditer(lined, lined):
        column = header.group(1).count(",")
        fields = column + 1 + header.group(2).count(",")
        position = header.end() - 1  # the line break that ends the header, in `lower`
        for _ in range(_TABLE_ROWS):
            start = position + 1
            end = _line_end(lower, start)
            cells = lower[start:end].split(",")
            if start >= len(lower) or len(cells) != fields:
                break
            cell_start = start + sum(len(c) + 1 for c in cells[:column])
            stripped = cells[column].lstrip()
            hits += _cell_number(text, _Cell(cell_start + len(cells[column]) - len(stripped), stripped.rstrip()), rules)
            position = end
    return hits


def _listed(text: str, lower: str, position: int, rules: _OrderRules) -> list[_Hit]:
    """Orders on the lines from `position` on, one a line, maybe behind a bullet, up to the
    first line that is not one."""
    hits = []
    while position < len(lower):
        end = _line_end(lower, position)
        m = rules.list_item.fullmatch(lower, position, end)
        if m is None:
            break
        letters = ""
        if m.group(1):
            written = _letters(text, rules, m.start(1), m.end(1))
            if written is None:
                break
            letters = written if written.isupper() else ""
        hits.append(_Hit(m.start(2), _GROUP_BREAK.sub("", m.group(2)), letters))
        position = end + 1
    return hits



def _column_hits(text: str, rows: _Rows, header: _Row, column: int, rules: _OrderRules) -> list[_Hit]:
    """Numbers in `column` of the table rows under `header` that are as wide as it is."""
    hits = []
    row: _Row | None = header
    for _ in range(_TABLE_ROWS):
        row = rows.below(row.end, blank_lines=1) if row else None
        if row is None or len(row.cells) != len(header.cells):
            break
        hits += _cell_number(text, row.cells[column], rules)
    return hits


def _cut_number(text: str, rows: _Rows, letters_row: _Row, rules: _OrderRules) -> list[_Hit]:
    """The number on the line under a row that holds only the store's letters, as written in
    capitals ("BB" then "523477" under "Order ref:"): a reference cut after its letters."""
    m = rules.cell_letters.fullmatch(letters_row.cells[0].text)
    if m is None:
        return []
    cell = letters_row.cells[0]
    letters = _letters(text, rules, cell.start + m.start(1), cell.start + m.end(1))
    number_row = rows.below(letters_row.end, blank_lines=0)
    if letters is None or not letters.isupper() or number_row is None or len(number_row.cells) != 1:
        return []
    found = _cell_number(text, number_row.cells[0], rules)
    return [_Hit(h.position, h.number, letters) for h in found if not h.letters]


def _cell_number(text: str, cell: _Cell, rules: _OrderRules) -> list[_Hit]:
    m = rules.cell_number.fullmatch(cell.text)
    if m is None:
        return []
    letters = ""
    if m.group(1):
        written = _letters(text, rules, cell.start + m.start(1), cell.start + m.end(1))
        if written is None:
            return []
        letters = written if written.isupper() else ""
    return [_Hit(cell.start + m.start(2), _GROUP_BREAK.sub("", m.group(2)), letters)]


def _reference_hits(text: str, lower: str, rules: _OrderRules, series_codes: set[int]) -> list[_Hit]:
    """Bare references in a store's style ("PX-10452", "WX-20931", "ZP 88274"): capitals, a dash
    or a space, the number, wherever they stand; not a country's or a state's letters before a
    postcode ("CH-8001", "TX 78704"), not a code with a year's series inside it (at `series_codes`:
    a model's "XR25-9000" as often as an order's "TK25-0412"), and not after a word that makes them
    a ticket's, an invoice's or the writer's own ("our ref PO-88412")."""
    hits = []
    for m in _store_references(lower, rules.store_reference):
        if m.start(1) in series_codes:
            continue
        written = _letters(text, rules, m.start(1), m.end(1))
        if written is None or not written.isupper() or rules.postcode_letters.fullmatch(m.group(1)):
            continue
        if lower[m.end(1)].isspace() and rules.spaced_postcode_letters.fullmatch(m.group(1)):  # "NH 03101", not "NH3282"
            continue
        before = lower[max(0, m.start() - _BEFORE) : m.start()]
        # a parcel's words stop a glued reference ("package CF4612"), not a dashed one ("Paket GH-205207")
        not_before = rules.not_reference_before if lower[m.end(1)] == "-" else rules.not_store_before
        if not_before.search(before) or _writers_letters(lower, m.start(), before, rules):
            continue
        hits.append(_Hit(m.start(2), m.group(2), style=written))
    return hits


def _store_references(lower: str, pattern: re.Pattern[str]) -> list[re.Match[str]]:
    """The matches of `pattern` (orders.yaml's `store_reference`) in `lower`, as `finditer` gives
    them, trying it only where one can start: its number is a run of digits (found by a scan in C)
    right after the letters, maybe with a dash or a blank between, and the letters start it (none
    may come before them). Prose has few such runs; trying the pattern at every letter cost more
    than anything else in reading the order numbers."""
    found = []
    for digits in _DIGIT_RUN.finditer(lower):
        letters_end = digits.start()
        before = lower[letters_end - 1 : letters_end]
        if before == "-" or (before.isspace() and before != "\n"):
            letters_end -= 1
        start = letters_end
        while start > 0 and letters_end - start < _REFERENCE_LETTERS and "a" <= lower[start - 1] <= "z":
            start -= 1
        if letters_end - start >= _REFERENCE_MIN_LETTERS and (m := pattern.match(lower, start)) is not None:
            found.append(m)
    return found


def _tracking_row_hits(text: str, lower: str, tracked: _Tracked, rules: _OrderRules) -> list[_Hit]:
    """The numbers that start a line whose rest gives one of the tracking numbers (a forwarder's
    "2051 -> LA482915635FR"); capitals glued before the number ("SB42830 Correos: LS...") are the
    store's letters, as if labelled."""
    if not tracked.numbers:
        return []
    hits = []
    for m in rules.tracking_row.finditer(f"\n{lower}"):
        rest = _GROUP_BREAK.sub("", m.group(0)[m.end(2) - m.start(0) :]).upper()
        if not tracked.in_text(rest):
            continue
        if not (m.group(1) or m.group(3)):
            continue  # a bare number then words: a sentence, not a row
        letters = ""
        if m.group(1):  # positions in the text are one less: the pattern reads it after a line break
            written = _letters(text, rules, m.start(1) - 1, m.end(1) - 1)
            if written is None or not written.isupper():
                continue
            letters = written
        hits.append(_Hit(m.start(2) - 1, m.group(2), letters))
    return hits


def _tracking_pair_hits(lower: str, tracked: _Tracked, rules: _OrderRules) -> list[_Hit]:
    """The numbers joined by '=' or an arrow to one of the tracking numbers, anywhere in a line
    ("lastmile: 30906=LA214185804FR"): the order that tracking number is given for."""
    if not tracked.numbers:
        return []
    return [_Hit(m.start(1), m.group(1)) for m in rules.tracking_pair.finditer(lower)
            if m.group(2).upper() in tracked.numbers]


def _tracking_bracket_hits(text: str, lower: str, tracked: _Tracked, rules: _OrderRules) -> list[_Hit]:
    """The store's references, and numbers after "our" or "your", that a bracket right after gives
    one of the tracking numbers ("our PW41035 (LP00650349451056) was marked delivered"): an order
    named with its parcel; not after a ticket's, an invoice's... words."""
    if not tracked.numbers or "(" not in lower:
        return []
    hits = []
    for bracket in _TRACKING_BRACKET.finditer(lower):
        if bracket[1].upper() not in tracked.numbers:
            continue
        m = rules.tracking_bracket.search(lower, max(0, bracket.start() - _BEFORE_BRACKET), bracket.start())
        if m is None or not (m["letters"] or m["owner"]):
            continue
        if rules.not_store_before.search(lower[max(0, m.start() - _BEFORE) : m.start()]):
            continue
        letters = ""
        if m["letters"]:
            written = _letters(text, rules, m.start("letters"), m.end("letters"))
            if written is None or not written.isupper():
                continue
            letters = written
        hits.append(_Hit(m.start("number"), m["number"], letters))
    return hits


def _tracking_for_hits(lower: str, tracked: _Tracked, rules: _OrderRules) -> list[_Hit]:
    """The numbers a line that gives a tracking number names it for ("Correos number for 604571 is
    NX309182745BR"): the orders the tracking numbers belong to, whatever the words before "for"
    name ("The resend case for 604377 ship today, tracking LP00699102284417": the case is the
    order's). Each line is looked at once, however many such numbers it has."""
    if not tracked.numbers:
        return []
    hits = []
    line_end = -1
    giving = False  # whether the line up to `line_end` gives a tracking number
    for m in rules.tracking_for.finditer(lower):
        if m.start() > line_end:
            line_start = lower.rfind("\n", line_end + 1, m.start()) + 1 or line_end + 1
            line_end = _line_end(lower, m.end())
            line = _GROUP_BREAK.sub("", lower[line_start:line_end]).upper()
            giving = tracked.in_text(line)
        if giving:
            hits.append(_Hit(m.start(1), m.group(1)))
    return hits
