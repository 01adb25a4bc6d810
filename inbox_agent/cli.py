"""The `inbox-agent` command line: parse, check, run, demo, init.

Every command reads only the config sections it needs. A configuration mistake prints one line
naming the file, the key and what was expected, and exits with status 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from inbox_agent.config import load_config, with_backfill
from inbox_agent.errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])


def _config_errors_exit_2(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as e:
            click.echo(f"inbox-agent: configuration error: {e}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


@click.group()
@click.version_option(package_name="inbox-agent")
def main() -> None:
    """Runs the 'tracking says delivered, parcel never came' support case from the mailbox."""


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="TOML file ([parties] is read).")
@click.option("--explain", is_flag=True, help="Add a `why` field: what decided each answer.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_config_errors_exit_2
def parse(config_path: str | None, explain: bool, files: tuple[str, ...]) -> None:
    """Print one JSON object per FILE (JSON Lines): intent, role, language, numbers."""
    from inbox_agent.reading import read_file

    config = load_config(config_path, sections=("parties", "store", "paths", "reading"))
    failed = False
    out = sys.stdout
    for name in files:
        record = read_file(Path(name), config, explain)
        record = {"file": name, **record}
        failed = failed or "error" in record
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    sys.exit(1 if failed else 0)


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="TOML file ([reading] is read).")
@_config_errors_exit_2
def learn(config_path: str | None) -> None:
    """Retrain the intent reader on the shipped and the store's taught examples; print the grouped
    cross-validated figures before and after the taught ones."""
    from inbox_agent.extract.evaluation import before_after
    from inbox_agent.extract.intent import intent_model, shipped_examples, taught_examples

    config = load_config(config_path, sections=("paths", "reading"))
    shipped, taught = shipped_examples(), taught_examples(config.reading)
    click.echo(f"training texts: {len(shipped)} shipped, {len(taught)} taught ({config.reading.examples})")
    before, after = before_after(shipped, taught, config.reading.min_confidence)
    click.echo(f"grouped cross-validation, {after.folds} folds over {after.groups} groups, "
               f"min_confidence {config.reading.min_confidence}:")
    click.echo(f"  rules (distributors, unknown senders): {after.rules.line()}")
    for label, cv in (("before", before), ("after", after)):
        click.echo(f"  {label:6s} {cv.overall.line()}")
        if cv.taught is not None:
            click.echo(f"  {label:6s} taught texts only: {cv.taught.line()}")
    intent_model(config.reading)
    click.echo(f"model trained and cached in {config.reading.cache_path()}")


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="TOML file ([store], [tracking.*] and, when present, [database] as the cache are read).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per number (docs/tracking.md).")
@click.argument("numbers", nargs=-1, required=True)
@_config_errors_exit_2
def track(config_path: str | None, as_json: bool, numbers: tuple[str, ...]) -> None:
    """Track NUMBERs across the hand-over: origin leg, last-mile number, destination post."""
    from inbox_agent.tracking.lookup import track_numbers

    config = load_config(config_path, sections=("store", "tracking", "database", "paths"))
    statuses, notes = track_numbers(config, numbers, cache_in_database=_has_section(config_path, "database"))
    for note in notes:
        click.echo(f"inbox-agent: {note}", err=True)
    if as_json:
        for status in statuses:
            view = status.to_json()
            view.pop("raw", None)
            sys.stdout.write(json.dumps(view, ensure_ascii=False) + "\n")
        return
    from rich.console import Console

    from inbox_agent.tracking.view import render_status

    console = Console()
    for status in statuses:
        render_status(status, console)


def _has_section(config_path: str | None, section: str) -> bool:
    import tomllib

    if config_path is None:
        return False
    return section in tomllib.loads(Path(config_path).read_text(encoding="utf-8"))


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="TOML file; none = embedded default.")
@click.option("--worker", default="worker-1", show_default=True,
              help="This worker's name, distinct per process sharing one database (docs/scaling.md).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Run this many worker processes (an [imap] mailbox; PostgreSQL recommended).")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Also answer mail that arrived from this day on (YYYY-MM-DD), as drafts only.")
@click.option("--backfill-auto", is_flag=True, help="With --since: automatic replies allowed for old mail too.")
@_config_errors_exit_2
def run(config_path: str | None, worker: str, workers: int, since: datetime | None, backfill_auto: bool) -> None:
    """Run the daemon until Ctrl-C or SIGTERM."""
    import asyncio
    import logging

    from inbox_agent.arenas import limit_malloc_arenas

    limit_malloc_arenas()  # before any thread (numpy's included) allocates
    from inbox_agent.runner import run_daemon

    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s %(levelname)s [{worker}] %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-command chatter
    config = load_config(config_path)
    if since is not None or backfill_auto:
        config = with_backfill(config, since.date() if since else None, backfill_auto)
    if workers > 1:
        from inbox_agent.workers import run_workers

        if config_path is None or config.imap is None:
            raise ConfigError(config.source, "imap", "several workers share an [imap] mailbox (--workers needs one)")
        if since is not None or backfill_auto:
            raise ConfigError(config.source, "imap.since", "backfill with one worker (--since without --workers)")
        sys.exit(run_workers(config_path, workers))
    asyncio.run(run_daemon(config, echo=click.echo, worker=worker))


@main.command()
@_config_errors_exit_2
def demo() -> None:
    """Play the thin slice on a throwaway embedded setup and print the case timeline."""
    import asyncio

    from inbox_agent.demo import run_demo

    sys.exit(asyncio.run(run_demo(click.echo)))


@main.command("send-sample")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2525, show_default=True)
@click.option("--to", "to", default="support@store.example", show_default=True)
@click.option("--order-only", is_flag=True, help="Give only the order number (the sample orders file knows it).")
def send_sample(host: str, port: int, to: str, order_only: bool) -> None:
    """Send a sample 'delivered but not received' complaint by SMTP."""
    import smtplib

    from inbox_agent.samples import sample_complaint

    with smtplib.SMTP(host, port, timeout=10) as smtp:
        smtp.sendmail("jamie.customer@example.org", [to], sample_complaint(to, order_only=order_only))
    click.echo(f"sent a sample complaint to {to} via {host}:{port}")


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False))
@_config_errors_exit_2
def check(config_path: str | None) -> None:
    """Validate config, rules and templates, and prove the order source answers, without starting anything."""
    from inbox_agent.checks import run_checks

    problems = run_checks(load_config(config_path))
    for p in problems:
        click.echo(f"problem: {p}", err=True)
    if problems:
        sys.exit(2)
    click.echo("config, rules and templates are valid")


@main.command()
@click.option("--dir", "folder", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Where to write config.toml.")
@click.option("--copy-rules", is_flag=True, help="Also copy the shipped rules/ and templates/ there, to edit.")
@click.option("--force", is_flag=True, help="Replace files that already exist.")
@_config_errors_exit_2
def init(folder: str, copy_rules: bool, force: bool) -> None:
    """Write a starter config.toml (and the rules and templates to edit, when asked)."""
    from inbox_agent.starter import write_starter

    for path in write_starter(Path(folder), copy_rules, force):
        click.echo(f"wrote {path}")


@main.command()
@click.argument("template")
@click.option("--lang", "language", default="en", show_default=True, help="Language of the message.")
@click.option("--country", default="US", show_default=True, help="Destination country (its post office).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Write the .eml (and PNG) here.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False))
@_config_errors_exit_2
def preview(template: str, language: str, country: str, out_dir: str | None, config_path: str | None) -> None:
    """Print TEMPLATE rendered with sample case data; --out writes the .eml and the PNG."""
    from inbox_agent.errors import PermanentError
    from inbox_agent.render.preview import preview as render_preview
    from inbox_agent.render.preview import write_preview

    config = load_config(config_path, sections=("store", "kit", "paths"))
    try:
        result = render_preview(config, template, language, country)
    except PermanentError as e:
        click.echo(f"inbox-agent: {e}", err=True)
        sys.exit(2)
    click.echo(result.text)
    if out_dir:
        for path in write_preview(result, template, Path(out_dir)):
            click.echo(f"wrote {path}", err=True)


@main.command()
@click.option("--out", "out_dir", default="var/screenshots", show_default=True, type=click.Path(file_okay=False))
@click.option("--country", default="US", show_default=True, help="Destination country of the sample case.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False))
@_config_errors_exit_2
def screenshots(out_dir: str, country: str, config_path: str | None) -> None:
    """Screenshot every customer message in every store language at 375 and 1024 px (headless Chromium)."""
    from inbox_agent.errors import PermanentError
    from inbox_agent.render.gallery import gallery, write_screenshots

    config = load_config(config_path, sections=("store", "kit", "paths"))
    try:
        written = write_screenshots(gallery(config, country), Path(out_dir), config.kit.browser)
    except PermanentError as e:
        click.echo(f"inbox-agent: {e}", err=True)
        sys.exit(2)
    click.echo(f"wrote {len(written)} screenshots to {out_dir}")


@main.group()
def cases() -> None:
    """List and inspect cases."""


@cases.command("list")
@click.option("--state", help="Only cases in this state.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per case.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False))
@_config_errors_exit_2
def cases_list(state: str | None, as_json: bool, config_path: str | None) -> None:
    """List cases, newest first."""
    from inbox_agent.timeline import case_rows

    rows = case_rows(_database(config_path), state)
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "state", "customer", "orders", "tracking", "opened", "outcome")
    for row in rows:
        table.add_row(str(row["id"]), row["state"], row["customer"], ", ".join(row["orders"]),
                      ", ".join(row["tracking"]), row["opened_at"][:16], row["outcome"] or "")
    Console().print(table)


@cases.command("show")
@click.argument("case_id", type=int)
@click.option("--config", "config_path", type=click.Path(dir_okay=False))
@_config_errors_exit_2
def cases_show(case_id: int, config_path: str | None) -> None:
    """Print a case's timeline: messages, decisions with their rule, tracking, timers."""
    from inbox_agent.timeline import case_timeline

    found = case_timeline(_database(config_path), case_id)
    if found is None:
        click.echo(f"no case {case_id}", err=True)
        sys.exit(1)
    click.echo(json.dumps(found, indent=2, ensure_ascii=False))


