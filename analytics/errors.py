"""Hygie's error tree.

Every error the engine raises on purpose is a ``HygieError``; the CLI turns it into a clean
message and a non-zero exit code, and a dashboard page shows it with ``st.error``::

    HygieError
    ├── WarehouseError        the DuckDB file cannot be opened, is foreign, newer or locked
    ├── InvalidInput          a file, a parameter or a typed value is unusable
    │   ├── FileRefused       an import file has a structural fault; nothing was loaded
    │   └── KAnonymityRefused an export cannot reach k without suppressing too many rows
    ├── AccessDenied          the acting user's role does not allow the action
    ├── AuthenticationError   login failed, account locked, session expired
    └── JobError              a cleanup job cannot be previewed, applied or undone
        └── StalePreview      the data changed since the preview; preview again

Messages name the file, row and field when there is one, and never carry a traceback.
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "AuthenticationError",
    "FileRefused",
    "HygieError",
    "InvalidInput",
    "JobError",
    "KAnonymityRefused",
    "StalePreview",
    "WarehouseError",
]


class HygieError(Exception):
    """Base class of every error Hygie raises on purpose."""

    exit_code = 1


class WarehouseError(HygieError):
    """The warehouse file cannot be used (foreign, corrupted, newer schema, locked, read-only)."""

    exit_code = 3


class InvalidInput(HygieError):
    """A file, a parameter or a typed value is unusable."""

    exit_code = 2


class FileRefused(InvalidInput):
    """An import file has a structural fault and was refused whole.

    ``report`` holds the import report (problems with file, line, column) when one was built.
    """

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


class KAnonymityRefused(InvalidInput):
    """A pseudonymised export or extract cannot reach k-anonymity without suppressing more than
    the allowed share of its rows (``analytics.privacy.kanon``)."""


class AccessDenied(HygieError):
    """The acting user's role does not allow this action."""

    exit_code = 4


class AuthenticationError(HygieError):
    """Login failed, the account is locked or the session expired."""

    exit_code = 4


class JobError(HygieError):
    """A cleanup job cannot be previewed, applied or undone."""

    exit_code = 5


class StalePreview(JobError):
    """The inputs changed since the preview was computed; the apply is refused."""
