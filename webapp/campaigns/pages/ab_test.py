"""Staff UI: the wizard's optional A/B test step (/campaigns/{id}/ab-test). A marketer turns a draft
into a test of 2 to 8 variants, or back into a plain campaign. The form is loaded through the API's
own schema (AbTestCreate) by the A/B test service, so its errors are named as the API names them
(`variants.1.subject`), which are the form's field names too.

"Add a variant" and "Remove" are submit buttons that redraw the form with what was typed, so the
rows work without JavaScript; with HTMX (hx-boost) only the page body is swapped.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.abtests import service as abtests
from webapp.abtests.models import MAX_VARIANTS, MIN_VARIANTS, AbTest, AbVariant, Criterion, Fallback
from webapp.abtests.schemas import (
    DEFAULT_CONFIDENCE_LEVEL,
    DEFAULT_TEST_PERCENT,
    DEFAULT_WAIT_MINUTES,
    LABEL_LENGTH,
    OVERRIDES,
    SETTINGS,
    VARIANTS_COUNT,
)
from webapp.abtests.service import sending
from webapp.campaigns.models import Campaign
from webapp.campaigns.pages.wizard import STEP_LABELS, STEPS
from webapp.campaigns.service import campaigns
from webapp.core.access import EDITORS_ONLY
from webapp.core.deps import Db
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.forms import FormFields, after_change, field_errors, first, read_form
from webapp.core.http import AnyResponse

STEP = "ab-test"
CRITERION_LABELS = {
    Criterion.HUMAN_OPENS.value: "Unique human opens (machine opens left out)",
    Criterion.CLICKS.value: "Unique clicks",
    Criterion.REVENUE.value: "Revenue",
    Criterion.MANUAL.value: "I choose the winner myself",
}
FALLBACK_LABELS = {
    Fallback.CONTROL.value: "Send the control",
    Fallback.LEADER.value: "Send the leader anyway",
}
ROW_LABEL = re.compile(r"variants\.([0-9]{1,2})\.label")
LETTERS = "ABCDEFGH"


def _blank_variant(index: int, *, control: bool = False) -> dict[str, Any]:
    return {"label": LETTERS[index], "is_control": control, **dict.fromkeys(OVERRIDES, "")}


def _defaults() -> dict[str, Any]:
    return {
        "variants": [_blank_variant(0, control=True), _blank_variant(1)],
        "test_percent": DEFAULT_TEST_PERCENT,
        "wait_minutes": DEFAULT_WAIT_MINUTES,
        "criterion": Criterion.HUMAN_OPENS.value,
        "confidence_level": DEFAULT_CONFIDENCE_LEVEL,
        "fallback": Fallback.CONTROL.value,
    }


def _saved(test: AbTest, variants: list[AbVariant]) -> dict[str, Any]:
    rows = [
        {"label": v.label, "is_control": v.is_control, **{name: getattr(v, name) or "" for name in OVERRIDES}}
        for v in variants
    ]
    return {"variants": rows, **{name: getattr(test, name) for name in SETTINGS}}


def _typed(form: FormFields) -> dict[str, Any]:
    """The form as typed: its variant rows in order (numbered by the page, maybe with gaps after a
    removal), the control as a flag on its row, and the test's settings."""
    rows = sorted({int(m[1]) for key in form if (m := ROW_LABEL.fullmatch(key))})  # too many: the schema says so
    control = first(form, "control")
    variants = [
        {
            "label": first(form, f"variants.{i}.label"),
            "is_control": control == str(i),
            **{name: first(form, f"variants.{i}.{name}").replace("\r\n", "\n") for name in OVERRIDES},
        }
        for i in rows
    ]
    return {"variants": variants, **{name: first(form, name) for name in SETTINGS}}


def _as_sent(values: dict[str, Any]) -> dict[str, Any]:
    """What the schema loads: an override left blank is the campaign's own, so it is left out."""
    variants = [{name: value for name, value in row.items() if value or name == "label"} for row in values["variants"]]
    return {**values, "variants": variants}


