"""A change a staff member or API key made: what the audit trail (audit_trail.py) hands to the
audit log for each request that changed something."""

from __future__ import annotations

from dataclasses import dataclass

from webapp.core.access import Principal


@dataclass(frozen=True)
class Change:
    principal: Principal
    method: str
    path: str  # as requested
    route: str  # the route's template: /campaigns/{campaign_id}/send
    status: int
    ip: str
