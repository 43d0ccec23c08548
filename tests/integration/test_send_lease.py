"""Renewing a batch's lease never waits for its rows' outcomes being recorded: the two ran side by
side in one worker (the renewal keeps going until the batch is recorded) and locked the same rows in
different orders, so PostgreSQL killed the record as a deadlock and the whole batch sat claimed,
already sent, until its lease ran out."""

from __future__ import annotations

from sqlalchemy import text

from tests.support.campaigns import audience, ready_campaign
from webapp.core.db import get_sessionmaker
from webapp.delivery import queries as deliveries


async def test_renewing_skips_rows_a_record_holds_and_renews_the_rest(db):
    email_list = await audience(db, 3)
    campaign = await ready_campaign(db, [email_list.id])
    ids = list(
        await db.scalars(
            text("""INSERT INTO deliveries (campaign_id, contact_id, email, status, claimed_at)
                    SELECT :c, id, email, 'sending', now() - interval '1 minute' FROM contacts ORDER BY id
                    RETURNING id"""),
            {"c": campaign.id},
        )
    )
    await db.commit()
    async with get_sessionmaker()() as recording, get_sessionmaker()() as renewing:
        await recording.execute(text("UPDATE deliveries SET error_message = 'x' WHERE id = :id"), {"id": ids[0]})
        await renewing.execute(text("SET LOCAL lock_timeout = '5s'"))  # waiting would fail instead of hang
        await deliveries.renew(renewing, ids)
        await renewing.commit()
        await recording.rollback()
    stale = await db.scalars(
        text("SELECT id FROM deliveries WHERE claimed_at < now() - interval '30 seconds' ORDER BY id")
    )
    assert list(stale) == ids[:1]
