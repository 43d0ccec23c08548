"""A message's web version, where {{ web_version_url }} leads: the message as its recipient got it
(their A/B variant, personalisation, tracked links and footer), rendered again from the campaign's
copy of the content; the open pixel in it counts a view as an open, as a mail app's would. And the
public archive (/archive): the campaigns staff published, with nothing of any recipient in them
(delivery/archive_copies.py), listed newest first and as an RSS feed. Staff wrote that HTML, so
both are served sandboxed (core/headers.py)."""

from __future__ import annotations

from email.utils import format_datetime
from xml.etree import ElementTree

from babel.dates import format_date
from litestar import Controller, Response, route
from litestar.enums import MediaType
from litestar.params import FromPath, FromQuery

from webapp.campaigns.service import archive, web_version
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.errors import NotFound
from webapp.core.headers import WEB_VERSION_CSP
from webapp.core.http import GET_OR_HEAD, AnyResponse, PublicRequest
from webapp.core.public_pages import NO_STORE, language_of, page
from webapp.core.tokens import LINK_NOT_VALID, TEST_DELIVERY_ID, read_token
from webapp.delivery import archive_copies
from webapp.delivery.sent_copies import Sent, as_sent
from webapp.settings.service import organisation as org_settings
from webapp.templates.service.rendering import RenderError

HEADERS = {**NO_STORE, "Content-Security-Policy": WEB_VERSION_CSP, "Referrer-Policy": "no-referrer"}
# The archive is for anyone to find: indexed, and asked for again (not kept) so a campaign taken
# out of it is gone at once.
ARCHIVE_HEADERS = {"Cache-Control": "no-cache", "X-Robots-Tag": "all"}
FEED_ITEMS = archive.PAGE_SIZE


class WebVersionController(Controller):
    path = "/u/view"
    include_in_schema = False

    @route("/{token:str}", http_method=GET_OR_HEAD, name="web-version")
    async def web_version(self, db: Db, token: FromPath[str]) -> Response[str]:
        numbers = read_token("unsubscribe", token, 1)  # the message's own: its holder may see it again
        if numbers is None:
            raise NotFound(LINK_NOT_VALID)
        if numbers[0] == TEST_DELIVERY_ID:
            raise NotFound(web_version.TEST)
        sent = await web_version.sent_to(db, numbers[0])
        message = Sent(sent.delivery.id, sent.delivery.ab_variant_id, sent.contact)
        public_url = get_settings().server.public_url
        (copy,) = await as_sent(db, sent.campaign, [message], public_url, whole=True, for_recipient=True)
        if isinstance(copy, RenderError):
            raise NotFound(web_version.GONE)
        return Response(web_version.as_web_page(copy.html, copy.subject), media_type=MediaType.HTML, headers=HEADERS)


class ArchiveController(Controller):
    path = "/archive"
    include_in_schema = False

    @route("/", http_method=GET_OR_HEAD, name="archive")
    async def index(self, request: PublicRequest, db: Db, cursor: FromQuery[str | None] = None) -> AnyResponse:
        language, org = language_of(request), await org_settings.load(db)
        found = await archive.page(db, cursor)
        subjects = await archive_copies.subjects(db, found.campaigns)
        entries = [
            {
                "id": c.id,
                "subject": subject,
                "sent_at": c.completed_at,
                "date": format_date(c.completed_at, "long", locale=language),
            }
            for c, subject in zip(found.campaigns, subjects, strict=True)
        ]
        return page(
            "archive/index.html", language, org, headers=ARCHIVE_HEADERS, entries=entries, next_cursor=found.next_cursor
        )

    @route("/feed.xml", http_method=GET_OR_HEAD, name="archive-feed")
    async def feed(self, db: Db) -> Response[bytes]:
        org, found = await org_settings.load(db), await archive.page(db)
        subjects = await archive_copies.subjects(db, found.campaigns)
        base = get_settings().server.public_url.rstrip("/")
        rss = ElementTree.Element("rss", version="2.0")
        channel = ElementTree.SubElement(rss, "channel")
        for tag, value in (
            ("title", org.organisation_name or "Newsletters"),
            ("link", f"{base}/archive"),
            (
                "description",
                f"Past newsletters of {org.organisation_name}" if org.organisation_name else "Past newsletters",
            ),
        ):
            ElementTree.SubElement(channel, tag).text = value
        for c, subject in zip(found.campaigns, subjects, strict=True):
            item = ElementTree.SubElement(channel, "item")
            url = archive_copies.page_url(base, c.id)
            ElementTree.SubElement(item, "title").text = subject
            ElementTree.SubElement(item, "link").text = url
            ElementTree.SubElement(item, "guid", isPermaLink="true").text = url
            if c.completed_at is not None:
                ElementTree.SubElement(item, "pubDate").text = format_datetime(c.completed_at)
        body = ElementTree.tostring(rss, encoding="utf-8", xml_declaration=True)
        return Response(body, media_type="application/rss+xml; charset=utf-8", headers=ARCHIVE_HEADERS)

    @route("/{campaign_id:int}", http_method=GET_OR_HEAD, name="archived-campaign")
    async def campaign(self, db: Db, campaign_id: FromPath[int]) -> Response[str]:
        campaign = await archive.archived(db, campaign_id)
        copy = await archive_copies.copy(db, campaign, get_settings().server.public_url)
        if isinstance(copy, RenderError):
            raise NotFound(archive.NOT_IN_ARCHIVE)
        headers = {**ARCHIVE_HEADERS, "Content-Security-Policy": WEB_VERSION_CSP}
        return Response(web_version.as_web_page(copy.html, copy.subject), media_type=MediaType.HTML, headers=headers)
