"""Shared fixtures: a private Dovecot, a recording SMTP server, fake carriers with their keys in the
environment, database URLs, the dev corpus; the learned readers trained once per session."""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from inbox_agent.config import ReadingConfig
from inbox_agent.extract import load_readers
from tests.support.carriers import SEVENTEEN_KEY, USPS_ID, USPS_SECRET, FakeCarriers, LocalServer
from tests.support.dovecot import Dovecot, free_port
from tests.support.smtp import RecordingHandler

SHARED = Path(os.environ.get("INBOX_AGENT_SHARED") or Path(__file__).resolve().parents[1].parent / "shared")
CORPUS = SHARED / "corpus" / "dev"
POSTGRES_URL = os.environ.get("INBOX_AGENT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
_users = itertools.count()


@pytest.fixture(scope="session", autouse=True)
def learned_readers() -> None:
    """Train (or load) the shipped readers into the default cache before any test starts a daemon,
    so no test's wait includes a first training on a machine that never ran the suite."""
    load_readers(ReadingConfig())


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot.start()
    yield server
    server.stop()


@pytest.fixture
def mailuser(dovecot: Dovecot) -> str:
    return f"test-{os.getpid()}-{next(_users)}@example.test"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, RecordingHandler]]:
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture
def fakes() -> FakeCarriers:
    """17TRACK and USPS as they answer on the Internet (a test file may override this fixture
    with its own parcels or USPS knowledge)."""
    return FakeCarriers(usps_knows_s10=True)


@pytest.fixture
def carriers(fakes: FakeCarriers) -> Iterator[LocalServer]:
    server = fakes.serve()
    yield server
    server.close()


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mailbox password and the carriers' keys, as a store's environment holds them."""
    for name, value in (("TEST_IMAP_PASSWORD", "secret"), ("T17_TOKEN", SEVENTEEN_KEY), ("USPS_ID", USPS_ID),
                        ("USPS_SECRET", USPS_SECRET)):
        monkeypatch.setenv(name, value)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    with _postgres_schema() as url:
        yield url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a schema of this test's own, dropped afterwards."""
    with _postgres_schema() as url:
        yield url


@contextlib.contextmanager
def _postgres_schema() -> Iterator[str]:
    from sqlalchemy import create_engine, text

    schema = f"t{os.getpid()}_{next(_users)}"
    engine = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "labels.json").exists():
        pytest.fail(f"dev corpus not found at {CORPUS}")
    return CORPUS
