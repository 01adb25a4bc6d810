"""A wrong key, a wrong type or an unreadable file: one line naming file and key, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from inbox_agent.config import load_config
from inbox_agent.errors import ConfigError

CLI = [sys.executable, "-m", "inbox_agent.cli"]


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ("[store]\nnmae = 'x'\n", "store.nmae"),
        ("[imap]\nhost = 'h'\nport = 'many'\nusername = 'u'\npassword_env = 'P'\n", "imap.port"),
        ("[replies]\nmode = 'sometimes'\n", "replies.mode"),
        ("[bogus]\n", "bogus"),
        ("[store\n", ""),
    ],
)
def test_config_errors_name_file_and_key(tmp_path: Path, content: str, key: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert str(path) in str(e.value) and key in str(e.value)


def test_parse_reads_only_parties(tmp_path: Path, corpus: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[parties]\nsuppliers = ['@shop.example']\n[imap]\nbroken = true\n")
    out = subprocess.run([*CLI, "parse", "--config", str(path), str(corpus / "d002.eml")], capture_output=True)
    assert out.returncode == 0


def test_cli_exit_2_on_bad_config(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[parties]\nsuppliers = 'not a list'\n")
    out = subprocess.run([*CLI, "parse", "--config", str(path), "x.eml"], capture_output=True, text=True)
    assert out.returncode == 2
    assert "parties.suppliers" in out.stderr and str(path) in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_example_config_is_valid() -> None:
    config = load_config(Path(__file__).resolve().parents[2] / "config.example.toml")
    assert config.imap is not None and config.imap.password_env
