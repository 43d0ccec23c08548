"""Arrange an audience and a ready-to-send campaign directly in the database."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign
from webapp.campaigns.service import campaigns
from webapp.lists.models import EmailList
from webapp.settings.models import SmtpServer
from webapp.settings.service import organisation as org_settings

HTML = """<html><head><style>h1 { color: #223344 }</style></head><body>
<h1>Hello {{ first_name | default("there") }}</h1>
<p>News for {{ company }}. <a href="https://example.com/offer">See the offer</a></p>
</body></html>"""


async def audience(session: AsyncSession, size: int, name: str = "Audience") -> EmailList:
    """`size` contacts (person0@example.com ...) on one list, inserted set-based."""
    email_list = EmailList(name=name)
    session.add(email_list)
    await session.flush()
    await session.execute(
        text("""
        INSERT INTO contacts (email, first_name, company)
        SELECT 'person' || i || '@example.com', 'Person' || i, 'Company ' || (i % 7) FROM generate_series(0, :n - 1) i
        ON CONFLICT DO NOTHING"""),
        {"n": size},
    )
    await session.execute(
        text("""
        INSERT INTO list_members (list_id, contact_id)
        SELECT :l, id FROM contacts WHERE email LIKE 'person%@example.com'"""),
        {"l": email_list.id},
    )
    return email_list


async def smtp_server(
    session: AsyncSession, port: int, name: str = "sink", priority: int = 0, max_connections: int = 5
) -> SmtpServer:
    server = SmtpServer(
        name=name,
        host="127.0.0.1",
        port=port,
        tls_mode="none",
        priority=priority,
        max_connections=max_connections,
        allow_private=True,  # the test's own server, on this machine
    )
    session.add(server)
    await session.flush()
    return server


async def ready_campaign(session: AsyncSession, list_ids: list[int], **overrides) -> Campaign:
    await org_settings.save(
        session,
        org_settings.OrgSettings(organisation_name="Mailroom Tests Ltd", postal_address="1 Test Street, Testville"),
    )
    data = {
        "name": "Test campaign",
        "subject": "Hello {{ first_name }}",
        "from_email": "news@example.com",
        "from_name": "News",
        "html_content": HTML,
        "list_ids": list_ids,
        **overrides,
    }
    return await campaigns.create_campaign(session, data, created_by="tests")


async def wait_for_status(session: AsyncSession, campaign_id: int, statuses: set[str], timeout: float = 60) -> Campaign:
    deadline = time.monotonic() + timeout
    while True:
        session.expire_all()
        campaign = await session.get(Campaign, campaign_id)
        if campaign.status in statuses:
            return campaign
        if time.monotonic() > deadline:
            raise AssertionError(f"campaign still {campaign.status} (sent {campaign.sent_count}) after {timeout}s")
        await asyncio.sleep(0.2)


async def delivery_counts(session: AsyncSession, campaign_id: int) -> dict[str, int]:
    rows = await session.execute(
        text("SELECT status, count(*) FROM deliveries WHERE campaign_id = :c GROUP BY status"), {"c": campaign_id}
    )
    return dict(rows.all())


def reviewed(client, campaign_id: int):
    """The review step as it shows once its content check card has asked for the check, as the
    page does when it opens."""
    assert client.get(f"/campaigns/{campaign_id}/review/check").status_code == 200
    return client.get(f"/campaigns/{campaign_id}/review")


async def sent_by_a_worker(db, start_worker, campaign_id: int, *args, timeout: float = 60, **env) -> Campaign:
    """Send the campaign now, start a worker (`start_worker`: the worker fixture, with its `args`
    and `env`) and wait until the campaign is sent."""
    await campaigns.send_now(db, campaign_id)
    await db.commit()
    start_worker(*args, **env)
    return await wait_for_status(db, campaign_id, {"sent"}, timeout=timeout)
