"""A format=flowed text part (RFC 3676) joined back into the lines its writer wrote.

Thunderbird, Apple Mail and many webmails send text/plain with `format=flowed`: a long line is
broken by the client, the break marked by a space left at the end of the line. Read as sent, a
phrase wrapped there ("an email stating that the item \\nhad been delivered") escapes every
pattern that reads within a line, and a number wrapped there is cut in two. Joined, the text reads
as written. A line joins the next only at the same quote depth; the space a client puts before a
line's text to stuff it is taken off; with `DelSp=yes` the marking space goes too (the break fell
inside a word). Where a sender's trailing spaces would glue the history below to the newest text,
the text keeps its shape: an empty line is never joined (it ends a paragraph, and the line after it
may head a quote), nor is a rule of dashes or underscores ("-----Original Message-----",
"________", the signature separator "-- "), which neither flows nor takes a line before it.
"""

from __future__ import annotations

import re

_RULE = re.compile(r"--(?: |-)|__")  # a line opening so is a separator, never part of a paragraph


def unflowed(text: str, delete_space: bool = False) -> str:
    """`text` of a format=flowed part with its soft line breaks joined (in time linear in the text:
    a line's pieces are joined once, however many soft breaks it holds)."""
    lines: list[str] = []
    pieces: list[str] = []  # the line being joined
    flowing_depth: int | None = None  # the quote depth of a line that ended with a soft break
    for line in text.replace("\r\n", "\n").split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        prefix, content = line[:depth], line[depth:]
        if content.startswith(" "):  # stuffed: unquoted, the space goes; quoted, it stays as "> " reads
            prefix, content = prefix + (" " if depth else ""), content[1:]
        separator = _RULE.match(content) is not None
        soft = content.endswith(" ") and not separator
        if soft and delete_space:
            content = content[:-1]
        if flowing_depth == depth and pieces and content and not separator:
            pieces.append(content)
        else:
            if pieces:
                lines.append("".join(pieces))
            pieces = [prefix + content]
        flowing_depth = depth if soft else None
    lines.append("".join(pieces))
    return "\n".join(lines)
