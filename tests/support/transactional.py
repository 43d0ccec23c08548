"""Arranging transactional messages for tests: the organisation's sender details and a template."""

from __future__ import annotations

import os

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import Principal, Role
from webapp.core.config import TransactionalSettings
from webapp.settings.service import organisation as org_settings
from webapp.templates.models import EmailTemplate
from webapp.transactional import service as transactional

RECEIPT_HTML = (
    "<html><body><p>Hello {{ first_name | default('there') }}, your order {{ order_id }} is on its way.</p>"
    '<p><a href="https://example.com/help">Help</a></p></body></html>'
)


async def tx_template(db: AsyncSession, *, template_type: str = "transactional", is_active: bool = True) -> int:
    """A receipt template (subject and body read `order_id` from the data); committed with the
    organisation's sender details."""
    await org_settings.save(
        db,
        org_settings.OrgSettings(
            organisation_name="Mailroom Tests Ltd",
            postal_address="1 Test Street, Testville",
            default_from_email="shop@mailroom.test",
            default_from_name="Mailroom Shop",
        ),
    )
    template = EmailTemplate(
        name="Receipt",
        subject="Your order {{ order_id }}",
        html_content=RECEIPT_HTML,
        template_type=template_type,
        is_active=is_active,
    )
    db.add(template)
    await db.commit()
    return template.id


async def tx_message(db: AsyncSession, api_key_id: int, template_id: int, to: str, data: dict | None = None) -> int:
    """A message posted as the API posts it (by this key), not sent yet; its id."""
    redis = Redis.from_url(os.environ["REDIS_URL"])  # its own client: also used from run_db's event loops
    try:
        sender = Principal(api_key_id, "test key", Role.EDITOR, via_api_key=True)
        body = {"template_id": template_id, "to": to, "data": data or {}}
        posted = await transactional.send(db, redis, TransactionalSettings(), sender, body)
    finally:
        await redis.aclose()
    return posted.message.id
