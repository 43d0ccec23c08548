"""Reports read from a PostgreSQL replica (DATABASE_REPLICA_URL), everything else from the primary:
a real streaming replica of the test database, paused to show which server a page read."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from tests.conftest import create_user, running_server, sign_in
from tests.support.campaigns import ready_campaign
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


async def test_a_campaign_report_page_reads_the_replica_and_the_campaign_page_the_primary(
    db, replica, server_with_replica
):
    viewer = await create_user(db, "viewer")
    campaign = await ready_campaign(db, [], name="Spring sale")
    await db.commit()
    replica.catch_up()
    replica.pause()
    await db.execute(text("UPDATE campaigns SET name = 'Summer sale' WHERE id = :id"), {"id": campaign.id})
    await db.commit()

    client = sign_in(server_with_replica, viewer.email)
    try:
        report = client.get(f"/campaigns/{campaign.id}/report")
        page = client.get(f"/campaigns/{campaign.id}")
        assert report.status_code == 200 and page.status_code == 200
        assert "Spring sale" in report.text and "Summer sale" not in report.text
        assert "Summer sale" in page.text

        replica.catch_up()
        assert "Summer sale" in client.get(f"/campaigns/{campaign.id}/report").text
    finally:
        client.close()
