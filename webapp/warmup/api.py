"""JSON API under /api/warmup-plans: warm-up plans and where each stands today, their changes and
releasing a held plan. Viewer keys read, editor keys change."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post, put
from litestar.params import JSONBody

from webapp.core.api import error_responses, id_parameter, sent_object
from webapp.core.deps import Db
from webapp.core.http import StaffRequest
from webapp.warmup import service as warmup
from webapp.warmup.models import WarmupPlan
from webapp.warmup.schemas import PlanInput, PlanOut
from webapp.warmup.service import holds, overview

PlanId = Annotated[int, id_parameter("Warm-up plan id.")]
PLAN_FIELDS = (
    "`scope`: smtp_server (with `smtp_server_id`), provider (with `provider_id`) or from_domain (with "
    "`from_domain`); one plan each. `daily_limits`: 30 whole numbers, day 1 (`starts_on`, a UTC day) "
    "first. `bounce_threshold` and `complaint_threshold` in percent; they hold the plan back once "
    "`min_sample` messages went."
)


async def plan_out(plan: WarmupPlan) -> PlanOut:
    today = await overview.plan_today(plan)
    return PlanOut(
        id=plan.id,
        name=plan.name,
        scope=plan.scope,
        smtp_server_id=plan.smtp_server_id,
        provider_id=plan.provider_id,
        from_domain=plan.from_domain,
        starts_on=plan.starts_on,
        daily_limits=list(plan.daily_limits),
        bounce_threshold=plan.bounce_threshold,
        complaint_threshold=plan.complaint_threshold,
        min_sample=plan.min_sample,
        is_active=plan.is_active,
        state=today.state,
        day=today.day,
        limit_today=today.limit,
        sent_today=today.counted,
        held_at=plan.held_at,
        held_reason=plan.held_reason,
        released_at=plan.released_at,
        released_by=plan.released_by,
        created_at=plan.created_at,
    )


class ApiWarmupController(Controller):
    path = "/warmup-plans"
    tags = ("warmup",)

    @get("/", summary="List warm-up plans", responses=error_responses())
    async def list_plans(self, db: Db) -> list[PlanOut]:
        return [await plan_out(plan) for plan in await warmup.list_plans(db)]

    @post(
        "/",
        summary="Create a warm-up plan",
        status_code=201,
        responses=error_responses(422),
        description=PLAN_FIELDS,
    )
    async def create_plan(self, request: StaffRequest, data: JSONBody[PlanInput], db: Db) -> PlanOut:
        return await plan_out(await warmup.create_plan(db, await sent_object(request)))

    @get("/{plan_id:int}", summary="A warm-up plan and where it stands today", responses=error_responses(404))
    async def get_plan(self, db: Db, plan_id: PlanId) -> PlanOut:
        return await plan_out(await warmup.get_plan(db, plan_id))

    @put(
        "/{plan_id:int}", summary="Replace a warm-up plan", responses=error_responses(404, 422), description=PLAN_FIELDS
    )
    async def update_plan(self, request: StaffRequest, data: JSONBody[PlanInput], db: Db, plan_id: PlanId) -> PlanOut:
        return await plan_out(await warmup.update_plan(db, plan_id, await sent_object(request)))

    @post(
        "/{plan_id:int}/release",
        summary="Release a held warm-up plan",
        status_code=200,
        responses=error_responses(404, 409),
        description="Mail goes under the plan again; its bounce and complaint rates are counted afresh from now.",
    )
    async def release(self, request: StaffRequest, db: Db, plan_id: PlanId) -> PlanOut:
        return await plan_out(await holds.release(db, plan_id, request.user.name))

    @delete("/{plan_id:int}", summary="Delete a warm-up plan", responses=error_responses(404))
    async def delete_plan(self, db: Db, plan_id: PlanId) -> None:
        await warmup.delete_plan(db, plan_id)
