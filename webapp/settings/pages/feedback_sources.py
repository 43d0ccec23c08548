"""Staff UI: Settings → Feedback sources (admins only): the credentials each provider's webhook is
checked with, and the endpoint URL to paste into the provider's console."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.plugins.flash import flash
from litestar.response import Template

from webapp.core.access import ADMIN_ONLY
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.errors import ValidationFailed
from webapp.core.forms import after_change, first, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.settings.service import feedback_sources
from webapp.settings.service.feedback_sources import PATHS, FeedbackSources

# Shown back as typed; secrets never are (blank keeps the saved one).
FIELDS = ["ses_topics", "sendgrid_key", "postmark_user"]
SECRETS = ["postmark_password", "mailgun_key", "generic_secret"]
FLAGS = ["mailgun_remove", "generic_remove"]


def _page(saved: FeedbackSources, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    base = get_settings().server.public_url
    endpoints = {provider: base + path for provider, path in PATHS.items()}
    context = {"saved": saved, "values": values, "errors": errors, "endpoints": endpoints}
    return Template("settings/feedback_sources/index.html", context=context, status_code=status_code)


def _shown(sources: FeedbackSources) -> dict[str, Any]:
    return {
        "ses_topics": "\n".join(sources.ses_topics),
        "sendgrid_key": sources.sendgrid_key,
        "postmark_user": sources.postmark_user,
    }


class FeedbackSourcesController(Controller):
    path = "/settings/feedback-sources"
    opt = ADMIN_ONLY  # every handler here, including ones added later

    @get("/", name="feedback_sources")
    async def show(self, db: Db) -> Template:
        saved = await feedback_sources.load(db)
        return _page(saved, _shown(saved), {})

    @post("/")
    async def save(self, request: StaffRequest, db: Db) -> AnyResponse:
        form = await read_form(request)
        typed = {name: first(form, name) for name in FIELDS}
        data = typed | {name: first(form, name) for name in SECRETS} | {name: name in form for name in FLAGS}
        try:
            await feedback_sources.update(db, data)
        except ValidationFailed as exc:
            return _page(await feedback_sources.load(db), typed, exc.errors, status_code=422)
        flash(request, "Feedback sources saved.", "success")
        return after_change(request, "/settings/feedback-sources")
