"""`inbox-agent check`: config, rules and templates validated without starting anything.

Every template is rendered in every language it must exist in (customer templates in each store
language, partner templates in English) with sample data, so an undefined variable or a missing
translation is found here and not in front of a customer. The `[orders]` source gets one read
call, so a wrong token or shop is found before the first complaint.
"""

from __future__ import annotations

from inbox_agent.config import Config, check_timers
from inbox_agent.errors import InboxAgentError


def run_checks(config: Config) -> list[str]:
    from inbox_agent.extract.formats import load_format_book
    from inbox_agent.extract.lexicon import load_lexicon
    from inbox_agent.playbook import load_playbook
    from inbox_agent.render.directory import load_directory

    problems: list[str] = []
    steps = (("carrier formats", load_format_book), ("lexicons", load_lexicon), ("playbook", load_playbook),
             ("post offices", lambda: load_directory(overrides=config.kit.directory_overrides)))
    for name, step in steps:
        try:
            step()
        except InboxAgentError as e:
            problems.append(f"{name}: {e}")
    try:
        check_timers(config)
    except InboxAgentError as e:
        problems.append(f"playbook timers: {e}")
    problems += template_problems(config)
    problems += order_source_problems(config)
    return problems


def order_source_problems(config: Config) -> list[str]:
    """One read call to the [orders] source proves its credentials; a refusal or an outage is one line."""
    from inbox_agent.orders.book import build_order_book
    from inbox_agent.tracking.http import ProviderUnavailable

    try:
        book = build_order_book(config.orders)
        if book is not None:
            book.probe()
    except (InboxAgentError, ProviderUnavailable) as e:
        return [f"orders: {e}"]
    return []


def template_problems(config: Config) -> list[str]:
    """Render every template in every required language; one line per failure."""
    from pathlib import Path

    from inbox_agent.render.context import sample_context
    from inbox_agent.render.templates import CUSTOMER_TEMPLATES, PARTNER_TEMPLATES, render

    problems = []
    context = sample_context(config, "FR")
    folder = Path(config.paths.templates)
    required = [(t, lang) for t in CUSTOMER_TEMPLATES for lang in config.store.languages]
    required += [(t, "en") for t in PARTNER_TEMPLATES]
    for template, language in required:
        if not (folder / f"{template}.{language}.txt.j2").is_file():
            problems.append(f"template {template}.{language}: missing ({folder / f'{template}.{language}.txt.j2'})")
            continue
        try:
            rendered = render(str(folder), template, [language], context, "picture@check")
        except Exception as e:  # noqa: BLE001 - report every broken template
            problems.append(f"template {template}.{language}: {type(e).__name__}: {e}")
            continue
        if not rendered.subject or not rendered.body.strip():
            problems.append(f"template {template}.{language}: empty subject or body")
    return problems
