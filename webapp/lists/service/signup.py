"""A list's public-subscription settings (staff set them on the list form and the API):
is_public (hosted page and embeddable form), double_opt_in, and the consent text shown next to
the form's checkbox and kept with every sign-up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webapp.core.errors import ValidationFailed
from webapp.core.validation import bool_field, text_field
from webapp.lists.models import EmailList, ListType

SIGNUP_FIELDS = ("is_public", "double_opt_in", "consent_text")
CONSENT_TEXT_MAX = 2000


def validate_signup_fields(data: Mapping[str, Any], values: dict[str, Any]) -> dict[str, str]:
    """Fills values from data; returns errors by field."""
    errors: dict[str, str] = {}
    for name, label in (("is_public", "Public"), ("double_opt_in", "Double opt-in")):
        if name in data:
            try:
                values[name] = bool_field(data[name], label)
            except ValueError as exc:
                errors[name] = str(exc)
    if "consent_text" in data:
        try:
            values["consent_text"] = text_field(data["consent_text"], "Consent text", CONSENT_TEXT_MAX).replace(
                "\r\n", "\n"
            )
        except ValueError as exc:
            errors["consent_text"] = str(exc)
    return errors


def check_signup(values: Mapping[str, Any], existing: EmailList | None) -> None:
    """Only static lists take sign-ups: the others choose their members by rules."""
    list_type = existing.list_type if existing else values.get("list_type", ListType.STATIC.value)
    if values.get("is_public") and list_type != ListType.STATIC.value:
        raise ValidationFailed(
            {"is_public": f"Only static lists can be public: the members of {list_type} lists come from their rules."}
        )