@cases.command("close")
@click.argument("case_id", type=int)
@click.option("--reason", required=True, help="Why it is closed (kept as the outcome).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False))
@_config_errors_exit_2
def cases_close(case_id: int, reason: str, config_path: str | None) -> None:
    """Close a case by hand: its timers stop and nothing more is sent for it."""
    from inbox_agent.store.database import utcnow
    from inbox_agent.timeline import close_case

    if not close_case(_database(config_path), case_id, reason, utcnow()):
        click.echo(f"no case {case_id}", err=True)
        sys.exit(1)
    click.echo(f"case {case_id} closed: {reason}")


def _database(config_path: str | None) -> Any:
    from inbox_agent.store.database import Database

    config = load_config(config_path, sections=("database",))
    db = Database(config.database.url)
    db.create()
    return db


@main.group()
def orders() -> None:
    """The store's orders, as the [orders] source knows them."""


@orders.command("show")
@click.argument("number")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="TOML file ([orders] is read).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per order (fields in docs/orders.md).")
@_config_errors_exit_2
def orders_show(number: str, config_path: str | None, as_json: bool) -> None:
    """Print what the order source knows about order NUMBER."""
    from inbox_agent.orders.book import build_order_book
    from inbox_agent.orders.view import order_lines
    from inbox_agent.tracking.http import ProviderUnavailable

    book = build_order_book(load_config(config_path, sections=("orders",)).orders)
    if book is None:
        click.echo("inbox-agent: no order source: set [orders] in the config (docs/orders.md)", err=True)
        sys.exit(2)
    try:
        found = book.show(number)
    except ProviderUnavailable as e:
        click.echo(f"inbox-agent: {e}", err=True)
        sys.exit(1)
    if not found:
        click.echo(f"no order {number} in {book.source.name}", err=True)
        sys.exit(1)
    for order in found:
        if as_json:
            sys.stdout.write(order.model_dump_json() + "\n")
        else:
            click.echo("\n".join(order_lines(order)))


@main.group()
def playbook() -> None:
    """The playbook (rules/playbook.yaml)."""


@playbook.command("graph")
def playbook_graph() -> None:
    """Print the playbook as a Mermaid state diagram."""
    from inbox_agent.playbook import load_playbook
    from inbox_agent.playbook.engine import mermaid

    click.echo(mermaid(load_playbook()), nl=False)


if __name__ == "__main__":
    main()
