"""Migration 0044 stores the links of mail already sent as the URLs their hrefs stand for, so their
clicks lead where the HTML said (`&amp;` is `&`)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from tests.integration.test_analytics_migration import alembic
from tests.integration.test_tracking import sent_delivery


async def test_links_stored_with_character_references_are_decoded(db):
    campaign_id, _, _ = await sent_delivery(db)
    await db.close()
    await asyncio.to_thread(alembic, "downgrade", "0043")
    try:
        await db.execute(
            text("""INSERT INTO links (campaign_id, url) VALUES
                    (:c, 'https://example.com/a?x=1&amp;y=2'),
                    (:c, 'https://example.com/b?x=1&amp;y=2'), (:c, 'https://example.com/b?x=1&y=2'),
                    (:c, 'https://example.com/c?q=&quot;x&quot;')"""),
            {"c": campaign_id},
        )
        await db.commit()
    finally:
        await db.close()
        await asyncio.to_thread(alembic, "upgrade", "head")

    urls = await db.scalars(text("SELECT url FROM links WHERE campaign_id = :c ORDER BY id"), {"c": campaign_id})
    assert list(urls) == [
        "https://example.com/offer",
        "https://example.com/a?x=1&y=2",
        "https://example.com/b?x=1&amp;y=2",  # its decoded twin has a row already, which later mail used
        "https://example.com/b?x=1&y=2",
        "https://example.com/c?q=&quot;x&quot;",  # a quote is no plain URL: never tracked, left alone
    ]
