"""Reports read from a PostgreSQL replica (DATABASE_REPLICA_URL), everything else from the primary:
a real streaming replica of the test database, paused to show which server a page read."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from tests.conftest import create_user, running_server
from tests.support.replica import Replica
from webapp.staff.service import api_keys


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    with Replica(os.environ["DATABASE_URL"]) as server:
        yield server


@pytest.fixture(scope="module")
def server_with_replica(replica: Replica) -> Iterator[str]:
    with running_server("server-with-replica", DATABASE_REPLICA_URL=replica.url) as url:
        yield url


async def add_contacts(db, emails: list[str]) -> None:
    await db.execute(text("INSERT INTO contacts (email) SELECT unnest(CAST(:emails AS text[]))"), {"emails": emails})
    await db.commit()


async def test_stats_and_reports_read_the_replica_and_the_rest_the_primary(db, replica, server_with_replica):
    admin = await create_user(db, "admin")
    _, key = await api_keys.create_key(db, {"name": "reports", "role": "viewer"}, admin.id)
    await add_contacts(db, ["ada@example.com", "bob@example.com"])
    replica.catch_up()
    replica.pause()  # from here on the replica still shows two contacts
    await add_contacts(db, ["eve@example.com"])

    with httpx.Client(base_url=server_with_replica, headers={"Authorization": f"Bearer {key}"}) as client:
        stats = client.get("/api/stats")
        contacts = client.get("/api/contacts")  # not a report: the primary
        assert stats.status_code == 200 and contacts.status_code == 200
        assert stats.json()["total_contacts"] == 2
        assert len(contacts.json()["items"]) == 3

        replica.catch_up()
        assert client.get("/api/stats").json()["total_contacts"] == 3
