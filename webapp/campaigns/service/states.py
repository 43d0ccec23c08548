"""The campaign state machine (seed 000 "Campaign Statuses"). Every status change goes through
check_transition(), so an illegal move is refused in one place with the reason."""

from __future__ import annotations

from webapp.campaigns.models import CampaignStatus as S
from webapp.core.errors import Conflict

TRANSITIONS: dict[S, frozenset[S]] = {
    S.DRAFT: frozenset({S.SCHEDULED, S.SENDING}),
    S.SCHEDULED: frozenset({S.SENDING, S.CANCELLED, S.DRAFT, S.FAILED}),
    S.SENDING: frozenset({S.SENT, S.PAUSED, S.FAILED, S.CANCELLED}),
    S.PAUSED: frozenset({S.SENDING, S.CANCELLED}),
    S.FAILED: frozenset({S.DRAFT, S.SENDING}),
    S.SENT: frozenset(),
    S.CANCELLED: frozenset(),
}
# Scheduled -> draft is "edit the schedule": the seed lists "Edit schedule" as an action there.
# Scheduled -> failed: it was due but not ready (readiness.py), so it did not start.
# Failed -> draft: only one that never started (nothing was sent) is edited again; see can_edit().

EDITABLE = frozenset({S.DRAFT, S.SCHEDULED})
DELETABLE = frozenset({S.DRAFT, S.CANCELLED, S.FAILED})
FINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)  # nothing can happen to these

# What a refused move would have done, as in "it cannot be ___".
DONE = {
    S.SCHEDULED: "scheduled",
    S.SENDING: "sent",
    S.SENT: "completed",
    S.PAUSED: "paused",
    S.CANCELLED: "cancelled",
    S.FAILED: "marked failed",
    S.DRAFT: "edited",
}


class IllegalTransition(Conflict):
    """The campaign cannot move to that status from where it is (409)."""


def check_transition(current: str, target: S) -> None:
    source = S(current)
    if target in TRANSITIONS[source]:
        return
    if source is target:
        message = f"This campaign is {source.value} already."
    elif source in FINAL:
        message = (
            f"This campaign is {source.value}, which is final: it cannot be {DONE[target]}. "
            "Duplicate it to send its content again."
        )
    else:
        message = f"This campaign is {source.value}, so it cannot be {DONE[target]}."
    raise IllegalTransition(message, "status")


def check_editable(current: str) -> None:
    if S(current) not in EDITABLE:
        raise IllegalTransition(f"A {current} campaign cannot be edited; duplicate it to make changes.", "status")


def can_edit(current: str, started: bool) -> bool:
    """Whether Edit is offered: drafts, scheduled campaigns, and failed ones that never started."""
    return S(current) in EDITABLE or (S(current) is S.FAILED and not started)
