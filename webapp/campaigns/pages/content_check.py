"""Staff UI: the content check on the wizard's review step, and its settings page. The review
step shows the check of the current content at once when it was made already; otherwise its card
asks for it as the page opens (SpamAssassin and DNS can take seconds), and the page reloads when the
check blocks sending, so that its send buttons say so. "Check again" makes a new one (after fixing
DNS records, say); an admin may let a campaign over the threshold go out anyway, which is recorded
with their name and the time and shown on the campaign."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.plugins.htmx import ClientRefresh, HTMXRequest
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign
from webapp.campaigns.service import campaigns
from webapp.campaigns.service import content_check as kept
from webapp.campaigns.service.content_check import Verdict
from webapp.core.access import ADMIN_ONLY, EDITORS_ONLY
from webapp.core.api import creator
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.forms import after_change, first, read_form
from webapp.core.http import AnyResponse
from webapp.delivery.content_check.campaigns import check_campaign


async def review_check(db: AsyncSession, c: Campaign, *, again: bool = False) -> Verdict | str:
    """The check the review step shows, or why the content cannot be checked: it does not render
    as it would be sent (a syntax error, or a limit only the sent message passes, its footer and
    tracking added)."""
    try:
        return await check_campaign(db, c, again=again)
    except ValidationFailed as failed:
        return " ".join(failed.errors.values())


class CampaignContentCheckController(Controller):
    path = "/campaigns"

    @get("/{campaign_id:int}/review/check", opt=EDITORS_ONLY)
    async def card(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> Template | ClientRefresh:
        """The review step's content check card, checked now if this content never was."""
        try:
            c = await campaigns.get_draft(db, campaign_id)
        except (NotFound, Conflict):
            if request.htmx:  # sent or deleted meanwhile: the page says so once it reloads
                return ClientRefresh()
            raise
        found = await review_check(db, c)
        await db.commit()  # kept before the page reloads to show it
        if isinstance(found, str):
            return Template("campaigns/_content_check.html", context={"check": None, "unrendered": found, "c": c})
        if found.blocks:
            return ClientRefresh()  # the page showed its send buttons usable
        return Template("campaigns/_content_check.html", context={"check": found, "c": c})

    @post("/{campaign_id:int}/review/check")
    async def check_again(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        c = await campaigns.get_draft(db, campaign_id)
        found = await review_check(db, c, again=True)
        if isinstance(found, str):
            flash(request, f"The content cannot be checked: {found}", "error")
        else:
            flash(request, f"Checked again: the content scores {found.report['score']:g}.", "success")
        return after_change(request, f"/campaigns/{campaign_id}/review")

    @post("/{campaign_id:int}/review/override", opt=ADMIN_ONLY)
    async def override(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        try:
            c = await kept.override(db, campaign_id, creator(request.user))
        except Conflict as exc:
            flash(request, exc.message, "error")
        else:
            flash(request, f"'{c.name}' may go out despite its content check score; this is recorded.", "success")
        return after_change(request, f"/campaigns/{campaign_id}/review")


SETTINGS_URL = "/settings/content-check"


async def _settings_page(
    db: AsyncSession, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Template:
    configured = get_settings().content_check
    context = {"values": values, "errors": errors, "configured": configured}
    return Template("campaigns/content_check_settings.html", context=context, status_code=status_code)


class ContentCheckSettingsController(Controller):
    """Settings → Content check (admins only): the score at which sending is blocked, and where
    SpamAssassin and DNS are asked (set in the environment, shown here)."""

    path = SETTINGS_URL
    opt = ADMIN_ONLY

    @get("/", name="content_check_settings")
    async def show(self, db: Db) -> Template:
        return await _settings_page(db, {"threshold": await kept.threshold(db)}, {})

    @post("/")
    async def save(self, request: HTMXRequest, db: Db) -> AnyResponse:
        typed = {"threshold": first(await read_form(request), "threshold")}
        try:
            await kept.save_threshold(db, typed)
        except ValidationFailed as exc:
            return await _settings_page(db, typed, exc.errors, status_code=422)
        flash(request, "Content check settings saved.", "success")
        return after_change(request, SETTINGS_URL)
