"""Settings → Conversions against the real server: an admin sets the attribution window (mistakes
next to the field), sees the pixel's signing key (encrypted at rest) with an example URL, and
replaces the key, after which URLs signed with the old one are refused. Editors and viewers never
see the page. (test_roles.py and test_csrf.py sweep its routes too.)"""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
from sqlalchemy import select

from tests.support.conversions import sent_to
from webapp.conversions.service import settings as conversion_settings
from webapp.settings.models import AppSetting


def pixel_params(key: str, order_id: str) -> dict[str, str]:
    params = {"order_id": order_id, "email": "ada@example.com", "amount": "10.00", "currency": "EUR"}
    message = "\n".join(params.values()).encode()
    return {**params, "sig": hmac.new(key.encode(), message, hashlib.sha256).hexdigest()}


async def test_an_admin_sets_the_attribution_window(staff, db):
    admin = await staff("admin")
    page = admin.get("/settings/conversions")
    assert page.status_code == 200 and 'name="window_days" type="number" value="7"' in page.text
    assert admin.post("/settings/conversions", data={"window_days": "30"}).status_code == 303
    assert await conversion_settings.window_days(db) == 30
    for wrong in ("0", "91", "a week"):
        refused = admin.post("/settings/conversions", data={"window_days": wrong})
        assert refused.status_code == 422 and 'id="window_days-error"' in refused.text, wrong
    assert await conversion_settings.window_days(db) == 30


async def test_the_signing_key_is_shown_to_admins_kept_encrypted_and_can_be_replaced(staff, db, live_server):
    await sent_to(db, "ada@example.com")
    await db.commit()
    admin = await staff("admin")
    page = admin.get("/settings/conversions").text
    key = await conversion_settings.snippet_key(db)
    assert key in page and f"{live_server}/u/conversion.gif?" in page
    db.expire_all()
    stored = json.dumps((await db.scalars(select(AppSetting.value).where(AppSetting.key == "conversions"))).one())
    assert key not in stored

    assert httpx.get(f"{live_server}/u/conversion.gif", params=pixel_params(key, "O-1")).status_code == 200
    assert admin.post("/settings/conversions/key").status_code == 303
    db.expire_all()
    replaced = await conversion_settings.snippet_key(db)
    assert replaced != key and replaced in admin.get("/settings/conversions").text
    assert httpx.get(f"{live_server}/u/conversion.gif", params=pixel_params(key, "O-2")).status_code == 403
    assert httpx.get(f"{live_server}/u/conversion.gif", params=pixel_params(replaced, "O-2")).status_code == 200


async def test_editors_and_viewers_cannot_see_or_change_the_settings(staff, db):
    for role in ("editor", "viewer"):
        client = await staff(role)
        assert client.get("/settings/conversions").status_code == 403
        assert client.post("/settings/conversions", data={"window_days": "30"}).status_code == 403
        assert client.post("/settings/conversions/key").status_code == 403
