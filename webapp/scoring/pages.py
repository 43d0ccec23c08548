"""Staff UI for lead scoring: the leaderboard with the lifecycle distribution (/scoring), a contact's
manual stage (from their page), and the scoring rules page (/scoring/rules): the rules, the
lifecycle thresholds and recalculating every score."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import EDITORS_ONLY, Role
from webapp.core.charts import Chart, Series, bar_chart
from webapp.core.deps import Db
from webapp.core.errors import ValidationFailed
from webapp.core.forms import FormFields, after_change, first, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.scoring import actors
from webapp.scoring import service as scoring
from webapp.scoring.models import GRADES, STAGES, ScoringRule
from webapp.scoring.schemas import EVENT_LABELS, STAGE_LABELS
from webapp.scoring.service import rules, settings

SETTINGS_URL = "/scoring/rules"
VARY = {"Vary": "HX-Request, HX-Target"}  # the leaderboard URL answers with the page or the table only
RULE_FIELDS = ("name", "event", "event_name", "link_url", "points", "daily_limit")


def lifecycle_chart(counts: dict[str, int]) -> Chart:
    return bar_chart(
        "lifecycle-distribution",
        "Contacts per lifecycle stage",
        [STAGE_LABELS[stage] for stage in counts],
        [Series("Contacts", list(counts.values()))],
        heading="Stage",
        shares=True,
    )


class ScoringController(Controller):
    path = "/scoring"

    @get("/", name="scoring")
    async def leaderboard(
        self,
        request: HTMXRequest,
        db: Db,
        cursor: FromQuery[str | None] = None,
        grade: FromQuery[str | None] = None,
        stage: FromQuery[str | None] = None,
    ) -> Template:
        """The leaderboard in keyset pages (a cursor this page did not make is the first page);
        HTMX's pager asks for the table alone."""
        params = {"grade": grade if grade in GRADES else "", "stage": stage if stage in STAGES else ""}
        page = await scoring.leaderboard(
            db, scoring.leaderboard_key(cursor), params["stage"] or None, params["grade"] or None
        )
        context: dict[str, Any] = {"page": page, "params": params, "cursor": cursor, "stages": STAGE_LABELS}
        if request.htmx.target == "leaderboard-results" and not request.htmx.history_restore_request:
            return Template("scoring/_leaderboard.html", context=context, headers=VARY)
        counts = await scoring.lifecycle(db)
        context |= {"grades": GRADES, "chart": lifecycle_chart(counts), "total": sum(counts.values())}
        return Template("scoring/index.html", context=context, headers=VARY)

    @post("/contacts/{contact_id:int}/stage", status_code=200)
    async def set_stage(self, request: StaffRequest, db: Db, contact_id: FromPath[int]) -> AnyResponse:
        form = await read_form(request)
        try:
            await scoring.set_stage(db, contact_id, {"stage": first(form, "stage")}, request.user.name)
        except ValidationFailed as exc:
            flash(request, exc.errors.get("stage", exc.message), "error")
        else:
            flash(request, "Lifecycle stage saved.", "success")
        return after_change(request, f"/contacts/{contact_id}")


def _rule_values(rule: ScoringRule) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in (*RULE_FIELDS, "enabled")}


def _typed_rule(form: FormFields) -> dict[str, Any]:
    """A rule as the form sent it; an unticked box is "no"."""
    return {**{name: first(form, name) for name in RULE_FIELDS}, "enabled": first(form, "enabled") or "no"}


class ScoringRulesController(Controller):
    path = SETTINGS_URL

    async def _page(
        self,
        request: StaffRequest,
        db: AsyncSession,
        *,
        new_rule: dict[str, Any] | None = None,
        thresholds: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        context = {
            "rules": await rules.all_rules(db),
            "new_rule": new_rule or {"enabled": True},
            "thresholds": thresholds or await settings.thresholds(db),
            "errors": errors or {},
            "events": EVENT_LABELS,
            "stages": STAGE_LABELS,
            "can_edit": request.user.can(Role.EDITOR),
        }
        return Template("scoring/rules.html", context=context, status_code=status_code)

    @get("/", name="scoring_rules")
    async def show(self, request: StaffRequest, db: Db) -> Template:
        return await self._page(request, db)

    @post("/", status_code=200)
    async def create_rule(self, request: StaffRequest, db: Db) -> AnyResponse:
        typed = _typed_rule(await read_form(request))
        try:
            rule = await rules.create(db, typed)
        except ValidationFailed as exc:
            return await self._page(request, db, new_rule=typed, errors=exc.errors, status_code=422)
        flash(
            request,
            f"Rule “{rule.name}” added. Scores follow at each contact's next event or recalculation.",
            "success",
        )
        return after_change(request, SETTINGS_URL)

    @get("/{rule_id:int}/edit", opt=EDITORS_ONLY)
    async def edit_rule(self, db: Db, rule_id: FromPath[int]) -> Template:
        rule = await rules.get(db, rule_id)
        return self._rule_form(rule, _rule_values(rule), {})

    @post("/{rule_id:int}/edit", status_code=200)
    async def update_rule(self, request: StaffRequest, db: Db, rule_id: FromPath[int]) -> AnyResponse:
        rule = await rules.get(db, rule_id)
        typed = _typed_rule(await read_form(request))
        try:
            await rules.update(db, rule_id, typed)
        except ValidationFailed as exc:
            return self._rule_form(rule, typed, exc.errors, status_code=422)
        flash(request, f"Rule “{typed['name']}” saved.", "success")
        return after_change(request, SETTINGS_URL)

    def _rule_form(
        self, rule: ScoringRule, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
    ) -> Template:
        context = {"rule": rule, "values": values, "errors": errors, "events": EVENT_LABELS}
        return Template("scoring/rule_form.html", context=context, status_code=status_code)

    @post("/{rule_id:int}/delete", status_code=200)
    async def delete_rule(self, request: StaffRequest, db: Db, rule_id: FromPath[int]) -> AnyResponse:
        rule = await rules.get(db, rule_id)
        await rules.delete(db, rule_id)
        flash(request, f"Rule “{rule.name}” deleted.", "success")
        return after_change(request, SETTINGS_URL)

    @post("/thresholds", status_code=200)
    async def save_thresholds(self, request: StaffRequest, db: Db) -> AnyResponse:
        form = await read_form(request)
        typed = {stage: first(form, stage) for stage in STAGES[1:]}
        try:
            await scoring.save_thresholds(db, typed)
        except ValidationFailed as exc:
            return await self._page(request, db, thresholds=typed, errors=exc.errors, status_code=422)
        flash(request, "Lifecycle thresholds saved. Stages follow at the next recalculation.", "success")
        return after_change(request, SETTINGS_URL)

    @post("/recalculate", status_code=200)
    async def recalculate(self, request: StaffRequest) -> AnyResponse:
        actors.recompute_scores.send()
        flash(
            request,
            "Every score is being recalculated by a worker; this takes a minute for a million contacts.",
            "success",
        )
        return after_change(request, SETTINGS_URL)
