"""The step executors: what a step of each effect type does to a batch of contacts.

The engine (service/engine.py) runs the flow control itself (wait, condition, goal, skip_if) and
hands every other step to the executor registered for its type, with the batch of enrolments
whose step run it has just inserted. The executor applies the step's effect to all of them with
set-based SQL in the same transaction: the effect is committed if and only if the step run is,
which is what makes each step happen exactly once per enrolment.

A feature that brings a step type registers its executor from its own module:

    from webapp.automations.service.steps import StepBatch, executor

    @executor("send_email")
    async def send_email(session: AsyncSession, batch: StepBatch) -> None: ...

and that module is listed in EXECUTOR_MODULES (service/executors.py) so the engine imports it. A
flow with a step type that has no executor cannot be published.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class StepBatch:
    """Enrolments that are to get one step's effect now; enrolment_ids[i] is contact_ids[i]'s."""

    automation_id: int
    version_id: int
    step: dict[str, Any]  # as stored in the flow (schemas/flow.py)
    enrolment_ids: list[int]
    contact_ids: list[int]
    now: datetime


Executor = Callable[[AsyncSession, StepBatch], Awaitable[None]]
EXECUTORS: dict[str, Executor] = {}
FLOW_CONTROL = ("wait", "condition", "goal")  # run by the engine itself


def executor(step_type: str) -> Callable[[Executor], Executor]:
    def register(fn: Executor) -> Executor:
        EXECUTORS[step_type] = fn
        return fn

    return register


def runnable(step_type: str) -> bool:
    return step_type in FLOW_CONTROL or step_type in EXECUTORS
