"""The campaign page's recipient filter picks what happened to each message, not its last status: an
opener who then clicked or unsubscribed is still among those who opened it."""

from __future__ import annotations

from sqlalchemy import text

from tests.integration.test_tracking import sent_delivery

SENT_ONLY = "person0@example.com"  # sent_delivery's one recipient, sent and nothing more


async def test_recipient_filter_is_what_happened_not_the_last_status(db, staff):
    campaign_id, _, _ = await sent_delivery(db)
    await db.execute(
        text("""INSERT INTO contacts (email) VALUES
             ('clicker@example.com'), ('leaver@example.com'), ('reader@example.com')""")
    )
    await db.execute(
        text("""
        INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at, opened_at, clicked_at, unsubscribed_at)
        SELECT :c, id, email,
               CASE email WHEN 'clicker@example.com' THEN 'clicked' WHEN 'leaver@example.com' THEN 'unsubscribed'
                          ELSE 'opened' END,
               now(), now(),
               CASE WHEN email = 'clicker@example.com' THEN now() END,
               CASE WHEN email = 'leaver@example.com' THEN now() END
        FROM contacts WHERE email <> :sent_only"""),
        {"c": campaign_id, "sent_only": SENT_ONLY},
    )
    await db.commit()
    client = await staff("viewer")

    def shown(status: str) -> set[str]:
        page = client.get(f"/campaigns/{campaign_id}/deliveries", params={"delivery_status": status})
        assert page.status_code == 200
        return {email for email in ("clicker", "leaver", "reader", "person0") if f"{email}@example.com" in page.text}

    assert shown("opened") == {"clicker", "leaver", "reader"}
    assert shown("clicked") == {"clicker"}
    assert shown("unsubscribed") == {"leaver"}
    assert shown("sent") == {"clicker", "leaver", "reader", "person0"}
    assert shown("") == {"clicker", "leaver", "reader", "person0"}
