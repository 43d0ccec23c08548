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

VERBS = {
    S.SCHEDULED: "schedule",
    S.SENDING: "send",
    S.SENT: "complete",
    S.PAUSED: "pause",
    S.CANCELLED: "cancel",
    S.FAILED: "fail",
    S.DRAFT: "return to draft",
}


class IllegalTransition(Conflict):
    """The campaign cannot move to that status from where it is (409)."""


def check_transition(current: str, target: S) -> None:
    source = S(current)
    if target not in TRANSITIONS[source]:
        allowed = ", ".join(sorted(t.value for t in TRANSITIONS[source])) or "nothing (final state)"
        raise IllegalTransition(
            f"Cannot {VERBS[target]} a campaign that is {source.value}; from {source.value} it can go to: {allowed}.",
            "status",
        )


def check_editable(current: str) -> None:
    if S(current) not in EDITABLE:
        raise IllegalTransition(f"A {current} campaign cannot be edited; duplicate it to make changes.", "status")


def can_edit(current: str, started: bool) -> bool:
    """Whether Edit is offered: drafts, scheduled campaigns, and failed ones that never started."""
    return S(current) in EDITABLE or (S(current) is S.FAILED and not started)
