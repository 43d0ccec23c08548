"""Staff UI: per-recipient-domain throttles (admins only), with the rate in force now."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import ADMIN_ONLY
from webapp.core.deps import Db
from webapp.core.errors import ValidationFailed
from webapp.core.forms import after_change, field_errors, first, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.core.redis import get_redis
from webapp.routing.schemas import DOMAIN_GROUPS, GROUP_OF_DOMAIN
from webapp.routing.service import throttles
from webapp.routing.service.domain_rates import DomainRates


async def _page(db: AsyncSession, values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    rows = await throttles.list_throttles(db)
    limiter = DomainRates(get_redis(), {t.bucket: t.per_minute for t in rows})
    now = {t.bucket: await limiter.per_minute(t.bucket) for t in rows}
    context = {
        "throttles": rows,
        "now": now,
        "groups": DOMAIN_GROUPS,
        "apart": _counted_apart({t.bucket for t in rows}),
        "values": values,
        "errors": errors,
    }
    return Template("routing/throttles.html", context=context, status_code=status_code)


def _counted_apart(buckets: set[str]) -> dict[str, str]:
    """Each domain with a throttle of its own whose group has one too: the group it is not counted in."""
    return {b: GROUP_OF_DOMAIN[b] for b in buckets if GROUP_OF_DOMAIN.get(b) in buckets}


class DomainThrottlesController(Controller):
    path = "/settings/throttles"
    opt = ADMIN_ONLY  # every handler here, including ones added later

    @get("/", name="domain_throttles")
    async def index(self, db: Db) -> Template:
        return await _page(db, {"bucket": "", "per_minute": ""}, {})

    @post("/")
    async def save(self, request: StaffRequest, db: Db) -> AnyResponse:
        form = await read_form(request)
        data = {"bucket": first(form, "bucket"), "per_minute": first(form, "per_minute")}
        try:
            await throttles.save_throttle(db, data)
        except ValidationFailed as exc:
            return await _page(db, data, field_errors(exc), status_code=422)
        bucket = data["bucket"].strip().lower()
        saved = f"{bucket}: at most {int(data['per_minute']):,} messages a minute"
        if group := _counted_apart({t.bucket for t in await throttles.list_throttles(db)}).get(bucket):
            saved += f", counted on its own: its messages no longer count in the {group} group's throttle"
        flash(request, saved + ".", "success")
        return after_change(request, "/settings/throttles")

    @post("/{throttle_id:int}/delete")
    async def delete(self, request: StaffRequest, db: Db, throttle_id: FromPath[int]) -> AnyResponse:
        await throttles.delete_throttle(db, throttle_id)
        flash(request, "Throttle removed: that domain is no longer held back.", "success")
        return after_change(request, "/settings/throttles")