def _changed_rows(values: dict[str, Any], go: str) -> tuple[dict[str, Any], str] | None:
    """The rows after "Add a variant" or "Remove", and the field focus goes to (the new row's label,
    or the label of the row that moved into the removed one's place, else of the one before it);
    None when the button was neither."""
    rows = list(values["variants"])
    if go == "add" and len(rows) < MAX_VARIANTS:
        taken = {row["label"] for row in rows}
        rows.append(_blank_variant(len(rows)) | {"label": next((x for x in LETTERS if x not in taken), "")})
        focus = len(rows) - 1
    elif go.startswith("remove-") and go[7:].isdigit() and int(go[7:]) < len(rows) and len(rows) > MIN_VARIANTS:
        removed = rows.pop(int(go[7:]))
        if removed["is_control"]:
            rows[0] = rows[0] | {"is_control": True}
        focus = min(int(go[7:]), len(rows) - 1)
    else:
        return None
    return {**values, "variants": rows}, f"variants-{focus}-label"


async def _page(
    db: AsyncSession,
    c: Campaign,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    focus: str = "",
) -> Template:
    context = {
        "focus": focus,
        "c": c,
        "step": STEP,
        "steps": STEPS,
        "here": STEPS.index("review"),
        "labels": STEP_LABELS,
        "values": values,
        "errors": errors or {},
        "has_test": await abtests.test_of_campaign(db, c.id) is not None,
        "criteria": list(CRITERION_LABELS.items()),
        "fallbacks": list(FALLBACK_LABELS.items()),
        "label_length": LABEL_LENGTH,
        "min_variants": MIN_VARIANTS,
        "max_variants": MAX_VARIANTS,
    }
    return Template("campaigns/step_ab_test.html", context=context, status_code=status_code)


def _variant_id(chosen: str) -> int | str:
    """The chosen variant's id as a number; anything else is left for the schema to refuse."""
    return int(chosen) if chosen.isdigit() and len(chosen) < 19 else chosen


class CampaignAbTestController(Controller):
    path = "/campaigns/{campaign_id:int}/ab-test"

    @get("/", opt=EDITORS_ONLY)
    async def show(self, db: Db, campaign_id: FromPath[int]) -> Template:
        c = await campaigns.get_draft(db, campaign_id)
        found = await abtests.test_of_campaign(db, c.id)
        return await _page(db, c, _saved(*found) if found else _defaults())

    @post("/")
    async def save(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        form = await read_form(request)
        c = await campaigns.get_draft(db, campaign_id)
        values, go = _typed(form), first(form, "go")
        if go == "add" and len(values["variants"]) >= MAX_VARIANTS:  # the page offers no button then
            return await _page(db, c, values, {"variants": VARIANTS_COUNT}, 422)
        if (changed := _changed_rows(values, go)) is not None:
            return await _page(db, c, changed[0], focus=changed[1])
        try:
            await abtests.save_test(db, c.id, _as_sent(values))
        except (ValidationFailed, Conflict) as exc:
            await db.rollback()
            c = await campaigns.get_draft(db, campaign_id)
            return await _page(db, c, values, field_errors(exc), 409 if isinstance(exc, Conflict) else 422)
        flash(request, f"Saved the A/B test of {len(values['variants'])} variants.", "success")
        return after_change(request, f"/campaigns/{c.id}/review")

    @post("/winner")
    async def choose_winner(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        """A person's choice, from the report, once the test share is sent (whatever the criterion)."""
        report = f"/campaigns/{campaign_id}/report#report-ab-test"
        found = await abtests.test_of_campaign(db, (await campaigns.get_campaign(db, campaign_id)).id)
        if found is None:
            raise NotFound("This campaign is not an A/B test.")
        test, variants = found
        chosen = first(await read_form(request), "variant_id")
        try:
            await sending.choose_winner(db, test.id, {"variant_id": _variant_id(chosen)}, request.user.name)
        except (ValidationFailed, Conflict) as exc:
            why = " ".join(exc.errors.values()) if isinstance(exc, ValidationFailed) else exc.message
            flash(request, f"No winner was chosen. {why}", "error")
            return after_change(request, report)
        label = next(v.label for v in variants if str(v.id) == chosen)
        flash(request, f"{label} is the winner: it goes to the rest of the audience within a minute.", "success")
        return after_change(request, report)

    @post("/delete")
    async def delete(self, request: HTMXRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        c = await campaigns.get_draft(db, campaign_id)
        found = await abtests.test_of_campaign(db, c.id)
        if found is not None:
            await abtests.delete_test(db, found[0].id)
        flash(request, "Removed the A/B test: this is a plain campaign again.", "success")
        return after_change(request, f"/campaigns/{c.id}/review")
