"""The engine: run the steps that are due, exactly once each.

A batch is one transaction. It claims due enrolments of active automations (FOR UPDATE SKIP
LOCKED, so parallel workers never hold the same one), exits those whose contact can no longer be
mailed, and runs their steps grouped by (version, step), each group with a few set-based
statements: the step runs are inserted (unique per enrolment and step: a step already run is not
run again), the step's effect is applied to the enrolments whose run is new, and the enrolments
move on. A contact goes on through the following steps in the same batch until it reaches a wait
or the end of the flow (completed); everything is written once at the end of the batch, and
committed with the step runs or not at all.

A wait is a step like the others, run twice: when a contact arrives (its step run is new: unless
its skip_if matches, the contact stays on the wait, due when the wait ends) and when the wait has
ended (the run exists: the contact goes on). Enrolling, or moving to a new version, puts a contact
on its step due at once, so a wait's end is always worked out by the engine, when the contact
arrives.

At every step the flow's goals are checked first (a contact that meets one completes, reason
goal), then the step's skip_if (a contact it matches passes the step without its effect).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.automations.models import EnrolmentStatus, ExitReason, StepOutcome
from webapp.automations.queries import automations as automation_queries
from webapp.automations.queries import engine as queries
from webapp.automations.queries.waits import NOW, due_at, zone_names
from webapp.automations.service import executors  # noqa: F401  (registers the step executors)
from webapp.automations.service.plan import Node, Plan, cached
from webapp.automations.service.steps import EXECUTORS, StepBatch
from webapp.lists.service.audience import rules_condition

MAX_STEPS_PER_BATCH = 50  # steps one contact goes through in one batch; the rest in the next


@dataclass
class Group:
    """Enrolments of one version on one step: parallel lists of enrolment and contact ids."""

    automation_id: int
    enrolment_ids: list[int] = field(default_factory=list)
    contact_ids: list[int] = field(default_factory=list)

    def add(self, enrolment_id: int, contact_id: int) -> None:
        self.enrolment_ids.append(enrolment_id)
        self.contact_ids.append(contact_id)

    def split(self, contacts: set[int]) -> tuple[Group, Group]:
        """(those of `contacts`, the others)."""
        chosen, rest = Group(self.automation_id), Group(self.automation_id)
        for enrolment_id, contact_id in zip(self.enrolment_ids, self.contact_ids, strict=True):
            (chosen if contact_id in contacts else rest).add(enrolment_id, contact_id)
        return chosen, rest


StepKey = tuple[int, str]  # (version id, step id)


@dataclass
class Batch:
    session: AsyncSession
    now: datetime
    plans: dict[int, Plan]
    ready: dict[StepKey, Group] = field(default_factory=dict)  # to run now
    waiting: dict[StepKey, Group] = field(default_factory=dict)  # to write: on a wait, due when it ends
    later: dict[StepKey, Group] = field(default_factory=dict)  # to write: due now, for the next batch
    completed: dict[str | None, list[int]] = field(default_factory=lambda: defaultdict(list))  # by reason

    def move(self, version_id: int, group: Group, target: str | None, into: dict[StepKey, Group]) -> None:
        """Put `group` on `target` in `into` (ready: run it in this batch), or complete it (no target)."""
        if not group.enrolment_ids:
            return
        if target is None:
            self.completed[None].extend(group.enrolment_ids)
            return
        found = into.setdefault((version_id, target), Group(group.automation_id))
        found.enrolment_ids.extend(group.enrolment_ids)
        found.contact_ids.extend(group.contact_ids)


Key = queries.Key


@dataclass(frozen=True)
class Ran:
    claimed: int
    last: Key | None  # pass it to the run's next batch
    postponed: int = 0


async def run_batch(session: AsyncSession, limit: int, after: Key | None = None) -> Ran:
    """Claim up to `limit` due enrolments (after the key a previous batch of the same run returned),
    run their steps and commit."""
    now = datetime.now(UTC)
    claimed, last = await queries.claim(session, limit, now, after)
    if not claimed:
        await session.rollback()
        return Ran(0, after)
    unmailable = [c.id for c in claimed if not c.mailable]
    if unmailable:
        await queries.finish(session, unmailable, EnrolmentStatus.EXITED.value, ExitReason.UNMAILABLE.value, now)
    batch = Batch(session, now, await _plans(session, {c.version_id for c in claimed}))
    for c in claimed:
        if c.mailable:
            batch.ready.setdefault((c.version_id, c.step_id), Group(c.automation_id)).add(c.id, c.contact_id)
    for _ in range(MAX_STEPS_PER_BATCH):
        if not batch.ready:
            break
        ready, batch.ready = batch.ready, {}
        for (version_id, step_id), group in ready.items():
            await _run_step(batch, version_id, step_id, group)
    for (version_id, step_id), group in batch.ready.items():  # went through the most steps a batch allows
        batch.move(version_id, group, step_id, batch.later)
    await _write(batch)
    await session.commit()
    return Ran(len(claimed), last)


async def _plans(session: AsyncSession, version_ids: set[int]) -> dict[int, Plan]:
    versions = await automation_queries.versions(session, list(version_ids))
    return {version_id: cached(version_id, v.steps) for version_id, v in versions.items()}


async def _run_step(batch: Batch, version_id: int, step_id: str, group: Group) -> None:
    plan = batch.plans[version_id]
    node = plan.nodes.get(step_id)
    if node is None:  # not in its version (cannot happen to a version that never changes): done
        batch.completed[None].extend(group.enrolment_ids)
        return
    for goal in plan.goals if node.type != "goal" else ():
        met, group = group.split(await _matching(batch, group, goal["rules"]))
        await _reach_goal(batch, goal["id"], met)
    if node.step.get("skip_if") is not None:
        skipped, group = group.split(await _matching(batch, group, node.step["skip_if"]))
        await _record(batch, skipped, step_id, StepOutcome.SKIPPED)
        batch.move(version_id, skipped, node.next_id, batch.ready)
    if group.enrolment_ids:
        await _run(batch, version_id, node, group)


async def _run(batch: Batch, version_id: int, node: Node, group: Group) -> None:
    step_id = node.step["id"]
    if node.type == "goal":
        met, group = group.split(await _matching(batch, group, node.step["rules"]))
        await _reach_goal(batch, step_id, met)
    if node.type == "condition":
        yes, no = group.split(await _matching(batch, group, node.step["rules"]))
        await _record(batch, yes, step_id, StepOutcome.BRANCHED_YES)
        await _record(batch, no, step_id, StepOutcome.BRANCHED_NO)
        batch.move(version_id, yes, node.yes_id, batch.ready)
        batch.move(version_id, no, node.no_id, batch.ready)
        return
    fresh = await _record(batch, group, step_id, StepOutcome.DONE)
    if node.type == "wait":  # a new run: the contact arrives and waits; else its wait has ended
        arrived, waited = group.split(set(fresh.contact_ids))
        batch.move(version_id, arrived, step_id, batch.waiting)
        batch.move(version_id, waited, node.next_id, batch.ready)
        return
    if node.type in EXECUTORS and fresh.enrolment_ids:
        step_batch = StepBatch(
            group.automation_id, version_id, node.step, fresh.enrolment_ids, fresh.contact_ids, batch.now
        )
        await EXECUTORS[node.type](batch.session, step_batch)
    batch.move(version_id, group, node.next_id, batch.ready)


async def _record(batch: Batch, group: Group, step_id: str, outcome: StepOutcome) -> Group:
    """Insert the step runs; the part of the group for which they are new."""
    if not group.enrolment_ids:
        return group
    new = await queries.record_runs(batch.session, group.enrolment_ids, step_id, outcome.value, batch.now)
    fresh = Group(group.automation_id)
    for enrolment_id, contact_id in zip(group.enrolment_ids, group.contact_ids, strict=True):
        if enrolment_id in new:
            fresh.add(enrolment_id, contact_id)
    return fresh


async def _reach_goal(batch: Batch, goal_id: str, met: Group) -> None:
    if met.enrolment_ids:
        await _record(batch, met, goal_id, StepOutcome.GOAL)
        batch.completed[ExitReason.GOAL.value].extend(met.enrolment_ids)


async def _matching(batch: Batch, group: Group, rules: dict[str, object]) -> set[int]:
    if not group.contact_ids:
        return set()
    return await queries.matching(batch.session, group.contact_ids, rules_condition(rules, batch.now))


async def _write(batch: Batch) -> None:
    """Every enrolment of the batch where it got to: one statement per step it is on, one per way
    it finished."""
    zones = await zone_names(batch.session)
    for (version_id, step_id), group in batch.waiting.items():
        step = batch.plans[version_id].nodes[step_id].step
        await queries.place(batch.session, group.enrolment_ids, version_id, step_id, due_at(step, zones), batch.now)
    for (version_id, step_id), group in batch.later.items():
        await queries.place(batch.session, group.enrolment_ids, version_id, step_id, NOW, batch.now)
    for reason, ids in batch.completed.items():
        await queries.finish(batch.session, ids, EnrolmentStatus.COMPLETED.value, reason, batch.now)


async def any_due(session: AsyncSession, now: datetime) -> bool:
    return await queries.any_due(session, now)


async def postpone_next(session: AsyncSession, after: Key | None, delay: timedelta) -> Ran:
    """Claim the next due enrolment after `after` and make it due again after `delay` (its step
    failed); Ran.claimed is 1 when there was one."""
    now = datetime.now(UTC)
    claimed, last = await queries.claim(session, 1, now, after)
    await queries.postpone(session, [c.id for c in claimed], now + delay)
    await session.commit()
    return Ran(len(claimed), last or after)
