"""Domain errors. app.py maps each to an HTTP status; nothing else does."""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The thing asked for does not exist (404)."""


class Conflict(DomainError):
    """The request clashes with existing state, e.g. a duplicate email (409)."""

    def __init__(self, message: str, field: str | None = None, existing_id: int | None = None) -> None:
        super().__init__(message, field)
        self.existing_id = existing_id


class ValidationFailed(DomainError):
    """Input broke one or more rules (422). errors maps field name -> message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class TooManyAttempts(DomainError):
    """A rate limit was hit (429)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InputRefused(ValueError):
    """Input that cannot be used (an upload that is no spreadsheet), with a message for the person
    who gave it: expected, so it is logged without a traceback where work runs isolated."""
