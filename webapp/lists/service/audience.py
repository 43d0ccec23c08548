"""Lists as predicates over contacts, for whoever selects contacts by list: the lists pages (a list's
members), campaigns (their audience) and exports (a list's members as a file). A segment's members
are the contacts its rules match at `now`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement

from webapp.contacts.schemas import ContactFilter
from webapp.lists.models import EmailList, ListType
from webapp.lists.queries import conditions
from webapp.lists.schemas.rules import parse_rules


def list_condition(email_list: EmailList, now: datetime) -> ColumnElement[bool]:
    """True for the contacts that belong to this list, whatever its type."""
    return conditions.list_condition(email_list, now)


def audience_condition(lists: Iterable[EmailList], now: datetime) -> ColumnElement[bool]:
    """The contacts a campaign to these lists reaches: members of any of them who may receive
    marketing mail and whose address is not suppressed."""
    return conditions.audience_condition(lists, now)


def rules_condition(raw_rules: Any, now: datetime) -> ColumnElement[bool]:
    """True for the contacts that segment rules (as stored, already checked) match at `now`: for
    whoever tests rules against some contacts, e.g. an automation's conditions and goals."""
    return conditions.compile_rules(parse_rules(raw_rules), now)


def members_filter(email_list: EmailList) -> ContactFilter:
    """The contacts-page filter for a list's members: its member rows, or a segment's matches now."""
    if email_list.list_type == ListType.STATIC.value:
        return ContactFilter(list_id=email_list.id)
    return ContactFilter(condition=list_condition(email_list, datetime.now(UTC)))
