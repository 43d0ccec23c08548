"""JSON API: /api/campaigns. Create and edit drafts, send, schedule, pause, resume, cancel,
duplicate, resend to non-openers, put in the public archive, and read each recipient's message.
Thin: Litestar checks types (400), the campaign service applies the rules (404, 409 for a status
that does not allow it, 422 naming fields). Status changes are announced on the campaign's live
channel, like the staff UI's."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, post, put
from litestar.params import JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.abtests import service as abtests
from webapp.campaigns.models import Campaign, CampaignStatus, DeliveryStatus
from webapp.campaigns.queries.listing import DeliveryPage
from webapp.campaigns.schemas.campaign import ArchiveIn, CampaignCreate, CampaignUpdate, ScheduleIn
from webapp.campaigns.schemas.content_check import ContentCheckOut, content_check_out
from webapp.campaigns.schemas.output import (
    CampaignDetailOut,
    CampaignPageOut,
    EmailOut,
    EmailPageOut,
    campaign_detail_out,
    campaign_out,
    email_out,
)
from webapp.campaigns.service import archive, campaigns, listing
from webapp.campaigns.service.progress import rates
from webapp.core.api import Cursor, Limit, checked_cursor, creator, error_responses, id_parameter, sent_object
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.http import StaffRequest
from webapp.delivery.actors import announce_change
from webapp.delivery.content_check.campaigns import check_before_sending, check_campaign
from webapp.delivery.sent_copies import Sent, as_sent
from webapp.settings.service import organisation as org_settings
from webapp.templates.service.rendering import RenderError

MAX_EMAILS_PAGE = 100
MAX_CREATOR_LENGTH = 320  # an address, or api:<key name>
CampaignId = Annotated[int, id_parameter("Campaign id.")]
STATE_ERRORS = error_responses(404, 409)


async def _detail(db: AsyncSession, c: Campaign) -> CampaignDetailOut:
    ab_test = await abtests.test_of_campaign(db, c.id)
    return campaign_detail_out(c, await campaigns.list_ids_of(db, c.id), rates(c), ab_test)


async def _changed(db: AsyncSession, c: Campaign, status_code: int = 200) -> Response[CampaignDetailOut]:
    await announce_change(db, c)
    return Response(await _detail(db, c), status_code=status_code)


async def _messages(
    db: AsyncSession, c: Campaign, found: DeliveryPage, public_url: str, with_content: bool
) -> list[EmailOut]:
    """Each row with its subject as the recipient saw it (in their A/B variant); with content, the
    exact HTML and text sent (tracking links and footer included), rendered again from the campaign's copy."""
    from_email = c.from_email or (await org_settings.load(db)).default_from_email
    sent = [
        Sent(d.id, d.ab_variant_id, found.contacts.get(d.contact_id) if d.contact_id is not None else None)
        for d in found.deliveries
    ]
    contents = await as_sent(db, c, sent, public_url, whole=with_content) if sent else []
    items = []
    for d, content in zip(found.deliveries, contents, strict=True):
        if isinstance(content, RenderError):
            subject, parts = c.subject, (f"<!-- {content.message} -->", "")
        else:
            subject, parts = content.subject, (content.html, content.text)
        items.append(email_out(d, from_email, subject, parts if with_content else None))
    return items


