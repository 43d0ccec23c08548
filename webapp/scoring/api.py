"""JSON API under /api/scoring (seed 004's shapes): rules CRUD, a contact's score, history, points,
manual stage and recalculation, recalculating everyone (by a worker), the leaderboard and the
lifecycle distribution. Editor keys change, viewer keys read."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.exceptions import ValidationException
from litestar.params import JSONBody, Parameter

from webapp.core.api import Cursor, checked_cursor, error_responses, id_parameter, sent_object
from webapp.core.deps import Db
from webapp.core.http import StaffRequest
from webapp.scoring import actors
from webapp.scoring import service as scoring
from webapp.scoring.models import GRADES, STAGES, ScoreHistory, ScoringRule
from webapp.scoring.schemas import (
    HistoryOut,
    HistoryPageOut,
    LeaderboardPageOut,
    LeaderOut,
    LifecycleOut,
    PointsIn,
    RecalculationOut,
    RuleIn,
    RuleOut,
    RuleUpdate,
    ScoreOut,
    StageCount,
    StageIn,
)
from webapp.scoring.service import rules

RuleId = Annotated[int, id_parameter("Scoring rule id.")]
ContactId = Annotated[int, id_parameter("Contact id.")]
Limit = Annotated[int, Parameter(ge=1, le=500, description="Items per page, 1 to 500.")]


def rule_out(rule: ScoringRule) -> RuleOut:
    return RuleOut(
        id=rule.id,
        name=rule.name,
        event=rule.event,
        event_name=rule.event_name,
        link_url=rule.link_url,
        points=rule.points,
        daily_limit=rule.daily_limit,
        enabled=rule.enabled,
        created_at=rule.created_at,
        updated_at=rule.updated_at,
    )


def score_out(score: scoring.Score) -> ScoreOut:
    return ScoreOut(
        contact_id=score.contact_id,
        score=score.score,
        grade=score.grade,
        lifecycle_stage=score.stage,
        stage_override=score.stage_override,
        engagement=score.engagement,
        adjustments=score.adjustments,
        completeness=score.completeness,
        recency=score.recency,
        last_activity_at=score.last_activity_at,
        updated_at=score.updated_at,
    )


def history_out(row: ScoreHistory) -> HistoryOut:
    return HistoryOut(
        id=row.id,
        at=row.at,
        score=row.score,
        change=row.change,
        grade=row.grade,
        lifecycle_stage=row.stage,
        reason=row.reason,
    )


class ApiScoringController(Controller):
    path = "/scoring"
    tags = ("scoring",)

    @get("/rules", summary="List scoring rules", responses=error_responses())
    async def list_rules(self, db: Db) -> list[RuleOut]:
        return [rule_out(rule) for rule in await rules.all_rules(db)]

    @post(
        "/rules",
        summary="Create a scoring rule",
        status_code=201,
        responses=error_responses(422),
        description="`event`: open, click, form (a sign-up form sent), confirmed (a subscription confirmed) or "
        "custom (with `event_name`); a click rule may name a `link_url`. `points` from -1000 to 1000, not 0. "
        "`daily_limit`: the times a contact earns it per UTC day at most (null: no limit). Scores follow "
        "at each contact's next event or recalculation.",
    )
    async def create_rule(self, request: StaffRequest, data: JSONBody[RuleIn], db: Db) -> RuleOut:
        return rule_out(await rules.create(db, await sent_object(request)))

    @get("/rules/{rule_id:int}", summary="A scoring rule", responses=error_responses(404))
    async def get_rule(self, db: Db, rule_id: RuleId) -> RuleOut:
        return rule_out(await rules.get(db, rule_id))

    @patch(
        "/rules/{rule_id:int}",
        summary="Change a scoring rule",
        responses=error_responses(404, 422),
        description="Only the fields sent change; null clears event_name, link_url or daily_limit.",
    )
    async def update_rule(self, request: StaffRequest, data: JSONBody[RuleUpdate], db: Db, rule_id: RuleId) -> RuleOut:
        return rule_out(await rules.update(db, rule_id, await sent_object(request)))

    @delete("/rules/{rule_id:int}", summary="Delete a scoring rule", responses=error_responses(404))
    async def delete_rule(self, db: Db, rule_id: RuleId) -> None:
        await rules.delete(db, rule_id)

    @get(
        "/contacts/{contact_id:int}",
        summary="A contact's score",
        responses=error_responses(404),
        description="score = engagement + adjustments + completeness (0-20) + recency (0-20); its grade and "
        "lifecycle stage (`stage_override`: the stage set by hand, which sticks until cleared).",
    )
    async def contact_score(self, db: Db, contact_id: ContactId) -> ScoreOut:
        return score_out(await scoring.score_of(db, contact_id))

    @get(
        "/contacts/{contact_id:int}/history",
        summary="A contact's score history",
        responses=error_responses(404),
        description="Each change of score, grade or stage with its reason, latest first, 50 at a time; "
        "`next_cursor` as `cursor` for the next page.",
    )
    async def contact_history(self, db: Db, contact_id: ContactId, cursor: Cursor = None) -> HistoryPageOut:
        page = await scoring.history(db, contact_id, checked_cursor(cursor, scoring.is_history_cursor))
        return HistoryPageOut(items=[history_out(row) for row in page.changes], next_cursor=page.next_cursor)

    @post(
        "/contacts/{contact_id:int}/recalculate",
        summary="Recalculate a contact's score now",
        status_code=200,
        responses=error_responses(404),
    )
    async def recalculate_contact(self, request: StaffRequest, db: Db, contact_id: ContactId) -> ScoreOut:
        await scoring.recalculate(db, contact_id, f"Recalculated by {request.user.name}")
        return score_out(await scoring.score_of(db, contact_id))

    @post(
        "/contacts/{contact_id:int}/points",
        summary="Give or take points",
        status_code=200,
        responses=error_responses(404, 422),
        description="`points` (negative to take some away), kept through every recalculation, with a `reason` "
        "shown in the history.",
    )
    async def give_points(
        self, request: StaffRequest, data: JSONBody[PointsIn], db: Db, contact_id: ContactId
    ) -> ScoreOut:
        await scoring.give_points(db, contact_id, await sent_object(request))
        return score_out(await scoring.score_of(db, contact_id))

    @put(
        "/contacts/{contact_id:int}/stage",
        summary="Set or clear a contact's lifecycle stage by hand",
        responses=error_responses(404, 422),
        description="`stage`: " + ", ".join(STAGES) + "; it sticks until cleared with null.",
    )
    async def set_stage(
        self, request: StaffRequest, data: JSONBody[StageIn], db: Db, contact_id: ContactId
    ) -> ScoreOut:
        await scoring.set_stage(db, contact_id, await sent_object(request), request.user.name)
        return score_out(await scoring.score_of(db, contact_id))

    @post(
        "/recalculate",
        summary="Recalculate every contact's score",
        status_code=202,
        responses=error_responses(),
        description="A worker recomputes every score from scratch, as it does each night.",
    )
    async def recalculate_all(self) -> RecalculationOut:
        actors.recompute_scores.send()
        return RecalculationOut(queued=True)

    @get(
        "/leaderboard",
        summary="The highest scores",
        responses=error_responses(),
        description="Highest first, `limit` at a time; `next_cursor` as `cursor` for the next page. Filter by "
        "`stage` or `grade`.",
    )
    async def leaderboard(
        self,
        db: Db,
        cursor: Cursor = None,
        limit: Limit = 50,
        stage: Annotated[str | None, Parameter(description="A lifecycle stage.")] = None,
        grade: Annotated[str | None, Parameter(description="A grade, such as A+.")] = None,
    ) -> LeaderboardPageOut:
        after = scoring.leaderboard_key(checked_cursor(cursor, scoring.is_leaderboard_cursor))
        page = await scoring.leaderboard(
            db, after, _one_of(stage, STAGES, "stage"), _one_of(grade, GRADES, "grade"), limit
        )
        items = [
            LeaderOut(
                contact_id=contact.id,
                email=contact.email,
                name=f"{contact.first_name} {contact.last_name}".strip(),
                score=score.score,
                grade=score.grade,
                lifecycle_stage=score.stage,
            )
            for score, contact in page.rows
        ]
        return LeaderboardPageOut(items=items, next_cursor=page.next_cursor)

    @get("/lifecycle", summary="Contacts per lifecycle stage", responses=error_responses())
    async def lifecycle(self, db: Db) -> LifecycleOut:
        counts = await scoring.lifecycle(db)
        return LifecycleOut(
            stages=[StageCount(stage=stage, contacts=n) for stage, n in counts.items()], total=sum(counts.values())
        )


def _one_of(value: str | None, choices: tuple[str, ...], name: str) -> str | None:
    """A filter's value, or a 400 naming the parameter."""
    if value is None or value in choices:
        return value
    raise ValidationException(
        "The request is not valid.", extra=[{"key": name, "message": f"One of: {', '.join(choices)}."}]
    )
