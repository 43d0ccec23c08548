"""Who may do what: the three staff roles, and the principal (a staff member or an API key) a
request acts as. Every staff and API route is checked against these by core/security.py."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return {"viewer": 0, "editor": 1, "admin": 2}[self.value]

    def allows(self, required: Role) -> bool:
        return self.rank >= required.rank


# Route options (Litestar `opt`, copied by each route) that raise the role a route needs above the
# default: viewers read, editors change.
ADMIN_ONLY = {"role": Role.ADMIN.value}
EDITORS_ONLY = {"role": Role.EDITOR.value}  # pages that only show a form for a change
ANY_STAFF = {"role": Role.VIEWER.value}  # changes to one's own session (signing out), open to viewers too
# Routes someone may reach while an admin requires two-step sign-in and theirs is not set up yet.
REACHABLE_WHILE_TWO_STEP_DUE = "while_two_step_due"
WHILE_TWO_STEP_DUE = {REACHABLE_WHILE_TWO_STEP_DUE: True}


@dataclass(frozen=True)
class Principal:
    id: int
    name: str
    role: Role
    via_api_key: bool = False
    # Signed in without two-step sign-in where admins require it: may only set it up, or sign out.
    two_step_due: bool = False
    email: str = ""  # a person's address: unlike their name, not theirs to change

    def can(self, required: Role) -> bool:
        return self.role.allows(required)
