"""Fixtures for the PostgreSQL tests: one private server per run, a fresh database per test.

The server is made by ``pg_cluster`` (see there why it is hand-written). No skips: a
machine without PostgreSQL fails with what to install.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pg_cluster import PgServer, create_cluster


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A private PostgreSQL cluster for the run, stopped and deleted at its end."""
    server = create_cluster()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh, empty database for one test (its SQLAlchemy URL), dropped afterwards."""
    name, url = pg_server.create_database()
    yield url
    pg_server.drop_database(name)
