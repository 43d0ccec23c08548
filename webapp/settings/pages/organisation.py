"""Staff UI: the organisation's sender details and DKIM signing key (admins only)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from litestar import Controller, get, post
from litestar.plugins.flash import flash
from litestar.response import Template

from webapp.core.access import ADMIN_ONLY
from webapp.core.deps import Db
from webapp.core.errors import ValidationFailed
from webapp.core.forms import after_change, first, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.settings.service import organisation as org_settings
from webapp.settings.service.organisation import OrgSettings

# The fields shown back as typed (never the pasted key).
FIELDS = [
    "organisation_name",
    "postal_address",
    "default_from_name",
    "default_from_email",
    "unsubscribe_mailto",
    "dkim_domain",
    "dkim_selector",
    "subscription_topics",
]


def _page(
    saved: OrgSettings,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
    *,
    confirm_replace: bool = False,
) -> Template:
    """The form; `saved` (what is stored) decides what the DKIM section says, `values` what the fields
    show; `confirm_replace`: "Generate key pair" was pressed while a key is saved, and is asked again."""
    context = {"saved": saved, "values": values, "errors": errors, "confirm_replace": confirm_replace}
    return Template("settings/organisation/index.html", context=context, status_code=status_code)


class OrgSettingsController(Controller):
    path = "/settings/organisation"
    opt = ADMIN_ONLY  # every handler here, including ones added later

    @get("/", name="org_settings")
    async def show(self, db: Db) -> Template:
        saved = await org_settings.load(db)
        return _page(saved, {**asdict(saved), "subscription_topics": ", ".join(saved.subscription_topics)}, {})

    @post("/")
    async def save(self, request: StaffRequest, db: Db) -> AnyResponse:
        form = await read_form(request)
        typed = {name: first(form, name) for name in FIELDS}
        data = typed | {
            "dkim_private_key": first(form, "dkim_private_key"),
            "dkim_remove_key": "dkim_remove_key" in form,
        }
        try:
            await org_settings.update(db, data)
        except ValidationFailed as exc:
            return _page(await org_settings.load(db), typed, exc.errors, status_code=422)
        flash(request, "Organisation settings saved.", "success")
        return after_change(request, "/settings/organisation")

    @post("/dkim-key")
    async def generate_dkim_key(self, request: StaffRequest, db: Db) -> AnyResponse:
        """The form's "Generate key pair": what was typed is saved with the new key (the domain and
        selector typed for it, first of all). Replacing a saved key is asked again first."""
        form = await read_form(request)
        typed = {name: first(form, name) for name in FIELDS if name in form}
        saved = await org_settings.load(db)
        if saved.dkim_private_key and first(form, "replace_key") != "yes":
            shown = {**asdict(saved), "subscription_topics": ", ".join(saved.subscription_topics)} | typed
            return _page(saved, shown, {}, status_code=409, confirm_replace=True)
        try:
            await org_settings.update(db, typed | {"dkim_private_key": org_settings.new_dkim_key()})
        except ValidationFailed as exc:
            return _page(saved, typed, exc.errors, status_code=422)
        flash(
            request,
            "New DKIM key generated. Publish the DNS record below before sending; "
            "until then receivers cannot verify the signatures.",
            "success",
        )
        return after_change(request, "/settings/organisation#dkim")
