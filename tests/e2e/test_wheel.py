"""The package installs: a wheel built from pyproject.toml carries the rules and templates, and
`check`, `demo` and `init` work from an installed copy, outside the checkout.

The wheel is built offline from a copy of the sources (so the checkout stays clean) and installed
with --no-deps into a fresh venv that borrows this venv's dependencies through a .pth line (a
plain path line: the editable install of the checkout is not processed there, so only the wheel's
copy of inbox_agent can be imported).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
    return result


def test_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("inbox_agent", "rules", "templates"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", tmp_path / "dist", source, cwd=tmp_path)
    [wheel] = (tmp_path / "dist").glob("inbox_agent-*.whl")

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    purelib = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                        cwd=tmp_path).stdout.strip())
    (purelib / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp_path)

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = _run(python, "-c", "import inbox_agent.config as c; print(c.__file__); print(c.PathsConfig().rules)",
                 cwd=outside).stdout.split()
    assert all(Path(p).is_relative_to(purelib) for p in where), where
    assert (Path(where[1]) / "playbook.yaml").is_file()

    command = venv / "bin" / "inbox-agent"
    assert "config, rules and templates are valid" in _run(command, "check", cwd=outside).stdout
    assert "draft" in _run(command, "demo", cwd=outside).stdout.lower()

    _run(command, "init", "--copy-rules", cwd=outside)
    config = tomllib.loads((outside / "config.toml").read_text())
    assert Path(config["paths"]["rules"]) == outside / "rules"
    assert (outside / "rules" / "carriers" / "carriers.yaml").is_file()
    assert "config, rules and templates are valid" in _run(command, "check", "--config", "config.toml",
                                                           cwd=outside).stdout


def test_every_package_is_listed_for_the_wheel() -> None:
    """pyproject.toml lists the packages by hand (the data folders are mapped); none is forgotten."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "inbox_agent").rglob("__init__.py")}
    assert found <= listed
    assert {p for p in listed if "bundled" not in p} == found
