"""Staff UI: routing rules (admins only): which transports take which messages, with weights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import ADMIN_ONLY
from webapp.core.deps import Db
from webapp.core.errors import ValidationFailed
from webapp.core.forms import FormFields, after_change, field_errors, first, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.routing.models import RoutingRule
from webapp.routing.schemas import DOMAIN_GROUPS, MAX_TARGETS, MESSAGE_KINDS
from webapp.routing.service import rules
from webapp.routing.service.transports import switched_off, transport_names

BLANK_ROWS = 3  # empty transport rows offered under the rule's own (no script needed to add one)
NEW_RULE: dict[str, Any] = {
    "name": "",
    "domains": "",
    "kinds": [],
    "campaign_id": "",
    "position": 100,
    "is_active": True,
}


@dataclass
class _Sent:
    data: dict[str, Any]  # RuleInput's shape
    rows: list[dict[str, Any]]  # the transport rows as sent, to show again
    kept: list[int]  # the row of each target: rows left empty are no target


def _rule(form: FormFields) -> _Sent:
    pairs = list(zip(form.get("transport", []), form.get("weight", []), strict=False))
    rows = [{"transport": transport, "weight": weight} for transport, weight in pairs]
    kept = [i for i, (transport, weight) in enumerate(pairs) if transport.strip() or weight.strip()]
    data: dict[str, Any] = {name: first(form, name) for name in ("name", "domains", "position")}
    campaign = first(form, "campaign_id").strip()
    data |= {
        "kinds": form.get("kinds", []),
        "campaign_id": campaign or None,
        "targets": [rows[i] for i in kept],
        "is_active": "is_active" in form,
    }
    return _Sent(data, rows, kept)


def _errors_by_row(errors: dict[str, str], kept: list[int]) -> dict[str, str]:
    """targets.<n>.<field> of the n-th kept target, renamed after its form row."""
    renamed = {}
    for name, message in errors.items():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "targets" and parts[1].isdigit():
            name = f"targets.{kept[int(parts[1])]}.{parts[2]}"
        renamed[name] = message
    return renamed


async def _form(
    db: AsyncSession,
    rule: RoutingRule | None,
    values: dict[str, Any],
    targets: list[dict[str, Any]],
    errors: dict[str, str],
    status_code: int = 200,
) -> Template:
    names, off = await transport_names(db), await switched_off(db)
    blank = {"transport": "", "weight": ""}
    rows = [*targets, *(blank for _ in range(BLANK_ROWS))][: max(MAX_TARGETS, len(targets))]
    context = {
        "rule": rule,
        "values": values,
        "rows": rows,
        "errors": errors,
        "transports": [
            ("", "— none —"),
            *((key, name + (" (switched off)" if key in off else "")) for key, name in names.items()),
        ],
        "kinds": MESSAGE_KINDS,
        "groups": DOMAIN_GROUPS,
    }
    return Template("routing/form.html", context=context, status_code=status_code)


def _shown(data: dict[str, Any]) -> dict[str, Any]:
    domains = data["domains"]
    return data | {
        "domains": domains if isinstance(domains, str) else ", ".join(domains),
        "campaign_id": data["campaign_id"] or "",
    }


class RoutingRulesController(Controller):
    path = "/settings/routing"
    opt = ADMIN_ONLY  # every handler here, including ones added later

    @get("/", name="routing_rules")
    async def index(self, db: Db) -> Template:
        context = {
            "rules": await rules.list_rules(db),
            "names": await transport_names(db),
            "off": await switched_off(db),
            "groups": DOMAIN_GROUPS,
        }
        return Template("routing/index.html", context=context)

    @get("/new")
    async def new(self, db: Db) -> Template:
        return await _form(db, None, NEW_RULE, [], {})

    @post("/")
    async def create(self, request: StaffRequest, db: Db) -> AnyResponse:
        sent = _rule(await read_form(request))
        try:
            rule = await rules.create_rule(db, sent.data)
        except ValidationFailed as exc:
            return await _form(
                db, None, _shown(sent.data), sent.rows, _errors_by_row(field_errors(exc), sent.kept), 422
            )
        flash(request, f"Routing rule '{rule.name}' added.", "success")
        return after_change(request, "/settings/routing")

    @get("/{rule_id:int}/edit")
    async def edit(self, db: Db, rule_id: FromPath[int]) -> Template:
        rule = await rules.get_rule(db, rule_id)
        values = {
            "name": rule.name,
            "domains": ", ".join(rule.domains),
            "kinds": rule.kinds,
            "campaign_id": rule.campaign_id or "",
            "position": rule.position,
            "is_active": rule.is_active,
        }
        return await _form(db, rule, values, rule.targets, {})

    @post("/{rule_id:int}/edit")
    async def update(self, request: StaffRequest, db: Db, rule_id: FromPath[int]) -> AnyResponse:
        rule = await rules.get_rule(db, rule_id)
        sent = _rule(await read_form(request))
        try:
            await rules.update_rule(db, rule_id, sent.data)
        except ValidationFailed as exc:
            return await _form(
                db, rule, _shown(sent.data), sent.rows, _errors_by_row(field_errors(exc), sent.kept), 422
            )
        flash(request, f"Routing rule '{rule.name}' saved.", "success")
        return after_change(request, "/settings/routing")

    @get("/{rule_id:int}/delete")
    async def confirm_delete(self, db: Db, rule_id: FromPath[int]) -> Template:
        return Template("routing/delete.html", context={"rule": await rules.get_rule(db, rule_id)})

    @post("/{rule_id:int}/delete")
    async def delete(self, request: StaffRequest, db: Db, rule_id: FromPath[int]) -> AnyResponse:
        rule = await rules.get_rule(db, rule_id)
        await rules.delete_rule(db, rule_id)
        flash(request, f"Routing rule '{rule.name}' deleted.", "success")
        return after_change(request, "/settings/routing")
