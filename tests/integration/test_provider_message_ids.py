"""The id an API provider gives a message it takes (SES MessageId, SendGrid's X-Message-Id, Postmark's
MessageID, Mailgun's id) is kept on the delivery by the batch's record."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.integration.test_provider_apis import KINDS
from tests.support.campaigns import audience, ready_campaign, wait_for_status
from tests.support.esp_apis import EspApi, add_provider, esp_api
from webapp.campaigns.service import campaigns

SIZE = 3


async def sent_through(db, worker, api: EspApi) -> int:
    """A campaign to person0..2@example.com sent by a worker through the provider `api` serves."""
    await add_provider(db, api)
    email_list = await audience(db, SIZE)
    campaign = await ready_campaign(db, [email_list.id])
    await campaigns.send_now(db, campaign.id)
    await db.commit()
    worker()
    await wait_for_status(db, campaign.id, {"sent"})
    return campaign.id


async def stored_ids(db, campaign_id: int) -> dict[str, str]:
    rows = await db.execute(
        text("SELECT email, provider_message_id FROM deliveries WHERE campaign_id = :c"), {"c": campaign_id}
    )
    return dict(rows.all())


@pytest.mark.parametrize("kind", KINDS)
async def test_the_providers_id_of_each_message_is_kept_on_its_delivery(db, worker, kind) -> None:
    with esp_api(kind) as api:
        campaign_id = await sent_through(db, worker, api)

    given = {taken.recipient: taken.provider_message_id for taken in api.taken}
    assert len(given) == SIZE and all(given.values())
    assert await stored_ids(db, campaign_id) == given
