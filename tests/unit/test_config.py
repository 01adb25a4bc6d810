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


def test_example_config_documents_every_key() -> None:
    """Every setting of every section is named in config.example.toml (set or commented)."""
    from inbox_agent.config import Config, TrackingProvider

    text = (Path(__file__).resolve().parents[2] / "config.example.toml").read_text()
    missing = []
    for section, field in Config.model_fields.items():
        if section == "source":
            continue
        model = field.annotation
        inner = getattr(model, "__args__", (model,))[0] if not hasattr(model, "model_fields") else model
        for key in getattr(inner, "model_fields", {}):
            if key not in text:
                missing.append(f"{section}.{key}")
    missing += [f"tracking.<provider>.{k}" for k in TrackingProvider.model_fields if k not in text]
    assert missing == []


def test_a_store_can_use_its_own_rules_folder(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    from inbox_agent.rules import DEFAULT_RULES_DIR

    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    lexicon = rules / "lexicons" / "en.yaml"
    lexicon.write_text(lexicon.read_text().replace("\n  received:\n", "\n  received:\n    'zebra crossing': 9\n", 1))
    config = tmp_path / "store.toml"
    config.write_text(f'[paths]\nrules = "{rules}"\n')
    mail = tmp_path / "m.eml"
    mail.write_text("From: a@example.org\nSubject: hello\nMessage-ID: <z@example.org>\n\nThe zebra crossing.\n")
    run = [sys.executable, "-m", "inbox_agent.cli", "parse"]
    ours = subprocess.run([*run, "--config", str(config), str(mail)], capture_output=True, text=True, check=False)
    default = subprocess.run([*run, str(mail)], capture_output=True, text=True, check=False)
    assert '"intent": "received"' in ours.stdout and '"intent": "received"' not in default.stdout
    config.write_text(f'[paths]\nrules = "{tmp_path / "nowhere"}"\n')
    broken = subprocess.run([*run, "--config", str(config), str(mail)], capture_output=True, text=True, check=False)
    assert broken.returncode == 2 and "paths.rules" in broken.stderr
