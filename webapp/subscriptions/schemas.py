"""The subscriptions feature's inputs: the public sign-up form, the preference centre's form, staff's
re-permission request, and where a request came from (for the consent record).

The public forms' messages are catalog message ids (N_): the public pages show them in the
subscriber's language.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType

from webapp.contacts.schemas import TEXT_FIELDS
from webapp.core.i18n import N_
from webapp.core.schemas import Rule, Schema, flag
from webapp.core.validation import UNREADABLE, is_valid_id, normalize_email, text_field
from webapp.subscriptions.models import IP_ADDRESS_MAX_LENGTH, SOURCE_MAX_LENGTH

EMAIL_INVALID = N_("Enter a valid email address.")
EMAIL_MISSING = N_("Enter your email address.")
EMAIL_TOO_LONG = N_("This email address is too long.")
EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a path, its angle brackets left out
NAME_TOO_LONG = N_("Your name is too long.")
NAME_ONE_LINE = N_("Write your name on one line, without special characters.")
CONSENT_MISSING = N_("Tick the box to agree before subscribing.")

FIRST_NAME_MAX_LENGTH = TEXT_FIELDS["first_name"][1]  # as long as a contact's first name may be
USER_AGENT_MAX_LENGTH = 1000  # the column is text; anything longer is noise, not evidence


def _email(value: Any, label: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(EMAIL_MISSING)
    if len(value.strip()) > EMAIL_MAX_LENGTH:
        raise ValueError(EMAIL_TOO_LONG)
    try:
        return normalize_email(value)
    except ValueError:
        raise ValueError(EMAIL_INVALID) from None  # one message, translated, whatever was wrong


def _first_name(value: Any, label: str) -> str:
    """One line of printable text: whatever is typed here goes into the confirmation email and the
    contact (whose own rules refuse line breaks), and anyone can type it for anyone's address."""
    if isinstance(value, str) and (
        UNREADABLE in value or not all(ch.isprintable() or unicodedata.category(ch) == "Zs" for ch in value)
    ):  # UNREADABLE: bytes that were not UTF-8, which no browser sends from this form
        raise ValueError(NAME_ONE_LINE)
    try:
        return text_field(value, label, FIRST_NAME_MAX_LENGTH)
    except ValueError:
        raise ValueError(NAME_TOO_LONG) from None


def _ticked(value: bool, label: str) -> bool:
    if not value:
        raise ValueError(CONSENT_MISSING)
    return value


class Signup(Schema, kw_only=True):
    """A sign-up on a list's hosted page or embedded form. A stranger can type anyone's address,
    so these values only ever create a contact, never change one."""

    email: Annotated[str, Meta(title="Email address"), Rule(_email, missing=EMAIL_MISSING)]
    first_name: Annotated[str | UnsetType, Meta(title="First name"), Rule(_first_name)] = UNSET
    consent: Annotated[bool | UnsetType, Meta(title="Consent"), flag()] = UNSET


class ConsentedSignup(Signup, kw_only=True):
    """A sign-up on a list that shows a consent text: its box must be ticked."""

    consent: Annotated[bool, Meta(title="Consent"), flag(), Rule(_ticked, missing=CONSENT_MISSING)]


_ID = re.compile(r"[0-9]{1,19}")


def _list_ids(values: Any, label: str) -> set[int]:
    """The ids among the ticked values; anything else is ignored (see PreferenceChanges)."""
    items = values if isinstance(values, list) else [values]
    return {int(v) for v in items if isinstance(v, str) and _ID.fullmatch(v) and is_valid_id(int(v))}


class PreferenceChanges(Schema, kw_only=True):
    """What the preference centre's form sends. A choice no control offers (a topic the organisation
    no longer has, an unknown frequency or language, a list id that is not one) is ignored rather
    than refused: the page has no messages to show, and a page left open for days should still save
    what it can. A field that is absent leaves its setting as it is."""

    topics: Annotated[list[str] | UnsetType, Meta(title="Topics")] = UNSET
    frequency: Annotated[str | UnsetType, Meta(title="How often")] = UNSET
    language: Annotated[str | UnsetType, Meta(title="Language")] = UNSET
    keep: Annotated[set[int] | UnsetType, Meta(title="Lists to stay on"), Rule(_list_ids, converts=True)] = UNSET
    join: Annotated[set[int] | UnsetType, Meta(title="Lists to join"), Rule(_list_ids, converts=True)] = UNSET


CHOOSE_LIST = "Choose the list they are asked to rejoin."


def _chosen_list(value: Any, label: str) -> int:
    """A list's id, as a number or as a form sends it."""
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not (_ID.fullmatch(text) and is_valid_id(int(text))):
        raise ValueError(CHOOSE_LIST)
    return int(text)


class RepermissionRequest(Schema, kw_only=True):
    """Staff asking a contact who opted out whether they want mail from one list again (the contact
    page's form and POST /api/contacts/{id}/repermission)."""

    list_id: Annotated[
        int,
        Meta(title="List", description="The static list they rejoin if they confirm."),
        Rule(_chosen_list, missing=CHOOSE_LIST, converts=True),
    ]


class RepermissionOut(Struct):
    """A re-permission request on its way: the confirmation email is queued."""

    contact_id: int
    email: str
    list_id: int
    list_name: str
    subscription_id: int  # the pending consent record, confirmed when they follow the link


@dataclass(frozen=True)
class Origin:
    """Where a sign-up or preference change came from, for the consent record."""

    source: str
    ip: str = ""
    user_agent: str = ""

    def record(self) -> dict[str, str]:
        """The consent record's columns, each cut to what it keeps."""
        return {
            "source": self.source[:SOURCE_MAX_LENGTH],
            "ip_address": self.ip[:IP_ADDRESS_MAX_LENGTH],
            "user_agent": self.user_agent[:USER_AGENT_MAX_LENGTH],
        }
