"""A campaign sent by a real worker under a routing rule: its Microsoft recipients go through an
API provider, the others through the SMTP relay by priority, and each delivery names its carrier."""

from __future__ import annotations

from sqlalchemy import text

from tests.support.campaigns import audience, delivery_counts, ready_campaign, sent_by_a_worker, smtp_server
from tests.support.esp_apis import add_provider, esp_api
from tests.support.smtp import SmtpSink
from webapp.routing.service import rules


async def test_a_rule_sends_a_campaigns_microsoft_recipients_through_a_provider(db, worker) -> None:
    with SmtpSink() as sink, esp_api("postmark") as api:
        relay_id = (await smtp_server(db, sink.port)).id
        provider_id = (await add_provider(db, api, priority=5)).id
        await rules.create_rule(
            db,
            {
                "name": "Microsoft via Postmark",
                "domains": "microsoft",
                "targets": [{"transport": f"provider:{provider_id}", "weight": 1}],
            },
        )
        email_list = await audience(db, 10)
        await db.execute(
            text("UPDATE contacts SET email = replace(email, 'example.com', 'hotmail.com') WHERE id % 2 = 0")
        )
        campaign = await ready_campaign(db, [email_list.id])
        await sent_by_a_worker(db, worker, campaign.id)

    assert await delivery_counts(db, campaign.id) == {"sent": 10}
    assert all(r.endswith("@hotmail.com") for r in api.recipients()) and len(api.recipients()) == 5
    assert all(r.endswith("@example.com") for r in sink.handler.recipients()) and len(sink.messages) == 5
    carriers = await db.execute(
        text("""SELECT split_part(email, '@', 2) AS domain, smtp_server_id, provider_id
                FROM deliveries GROUP BY 1, 2, 3 ORDER BY 1""")
    )
    assert carriers.all() == [("example.com", relay_id, None), ("hotmail.com", None, provider_id)]
