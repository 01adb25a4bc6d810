"""The Jinja2 environment: StrictUndefined (a missing variable is an error, never a blank) and
autoescape for HTML templates. A template is `<name>.<lang>.txt.j2` with blocks `subject` and
`body`; a missing language falls back to the store default, then English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape

from inbox_agent.errors import PermanentError


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    language: str


@lru_cache(maxsize=4)
def environment(folder: str) -> Environment:
    return Environment(
        loader=FileSystemLoader(folder),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        keep_trailing_newline=True,
    )


def render(folder: str, name: str, languages: list[str], context: Mapping[str, Any]) -> Rendered:
    """Render template `name` in the first of `languages` that exists."""
    env = environment(folder)
    for language in dict.fromkeys([*languages, "en"]):
        try:
            template = env.get_template(f"{name}.{language}.txt.j2")
        except TemplateNotFound:
            continue
        ctx = template.new_context(dict(context))
        subject = "".join(template.blocks["subject"](ctx))
        body = "".join(template.blocks["body"](ctx))
        return Rendered(" ".join(subject.split()), body.strip() + "\n", language)
    raise PermanentError(f"template {name!r} exists in none of {languages + ['en']}")
