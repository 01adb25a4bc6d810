"""`inbox-agent check`: config, rules and templates validated without starting anything."""

from __future__ import annotations

from inbox_agent.config import Config
from inbox_agent.errors import InboxAgentError


def run_checks(config: Config) -> list[str]:
    from inbox_agent.extract.formats import load_format_book
    from inbox_agent.extract.lexicon import load_lexicon
    from inbox_agent.playbook import load_playbook
    from inbox_agent.render.directory import load_directory
    from inbox_agent.render.templates import render

    problems: list[str] = []
    for name, step in (("carrier formats", load_format_book), ("lexicons", load_lexicon),
                       ("playbook", load_playbook), ("post offices", load_directory)):
        try:
            step()
        except InboxAgentError as e:
            problems.append(f"{name}: {e}")
    post = {"operator": "Post", "tracking_url": "https://post.example/{number}", "phone": "1", "contact_form": None,
            "support_url": None, "claim_url": None, "who_may_claim": "sender", "wait_days": None}
    sample = {"customer_name": "Sam", "order_numbers": ["1043"], "last_mile_number": "LA482915635FR",
              "delivered_at": "2025-03-01", "events": [], "post": post, "sample": True,
              "signature": config.store.signature, "store_name": config.store.name}
    for template in ("customer_post_office_kit", "customer_ask_order_number"):
        for language in ("en", "fr"):
            try:
                render(config.paths.templates, template, [language], sample)
            except Exception as e:  # noqa: BLE001 - report every broken template
                problems.append(f"template {template}.{language}: {type(e).__name__}: {e}")
    return problems
