"""The `inbox-agent` command line: parse, check, run, demo.

Every command reads only the config sections it needs. A configuration mistake prints one line
naming the file, the key and what was expected, and exits with status 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from inbox_agent.config import load_config
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

    config = load_config(config_path, sections=("parties", "store"))
    failed = False
    out = sys.stdout
    for name in files:
        record = read_file(Path(name), config, explain)
        record = {"file": name, **record}
        failed = failed or "error" in record
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    sys.exit(1 if failed else 0)
