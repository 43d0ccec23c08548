"""Arranging transactional messages for tests: the organisation's sender details and a template."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.settings.service import organisation as org_settings
from webapp.templates.models import EmailTemplate

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
