"""Domain errors; views map them to HTTP statuses in one place (`http_status`)."""
from __future__ import annotations


class KbError(Exception):
    """Base of every knowledge-base error; `code` is the stable machine-readable name."""

    code = "kb_error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(KbError):
    code = "not_found"
    status = 404


class PermissionDenied(KbError):
    code = "forbidden"
    status = 403


class TransitionNotAllowed(KbError):
    code = "transition_not_allowed"
    status = 409


class StaleWrite(KbError):
    """Someone else saved first; the caller's copy is out of date."""

    code = "stale_write"
    status = 409


class Conflict(KbError):
    code = "conflict"
    status = 409


class MissingField(KbError):
    """A required field of a request is absent."""

    code = "missing_field"
    status = 400


class BadField(KbError):
    """A field of a request has the wrong type."""

    code = "bad_field"
    status = 400


class ValidationFailed(KbError):
    code = "invalid_value"
    status = 422


class ImportFailed(KbError):
    """A row of an import file is bad; nothing was written."""

    code = "import_failed"
    status = 422

    def __init__(self, row: int, reason: str) -> None:
        super().__init__(f"row {row}: {reason}")
        self.row = row
        self.reason = reason
