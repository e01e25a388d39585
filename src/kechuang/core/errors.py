"""The error hierarchy. Every error the user can cause is a StarError with a one-line message
saying what is wrong and where (file, row, column); the CLI prints it without a traceback."""

from __future__ import annotations


class StarError(Exception):
    """Base class for errors a user can cause and fix."""

    exit_code = 1


class ValidationError(StarError):
    """Input data breaks a rule of its schema (bad column, value, key, date...)."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path, self.row, self.column = path, row, column
        where = [p for p in (path, f"row {row}" if row is not None else None,
                             f"column {column!r}" if column else None) if p]
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")


class UnknownCodeError(StarError):
    """A security code that is not a STAR code or is not in the store."""

    exit_code = 2


class DateRangeError(StarError):
    """A date or date range that is malformed, reversed or outside the data."""

    exit_code = 2


class StoreError(StarError):
    """The store is missing, locked, or of an unsupported schema version."""

    exit_code = 3


class MissingDataError(StarError):
    """The store lacks data the request needs (e.g. share counts for a period)."""

    exit_code = 4
