"""The web version every campaign message may link to as {{ web_version_url }}: the message as that
recipient got it, for mail apps that show it badly. It opens with the message's unsubscribe token
(held by whoever holds the message), and only for marketing and automation mail: a transactional
message's data is forgotten once it is sent."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign, CampaignKind, Delivery
from webapp.campaigns.queries import listing
from webapp.contacts.models import Contact
from webapp.core.errors import NotFound
from webapp.core.i18n import N_

GONE = N_("This email is no longer available.")
TEST = N_("A test email has no web version: the link works in the messages the campaign sends.")
TRANSACTIONAL = "This email has no web version."


@dataclass(frozen=True)
class SentTo:
    campaign: Campaign
    delivery: Delivery
    contact: Contact


async def sent_to(session: AsyncSession, delivery_id: int) -> SentTo:
    """The campaign, delivery and contact a web version shows; NotFound, saying why, when there is none."""
    delivery, contact = await listing.delivery_with_contact(session, delivery_id) or (None, None)
    if delivery is None or contact is None:
        raise NotFound(GONE)
    campaign = await session.get(Campaign, delivery.campaign_id)
    if campaign is None:
        raise NotFound(GONE)
    if campaign.kind == CampaignKind.TRANSACTIONAL.value:
        raise NotFound(TRANSACTIONAL)
    return SentTo(campaign, delivery, contact)


# On the "View it in your browser" line Mailroom adds to a message (delivery/campaign_message.py): the
# page that line opens leaves it out, as a link to itself.
OWN_LINK_MARK = 'data-mailroom="web-version"'
_OWN_LINK = re.compile(rf"<div {OWN_LINK_MARK}[^>]*>.*?</div>", re.DOTALL)
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_HTML = re.compile(r"<html\b[^>]*>", re.IGNORECASE)
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)


def as_web_page(body: str, subject: str) -> str:
    """A message's HTML as a browser page: an email written as a fragment gets a document around
    it, and a page without them gets a title (the subject) and the viewport line, without which
    phones lay it out 980 pixels wide. The line Mailroom adds to open this page is left out."""
    body = _OWN_LINK.sub("", body, count=1)
    head_end = _HEAD_END.search(body)
    head = body[: head_end.start()] if head_end else ""
    missing = (
        ""
        if re.search(r"<meta[^>]+name=[\"']?viewport", head, re.IGNORECASE)
        else ('<meta name="viewport" content="width=device-width, initial-scale=1">')
    )
    if not re.search(r"<title\b", head, re.IGNORECASE):
        missing += f"<title>{html.escape(subject)}</title>"
    if found := _HEAD.search(body):
        return body[: found.end()] + missing + body[found.end() :]
    if found := _HTML.search(body):
        return body[: found.end()] + f'<head><meta charset="utf-8">{missing}</head>' + body[found.end() :]
    return f'<!doctype html>\n<html><head><meta charset="utf-8">{missing}</head><body>{body}</body></html>'
