"""The flow as the builder edits it: a list of steps, where a condition holds two more lists (its
"yes" and "no" branches). Steps are found, replaced and removed by their stable ids; a new step goes
into a slot:

    start           the top of the flow
    after:<id>      right after that step, in the same list
    yes:<id>        the top of a condition's "yes" branch (no:<id> for "no")

Every change returns a new flow; the one it was given is left as it was.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from webapp.automations.schemas.flow import BRANCHES, STEP_ID, walk

Step = dict[str, Any]
SLOT = re.compile(r"^(?:start|(after|yes|no):(" + STEP_ID.pattern.strip("^$") + "))$")


@dataclass(frozen=True)
class Slot:
    """Where a new step goes: `kind` is start, after, yes or no; `step_id` the step it is relative to."""

    kind: str
    step_id: str = ""

    @classmethod
    def parse(cls, raw: str) -> Slot | None:
        match = SLOT.match(raw or "")
        if match is None:
            return None
        return cls(match[1] or "start", match[2] or "")

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.step_id}" if self.step_id else self.kind

    @property
    def html_id(self) -> str:
        return "add-" + self.key.replace(":", "-")


def branch(step: Step, name: str) -> list[Step]:
    items = step.get(name)
    return items if isinstance(items, list) else []


def depths(steps: list[Step]) -> Iterator[tuple[Step, int]]:
    """Every step, depth first, with how deep in branches it sits."""
    for path, step in walk(steps):
        yield step, path.count(".yes.") + path.count(".no.")


def find(steps: list[Step], step_id: str) -> Step | None:
    return next((step for _, step in walk(steps) if step.get("id") == step_id), None)


def path_of(steps: list[Step], step_id: str) -> str | None:
    """Where a step is, as the flow's errors name it: steps.2.yes.0"""
    return next((path for path, step in walk(steps) if step.get("id") == step_id), None)


def insert(steps: list[Step], slot: Slot, step: Step) -> list[Step]:
    """The flow with `step` in `slot`; LookupError when the slot's step is not there (or is no condition)."""
    flow = copy.deepcopy(steps)
    if slot.kind == "start":
        flow.insert(0, step)
        return flow
    holder, index = _locate(flow, slot.step_id)
    if slot.kind == "after":
        holder.insert(index + 1, step)
        return flow
    condition = holder[index]
    if condition.get("type") != "condition":
        raise LookupError(f"Step {slot.step_id} has no branches.")
    condition[slot.kind] = [step, *branch(condition, slot.kind)]
    return flow


def replace(steps: list[Step], step_id: str, step: Step) -> list[Step]:
    """The flow with the step of that id changed; a condition keeps its branches."""
    flow = copy.deepcopy(steps)
    holder, index = _locate(flow, step_id)
    if step.get("type") == "condition":
        step = {**step, **{name: branch(holder[index], name) for name in BRANCHES}}
    holder[index] = step
    return flow


def remove(steps: list[Step], step_id: str) -> list[Step]:
    """The flow without that step (a condition goes with both its branches)."""
    flow = copy.deepcopy(steps)
    holder, index = _locate(flow, step_id)
    del holder[index]
    return flow


def _locate(steps: list[Step], step_id: str) -> tuple[list[Step], int]:
    for index, step in enumerate(steps):
        if step.get("id") == step_id:
            return steps, index
        if step.get("type") == "condition":
            for name in BRANCHES:
                try:
                    return _locate(branch(step, name), step_id)
                except LookupError:
                    continue
    raise LookupError(f"No step {step_id} in this flow.")