class ApiCampaignsController(Controller):
    path = "/campaigns"
    tags = ("campaigns",)

    @post(
        "/",
        summary="Create a campaign",
        status_code=201,
        responses=error_responses(422),
        description="A draft. Only `name` is required; send it or schedule it once it has a subject, a from "
        "address, content and lists. `created_by` is `api:<key name>`. Content is `html_content`, or "
        '`content_format` "markdown" and `markdown_content`, from which the HTML is made.',
    )
    async def create_campaign(self, request: StaffRequest, data: JSONBody[CampaignCreate], db: Db) -> CampaignDetailOut:
        body = await sent_object(request)
        return await _detail(db, await campaigns.create_campaign(db, body, created_by=creator(request.user)))

    @get(
        "/",
        summary="List campaigns",
        responses=error_responses(),
        description="Newest first, up to `limit`; pass `next_cursor` back as `cursor` for the next page.",
    )
    async def list_campaigns(
        self,
        db: Db,
        status: Annotated[CampaignStatus | None, Parameter(description="Only campaigns in this status.")] = None,
        created_by: Annotated[
            str | None, Parameter(max_length=MAX_CREATOR_LENGTH, description="Exact creator, e.g. api:crm.")
        ] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> CampaignPageOut:
        found = await listing.find_campaigns(
            db,
            status=status.value if status else None,
            created_by=created_by,
            limit=limit,
            cursor=checked_cursor(cursor, listing.is_campaign_cursor),
        )
        list_ids = await listing.list_ids_by_campaign(db, [c.id for c in found.campaigns])
        items = [campaign_out(c, list_ids[c.id], rates(c)) for c in found.campaigns]
        return CampaignPageOut(items, found.next_cursor)

    @get(
        "/{campaign_id:int}",
        summary="Get a campaign",
        responses=error_responses(404),
        description="With its content, counters and rates (percent of messages sent).",
    )
    async def get_campaign(self, db: Db, campaign_id: CampaignId) -> CampaignDetailOut:
        return await _detail(db, await campaigns.get_campaign(db, campaign_id))

    @put(
        "/{campaign_id:int}",
        summary="Change a campaign",
        responses=error_responses(404, 409, 422),
        description="Only draft and scheduled campaigns can change (409 otherwise); fields not sent keep their value.",
    )
    async def update_campaign(
        self, request: StaffRequest, data: JSONBody[CampaignUpdate], db: Db, campaign_id: CampaignId
    ) -> CampaignDetailOut:
        return await _detail(db, await campaigns.update_campaign(db, campaign_id, await sent_object(request)))

    @delete(
        "/{campaign_id:int}",
        summary="Delete a campaign",
        responses=STATE_ERRORS,
        description="Drafts, cancelled and failed campaigns only (409 otherwise).",
    )
    async def delete_campaign(self, db: Db, campaign_id: CampaignId) -> None:
        await campaigns.delete_campaign(db, campaign_id)

    @post(
        "/{campaign_id:int}/schedule",
        summary="Schedule a campaign",
        status_code=200,
        responses=error_responses(404, 409, 422),
        description="`scheduled_time` without an offset is a local time in `timezone` (default UTC); it must "
        "be in the future. A scheduled campaign can be scheduled again. 422 lists what is missing, as for "
        "sending; at its time it is checked again, and fails with the reason (`status_reason`) if not ready.",
    )
    async def schedule(
        self, data: JSONBody[ScheduleIn], db: Db, campaign_id: CampaignId
    ) -> Response[CampaignDetailOut]:
        await check_before_sending(db, campaign_id)
        return await _changed(db, await campaigns.schedule(db, campaign_id, data.scheduled_time, data.timezone))

    @post(
        "/{campaign_id:int}/send",
        summary="Send a campaign now",
        status_code=202,
        responses=error_responses(404, 409, 422),
        description="Accepted: the campaign is `sending` and a worker starts it within seconds. 422 lists what "
        "is missing: subject, from_email, html_content, list_ids (none, or nobody on them can receive it), "
        "and the organisation's organisation_name and postal_address. 409 also when the content check "
        "(`/content-check`, run first if the content changed) scores at or over the threshold and no admin "
        "overrode it.",
    )
    async def send(self, db: Db, campaign_id: CampaignId) -> Response[CampaignDetailOut]:
        await check_before_sending(db, campaign_id)
        return await _changed(db, await campaigns.send_now(db, campaign_id), 202)

    @post(
        "/{campaign_id:int}/content-check",
        summary="Check a campaign's content before sending",
        status_code=200,
        responses=error_responses(404, 422),
        description="Scores the real message (rendered for a sample contact, footer, tracked links and DKIM "
        "included): SpamAssassin when a spamd is configured, and Mailroom's checks of the message and of "
        "the From domain's SPF, DKIM and DMARC records. Each finding says what is wrong and how to fix it. "
        "`unchecked` names what did not answer in time. 422 when the content does not render.",
    )
    async def content_check(self, db: Db, campaign_id: CampaignId) -> ContentCheckOut:
        c = await campaigns.get_campaign(db, campaign_id)
        found = await check_campaign(db, c, again=True)
        return content_check_out(c, found.threshold, found.blocks)

    @post("/{campaign_id:int}/pause", summary="Pause a sending campaign", status_code=200, responses=STATE_ERRORS)
    async def pause(self, db: Db, campaign_id: CampaignId) -> Response[CampaignDetailOut]:
        return await _changed(db, await campaigns.pause(db, campaign_id))

    @post(
        "/{campaign_id:int}/resume",
        summary="Resume a paused campaign",
        status_code=200,
        responses=error_responses(404, 409, 422),
        description="Only a paused campaign (409 otherwise), and only if it is still ready to send (422 as for "
        "sending). Sends to exactly the recipients not reached yet.",
    )
    async def resume(self, db: Db, campaign_id: CampaignId) -> Response[CampaignDetailOut]:
        return await _changed(db, await campaigns.resume(db, campaign_id))

    @post(
        "/{campaign_id:int}/cancel",
        summary="Cancel a scheduled, sending or paused campaign",
        status_code=200,
        responses=STATE_ERRORS,
        description="Final. Emails not sent yet end as `cancelled`; those already handed to a mail server are "
        "recorded as the server answered.",
    )
    async def cancel(self, db: Db, campaign_id: CampaignId) -> Response[CampaignDetailOut]:
        return await _changed(db, await campaigns.cancel(db, campaign_id))

    @post(
        "/{campaign_id:int}/duplicate",
        summary="Duplicate a campaign",
        status_code=201,
        responses=error_responses(404),
        description="A new draft with the same content, settings, lists and A/B test (its variants and settings, "
        "none of its results).",
    )
    async def duplicate(self, request: StaffRequest, db: Db, campaign_id: CampaignId) -> CampaignDetailOut:
        copy = await campaigns.duplicate(db, campaign_id, created_by=creator(request.user))
        await abtests.copy_test(db, campaign_id, copy.id)
        return await _detail(db, copy)

    @post(
        "/{campaign_id:int}/resend-to-non-openers",
        summary="Resend to those who did not open",
        status_code=201,
        responses=STATE_ERRORS,
        description="A new draft with the same content and settings for those a sent campaign reached who have not "
        "opened it: its audience is a dynamic segment (`Did not open #<id>: <name>`, made once per campaign), so "
        "whoever opens the first campaign before this one is sent is left out too. 409 unless the campaign is sent.",
    )
    async def resend(self, request: StaffRequest, db: Db, campaign_id: CampaignId) -> CampaignDetailOut:
        copy = await campaigns.resend_to_non_openers(db, campaign_id, created_by=creator(request.user))
        return await _detail(db, copy)

    @put(
        "/{campaign_id:int}/archive",
        summary="Put a campaign in the public archive, or take it out",
        responses=error_responses(404, 409, 422),
        description='`{"archive": true}` shows the campaign at `/archive` once it is sent (at once if it is '
        "sent), with no recipient's data in it and nothing tracked; `false` takes it out. Any status; "
        "409 for an automation's email or a transactional message.",
    )
    async def set_archive(
        self, request: StaffRequest, data: JSONBody[ArchiveIn], db: Db, campaign_id: CampaignId
    ) -> CampaignDetailOut:
        return await _detail(db, await archive.set_archived(db, campaign_id, await sent_object(request)))

    @get(
        "/{campaign_id:int}/emails",
        summary="A campaign's emails",
        responses=error_responses(404),
        description="One per recipient, in send order, up to `limit`; pass `next_cursor` back as `cursor`.",
    )
    async def emails(
        self,
        db: Db,
        campaign_id: CampaignId,
        status: Annotated[
            DeliveryStatus | None,
            Parameter(
                description="Only emails to which this happened: `sent`, `opened`, `clicked`, `bounced` and "
                "`unsubscribed` match every email that reached it, whatever followed (an opened email was sent, "
                "a clicked one opened); the other statuses match an email's current status."
            ),
        ] = None,
        limit: Annotated[
            int, Parameter(ge=1, le=MAX_EMAILS_PAGE, description=f"Emails per page, 1 to {MAX_EMAILS_PAGE}.")
        ] = MAX_EMAILS_PAGE,
        cursor: Cursor = None,
        include_content: Annotated[bool, Parameter(description="Add html_content and text_content.")] = False,
    ) -> EmailPageOut:
        c = await campaigns.get_campaign(db, campaign_id)
        found = await listing.find_deliveries(
            db,
            c.id,
            status=status.value if status else None,
            limit=limit,
            cursor=checked_cursor(cursor, listing.is_delivery_cursor),
            with_contacts=True,
        )
        items = await _messages(db, c, found, get_settings().server.public_url, include_content)
        return EmailPageOut(items, found.next_cursor)
