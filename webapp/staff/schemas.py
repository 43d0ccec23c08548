"""The staff feature's inputs: a staff account (the admin's form and `mailroom create-user`) and a
new API key."""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, UnsetType

from webapp.core.access import Role
from webapp.core.schemas import Rule, Schema, email_address, flag, one_of, text

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1000
MIN_DISTINCT_CHARACTERS = 3
PASSWORD_TOO_SHORT = f"Use at least {MIN_PASSWORD_LENGTH} characters."
ROLES = [role.value for role in Role]  # a list, not a set: a repeated form field arrives as a list
KEY_ROLES = [Role.VIEWER.value, Role.EDITOR.value]


def _password(value: str, label: str) -> str:
    if len(value) < MIN_PASSWORD_LENGTH:
        raise ValueError(PASSWORD_TOO_SHORT)
    if len(value) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"Use at most {MAX_PASSWORD_LENGTH} characters.")
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:  # spaces only, "aaaaaaaaaa", "ababababab": guessed at once
        raise ValueError(
            "This password repeats one or two characters: anyone could guess it. Use words or more characters."
        )
    return value


PASSWORD = Rule(_password, missing=PASSWORD_TOO_SHORT)
ROLE = one_of(ROLES, "Choose a role: admin, editor or viewer.")


class UserUpdate(Schema, kw_only=True):
    """Changes to an account: only the fields sent change; the password is stored hashed."""

    email: Annotated[str | UnsetType, Meta(title="Email"), email_address()] = UNSET
    name: Annotated[str | UnsetType, Meta(title="Name"), text(200)] = UNSET
    role: Annotated[str | UnsetType, Meta(title="Role"), ROLE] = UNSET
    password: Annotated[str | UnsetType, Meta(title="Password"), PASSWORD] = UNSET
    is_active: Annotated[bool | UnsetType, Meta(title="Active"), flag()] = UNSET


class UserCreate(UserUpdate, kw_only=True):
    """A new account: email, role and password are required."""

    email: Annotated[str, Meta(title="Email"), email_address()]
    role: Annotated[str, Meta(title="Role"), ROLE]
    password: Annotated[str, Meta(title="Password"), PASSWORD]


class ApiKeyCreate(Schema, kw_only=True):
    """A new API key: editor or viewer, never admin."""

    name: Annotated[str, Meta(title="Name"), text(200, blank="Give the key a name that says who uses it.")]
    role: Annotated[
        str | UnsetType,
        Meta(title="Role"),
        one_of(KEY_ROLES, "API keys are editor (read and write) or viewer (read only)."),
    ] = UNSET  # the model's default: editor
