"""What an automation's email steps did: the shape its report and the API read."""

from __future__ import annotations

from msgspec import Struct

from webapp.analytics.schemas import Activity
from webapp.conversions.schemas import Revenue


class EmailStepReport(Struct, frozen=True, kw_only=True):
    """One email step over every version that sent it: its messages' counts (as a campaign's,
    machine opens and scanner clicks told apart), the messages left in doubt by a worker that
    stopped while handing them to the SMTP server (never sent again), and the revenue of orders
    whose last click was in one of its messages, per currency."""

    step_id: str
    activity: Activity
    in_doubt: int
    failed: int = 0  # messages that could not be made or sent: each contact's page says why
    revenue: list[Revenue]
