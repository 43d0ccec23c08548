"""A version's flow as the engine walks it: each step by id with the step that follows it.

After a step comes the next one in its list; after the last step of a condition's branch, the step
after the condition; after the last step of the flow, nothing (the enrolment completes). A
condition sends a contact to the first step of its `yes` or `no` branch (an empty branch: straight
to the step after the condition). Published versions never change, so plans are cached by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Step = dict[str, Any]


@dataclass(frozen=True)
class Node:
    step: Step
    next_id: str | None  # where a contact goes once this step is done (a condition: after its branches)
    yes_id: str | None = None  # a condition's first step when its rules match
    no_id: str | None = None

    @property
    def type(self) -> str:
        return str(self.step["type"])


@dataclass(frozen=True)
class Plan:
    nodes: dict[str, Node] = field(default_factory=dict)
    first_id: str | None = None
    goals: tuple[Step, ...] = ()  # a goal is checked at every step

    def successor_in(self, step_id: str, other: Plan) -> str | None:
        """Where an enrolment on `step_id` of this plan goes in `other`: the same step if it is
        there, else the first following step (in this plan's order) that is, else nowhere."""
        current: str | None = step_id
        while current is not None and current not in other.nodes:
            current = self.nodes[current].next_id if current in self.nodes else None
        return current


def plan(steps: list[Step]) -> Plan:
    nodes: dict[str, Node] = {}
    goals: list[Step] = []
    first = _link(steps, None, nodes, goals)
    return Plan(nodes, first, tuple(goals))


def _link(steps: list[Step], after: str | None, nodes: dict[str, Node], goals: list[Step]) -> str | None:
    """Link `steps` (then `after`) into nodes; the id where the list starts."""
    for index, step in enumerate(steps):
        following = steps[index + 1]["id"] if index + 1 < len(steps) else after
        if step["type"] == "condition":
            yes_id = _link(step.get("yes", []), following, nodes, goals)
            no_id = _link(step.get("no", []), following, nodes, goals)
            nodes[step["id"]] = Node(step, following, yes_id, no_id)
        else:
            nodes[step["id"]] = Node(step, following)
        if step["type"] == "goal":
            goals.append(step)
    return steps[0]["id"] if steps else after


_cache: dict[int, Plan] = {}


def cached(version_id: int, steps: list[Step]) -> Plan:
    """The plan of a published version (immutable, so cached for the life of the process)."""
    found = _cache.get(version_id)
    if found is None:
        found = _cache[version_id] = plan(steps)
    return found
