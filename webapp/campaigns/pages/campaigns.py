"""Staff UI: the campaign list and a campaign's page (live progress, counters, the actions its status
allows, deliveries). Building a campaign step by step is in wizard.py.

Actions are POSTs; one the campaign's status does not allow is answered 409 with the reason, shown
in the page header (the whole page without JavaScript, the header partial for HTMX).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.abtests import service as abtests
from webapp.campaigns.models import Campaign, CampaignKind, CampaignStatus, DeliveryStatus
from webapp.campaigns.pages.views import counters, status_context, timing
from webapp.campaigns.service import archive, campaigns, listing
from webapp.campaigns.service.audience import count_for_lists
from webapp.campaigns.service.progress import current_progress, rates
from webapp.campaigns.service.states import EDITABLE, FINAL
from webapp.core.deps import Db
from webapp.core.errors import Conflict, ValidationFailed
from webapp.core.forms import after_change
from webapp.core.http import AnyResponse
from webapp.delivery.actors import announce_change
from webapp.delivery.content_check.campaigns import check_before_sending
from webapp.feedback.service import rates as feedback_rates
from webapp.placement.service import placement
from webapp.warmup.service import campaigns as warmup

PAGE_SIZE = 50
DELIVERY_PAGE_SIZE = 50
MAX_CURSOR_LENGTH = 1000
STATUSES = [s.value for s in CampaignStatus]
# Each delivery status and how the recipients filter names it.
DELIVERY_STATUSES = {s.value: s.value.replace("_", " ").capitalize() for s in DeliveryStatus} | {
    DeliveryStatus.HANDING.value: "Being handed to the server",
}


def _cursor(raw: str | None) -> str | None:
    return raw[:MAX_CURSOR_LENGTH] if raw else None


async def _deliveries(db: AsyncSession, c: Campaign, status: str | None, cursor: str | None) -> dict[str, Any]:
    status = status if status in DELIVERY_STATUSES else ""
    found = await listing.find_deliveries(
        db, c.id, status=status or None, limit=DELIVERY_PAGE_SIZE, cursor=_cursor(cursor)
    )
    return {
        "c": c,
        "found": found,
        "delivery_status": status,
        "cursor": cursor or "",
        "delivery_statuses": DELIVERY_STATUSES,
    }


async def _page(
    db: AsyncSession,
    c: Campaign,
    *,
    delivery_status: str | None = None,
    cursor: str | None = None,
    error: str = "",
    status_code: int = 200,
) -> Template:
    lists = await listing.lists_of(db, c.id)
    context = {
        **status_context(c, error),
        "p": await current_progress(db, c),
        "counters": counters(c),
        "lists": lists,
        "audience": await count_for_lists(db, [x.id for x in lists]) if c.status in EDITABLE else None,
        "deliveries": await _deliveries(db, c, delivery_status, cursor),
        "live": c.status not in FINAL,
        "deliverability": feedback_rates.of_campaign(c),
        "placement": await placement.latest_of_campaign(db, c.id),
        "warmup": None if c.status in FINAL else await warmup.campaign_warmup(db, c.id, c.from_email),
        "ab": await abtests.test_of_campaign(db, c.id),
    }
    return Template("campaigns/show.html", context=context, status_code=status_code)


def _reported_elsewhere(c: Campaign) -> str | None:
    """The page that reports an automation's email step or a template's transactional messages: their
    campaign is a container the campaign pages would show as a never-sent draft."""
    if c.kind == CampaignKind.AUTOMATION.value and c.automation_id is not None:
        return f"/automations/{c.automation_id}"
    if c.kind == CampaignKind.TRANSACTIONAL.value:
        return f"/transactional/{c.template_id}" if c.template_id is not None else "/transactional"
    return None


def _refusal(exc: Conflict | ValidationFailed) -> tuple[str, int]:
    if isinstance(exc, ValidationFailed):
        return "Not ready to send: " + " ".join(exc.errors.values()), 422
    return exc.message, 409


async def refused(
    request: HTMXRequest, db: AsyncSession, campaign_id: int, exc: Conflict | ValidationFailed
) -> Template:
    """Why the action cannot be done, in the header partial (HTMX) or the whole page."""
    await db.rollback()
    message, status_code = _refusal(exc)
    c = await campaigns.get_campaign(db, campaign_id)
    if request.htmx and request.htmx.target == f"campaign-{campaign_id}-status":
        return Template("campaigns/_status.html", context=status_context(c, message), status_code=status_code)
    # A whole page (from the wizard's review): the live status replaces its part of the page as soon
    # as it connects, so the reason goes where it stays, with the page's messages.
    flash(request, message, "error")
    return await _page(db, c, status_code=status_code)


async def _act(
    request: HTMXRequest,
    db: AsyncSession,
    campaign_id: int,
    change: Callable[[], Awaitable[Campaign]],
    done: str = "",
    go_to: str = "",
) -> AnyResponse:
    """Apply a status change, tell live pages, and go back to the campaign; or show why not. A
    change that starts sending says nothing more: the page's live status follows it, where a
    banner would still say "sending" once all is sent."""
    try:
        c = await change()
    except (Conflict, ValidationFailed) as exc:
        return await refused(request, db, campaign_id, exc)
    await announce_change(db, c)
    if done:
        flash(request, done.format(name=c.name), "success")
    return after_change(request, go_to or f"/campaigns/{c.id}")


class CampaignsController(Controller):
    path = "/campaigns"

    @get("/", name="campaigns")
    async def index(
        self, request: HTMXRequest, db: Db, status: FromQuery[str | None] = None, cursor: FromQuery[str | None] = None
    ) -> Template:
        status = status if status in STATUSES else ""
        found = await listing.find_campaigns(db, status=status or None, limit=PAGE_SIZE, cursor=_cursor(cursor))
        context = {
            "found": found,
            "params": {"status": status},
            "cursor": cursor or "",
            "statuses": STATUSES,
            "rates": rates,
            "timing": timing,
        }
        headers = {"Vary": "HX-Request, HX-Target"}
        if request.htmx.target == "campaign-table" and not request.htmx.history_restore_request:
            return Template("campaigns/_table.html", context=context, headers=headers)
        return Template("campaigns/index.html", context=context, headers=headers)

    @get("/{campaign_id:int}")
    async def show(
        self,
        db: Db,
        campaign_id: FromPath[int],
        delivery_status: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template | Redirect:
        c = await campaigns.get_campaign(db, campaign_id)
        if (elsewhere := _reported_elsewhere(c)) is not None:
            return Redirect(elsewhere)
        return await _page(db, c, delivery_status=delivery_status, cursor=cursor)

    @get("/{campaign_id:int}/counters")
    async def counters(self, db: Db, campaign_id: FromPath[int]) -> Template:
        c = await campaigns.get_campaign(db, campaign_id)
        return Template("campaigns/_counters.html", context={"c": c, "counters": counters(c)})

    @get("/{campaign_id:int}/deliveries")
    async def deliveries(
        self,
        db: Db,
        campaign_id: FromPath[int],
        delivery_status: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        c = await campaigns.get_campaign(db, campaign_id)
        return Template(
            "campaigns/_deliveries.html", context={"deliveries": await _deliveries(db, c, delivery_status, cursor)}
        )

    @post("/{campaign_id:int}/send")
    async def send(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        async def checked_then_sent() -> Campaign:
            await check_before_sending(db, campaign_id)
            return await campaigns.send_now(db, campaign_id)

        return await _act(request, db, campaign_id, checked_then_sent)

    @post("/{campaign_id:int}/pause")
    async def pause(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        return await _act(
            request,
            db,
            campaign_id,
            lambda: campaigns.pause(db, campaign_id),
            "Paused '{name}'. Resume to send to the rest.",
        )

    @post("/{campaign_id:int}/resume")
    async def resume(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        return await _act(request, db, campaign_id, lambda: campaigns.resume(db, campaign_id))

    @post("/{campaign_id:int}/cancel")
    async def cancel(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        return await _act(request, db, campaign_id, lambda: campaigns.cancel(db, campaign_id), "Cancelled '{name}'.")

    @post("/{campaign_id:int}/edit")
    async def edit(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        """Open in the wizard (a scheduled campaign goes back to draft first)."""
        return await _act(
            request,
            db,
            campaign_id,
            lambda: campaigns.open_for_editing(db, campaign_id),
            "Editing '{name}'. It stays a draft until you send or schedule it.",
            go_to=f"/campaigns/{campaign_id}/details",
        )

    @post("/{campaign_id:int}/duplicate")
    async def duplicate(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        copy = await campaigns.duplicate(db, campaign_id, created_by=request.user.name)
        tested = await abtests.copy_test(db, campaign_id, copy.id) is not None
        same = "content, lists and A/B test" if tested else "content and lists"
        flash(request, f"Created '{copy.name}' as a draft with the same {same}.", "success")
        return after_change(request, f"/campaigns/{copy.id}/details")

    @post("/{campaign_id:int}/resend")
    async def resend(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        copy = await campaigns.resend_to_non_openers(db, campaign_id, created_by=request.user.name)
        flash(
            request,
            f"Created '{copy.name}' as a draft for those who have not opened the campaign. "
            "A new subject line often helps; then send it.",
            "success",
        )
        return after_change(request, f"/campaigns/{copy.id}/details")

    @post("/{campaign_id:int}/archive")
    async def archive(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        form = await request.form()
        c = await archive.set_archived(db, campaign_id, {"archive": form.get("archive") == "on"})
        if not c.settings["archive"]:
            flash(request, f"'{c.name}' is no longer in the public archive.", "success")
        elif c.status == CampaignStatus.SENT.value:
            flash(request, f"'{c.name}' is in the public archive.", "success")
        else:
            flash(request, f"'{c.name}' goes in the public archive once it is sent.", "success")
        return after_change(request, f"/campaigns/{c.id}")

    @post("/{campaign_id:int}/delete")
    async def delete(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        c = await campaigns.get_campaign(db, campaign_id)
        try:
            await campaigns.delete_campaign(db, campaign_id)
        except Conflict as exc:
            return await refused(request, db, campaign_id, exc)
        flash(request, f"Deleted '{c.name}'.", "success")
        return after_change(request, "/campaigns")
