"""The imports feature's inputs and outputs: how to import an uploaded file (ImportStart: the mode,
the list or reason it needs, and one target per column, the same for the mapping form and the API),
and an import job as the API shows it.

A column's target is a contact field (FIELDS), "custom:<name>" for a custom field, or "" to ignore
the column. The mapping form sends a menu choice per column (and the name of a new custom field
next to it); the API sends {"header": target}; both become one target per column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct

from webapp.contacts.schemas import MAX_CUSTOM_FIELDS, RESERVED_NAMES, TEXT_FIELDS
from webapp.core.schemas import Rule, Schema, Values, one_of
from webapp.core.validation import CUSTOM_FIELD_NAME, is_valid_id
from webapp.imports.models import ImportJob, ImportMode, ImportReject
from webapp.suppression.schemas import Reason

MODES = {
    ImportMode.ADD.value: "Add new contacts only (existing ones are left as they are)",
    ImportMode.UPSERT.value: "Add new contacts and update existing ones",
    ImportMode.LIST.value: "Add to a list (new contacts are created)",
    ImportMode.UNSUBSCRIBE.value: "Unsubscribe the listed addresses",
    ImportMode.SUPPRESS.value: "Put the listed addresses on the suppression list",
}
ONLY_THE_ADDRESS = (ImportMode.UNSUBSCRIBE.value, ImportMode.SUPPRESS.value)  # modes that read no other column

CUSTOM = "custom:"
IGNORE = ""
# Contact fields a column can fill, in the order the mapping menu offers them.
FIELDS: dict[str, str] = {
    "email": "Email",
    **{name: label for name, (label, _) in TEXT_FIELDS.items()},
    "tags": "Tags",
    "language": "Language",
}
REPEATABLE = "tags"  # the one field several columns may fill (their tags are added up)

CHOOSE_LIST = "Choose the list to add the contacts to."
NO_SUCH_COLUMN = "There is no such column."


def _list_id(value: Any, label: str) -> int | None:
    """A list's id, as a number or as a form sends it."""
    if value is None or not str(value).strip():
        return None  # none chosen: the mode's rule says when one is needed
    try:
        number = int(str(value))
    except ValueError:
        raise ValueError("Give the list by its number (its id).") from None
    if not is_valid_id(number):
        raise ValueError(no_such_list(number))
    return number


def no_such_list(number: int) -> str:
    return f"There is no list {number}: it may have been deleted."


def _targets(value: list[str], label: str) -> list[str]:
    return [target.strip() for target in value]


class ImportStart(Schema, kw_only=True):
    """What to do with an uploaded file's rows. Errors about one column are named
    `mapping.<column index>`; those about the mapping as a whole `mapping`."""

    mode: Annotated[
        ImportMode,
        Meta(title="Mode", description="; ".join(f"{mode}: {label}" for mode, label in MODES.items())),
        one_of(list(MODES), "Choose what to do with the rows."),
    ] = ImportMode.ADD
    mapping: Annotated[
        list[str],
        Meta(
            title="Mapping",
            description='One target per column: a contact field, "custom:<name>", or "" to ignore the column.',
        ),
        Rule(_targets),
    ]
    list_id: Annotated[
        int | None, Meta(title="List", description="The static list, in list mode."), Rule(_list_id, converts=True)
    ] = None
    reason: Reason = UNSET  # in suppress mode; manual when not given

    @classmethod
    def rules(cls, values: Values) -> dict[str, str]:
        mode = values.get("mode", ImportMode.ADD.value)
        errors = mapping_problems(values["mapping"], mode)
        if mode == ImportMode.LIST.value and values.get("list_id") is None:
            errors["list_id"] = CHOOSE_LIST
        return errors


def mapping_problems(targets: Sequence[str], mode: str) -> dict[str, str]:
    """Problems of a mapping: `mapping.<i>` for a column's, `mapping` for the whole (no column holds
    the address, too many custom fields). Modes that read only the address check only that."""
    columns: dict[str, str] = {}
    seen: dict[str, int] = {}
    customs = 0
    for index, target in enumerate(targets):
        if target == IGNORE:
            continue
        if target.startswith(CUSTOM):
            customs += 1
        if problem := _target_problem(target):
            columns[f"mapping.{index}"] = problem
            continue
        if target in seen and target != REPEATABLE:
            columns[f"mapping.{index}"] = f"Column {seen[target] + 1} goes to this field already."
        seen.setdefault(target, index)
    whole = []
    if customs > MAX_CUSTOM_FIELDS and mode not in ONLY_THE_ADDRESS:
        whole.append(f"At most {MAX_CUSTOM_FIELDS} columns can go to custom fields.")
    if "email" not in seen:
        whole.append("Choose the column that holds the email addresses.")
    errors = {} if mode in ONLY_THE_ADDRESS else columns
    return errors | ({"mapping": " ".join(whole)} if whole else {})


def _target_problem(target: str) -> str:
    if target.startswith(CUSTOM):
        name = target[len(CUSTOM) :]
        if not CUSTOM_FIELD_NAME.match(name):
            return "Name the custom field with letters, digits and underscores, starting with a letter."
        if name in RESERVED_NAMES:
            return f"'{name}' is a standard contact field: choose it from the list instead."
        return ""
    return "" if target in FIELDS else "Choose a contact field, a custom field or ignore."


def by_header(errors: Mapping[str, str], headers: Sequence[str]) -> dict[str, str]:
    """Errors as the API names them: its mapping is by header, so every problem of the mapping is
    under `mapping`, a column's named by its header."""
    named: dict[str, str] = {}
    for key, message in errors.items():
        field, _, index = key.partition(".")
        if field == "mapping" and index:
            column = int(index)
            header = headers[column] if column < len(headers) else f"Column {column + 1}"
            message = f"Column '{header}': {message}"
        named[field] = f"{named[field]} {message}" if field in named else message
    return named


# ---- the API's answers -------------------------------------------------------------------------


class RejectOut(Struct):
    line: int
    kind: str  # rejected | duplicate
    email: str
    reason: str


class ImportJobOut(Struct, kw_only=True):
    id: int
    status: str  # queued | running | done | failed (draft: uploaded in the UI, not started)
    url: str
    page_url: str
    mode: str
    filename: str
    mapping: dict[str, str]
    total: int  # an estimate until status is done
    processed: int
    inserted: int
    updated: int
    skipped: int
    duplicates: int
    rejected: int
    error: str
    created_at: datetime
    finished_at: datetime | None
    rejects: list[RejectOut]
    next_after: int | None  # pass as `after` for the next page of rejects


def job_out(job: ImportJob, rejects: Sequence[ImportReject] = (), next_after: int | None = None) -> ImportJobOut:
    return ImportJobOut(
        id=job.id,
        status=job.status,
        url=f"/api/contacts/import/{job.id}",
        page_url=f"/contacts/import/{job.id}",
        mode=job.mode,
        filename=job.filename,
        mapping={header: target for header, target in zip(job.headers, job.mapping, strict=False) if target},
        total=job.total,
        processed=job.processed,
        inserted=job.inserted,
        updated=job.updated,
        skipped=job.skipped,
        duplicates=job.duplicates,
        rejected=job.rejected,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
        next_after=next_after,
        rejects=[RejectOut(r.line, r.kind, r.email, r.reason) for r in rejects],
    )
