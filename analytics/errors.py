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
    ├── EngineUnavailable     the Spark engine cannot start (no pyspark, no Java, bad master)
    └── JobError              a cleanup job cannot be previewed, applied or undone
        └── StalePreview      the data changed since the preview; preview again

Messages name the file, row and field when there is one, and never carry a traceback.

An error raised with a code of :data:`analytics.messages.ENGLISH` carries that ``code`` and its
``params``; ``str()`` is the English sentence (CLI, logs) and a page shows the French text of
``error.<code>`` (``dashboard/i18n.py``)::

    raise InvalidInput("hours.start_after_end", start="18:00", end="08:00")

A sentence that is not a code is kept as it is (``code`` None): the engine's errors move to
codes one by one.
"""

from __future__ import annotations

from analytics.messages import ENGLISH

__all__ = [
    "AccessDenied",
    "AuthenticationError",
    "EngineUnavailable",
    "FileRefused",
    "HygieError",
    "InvalidInput",
    "JobError",
    "KAnonymityRefused",
    "StalePreview",
    "WarehouseError",
]


class HygieError(Exception):
    """Base class of every error Hygie raises on purpose.

    ``HygieError(code, **params)`` with a registered code, or ``HygieError(sentence)``.
    """

    exit_code = 1

    def __init__(self, code: str = "", /, **params: object) -> None:
        if code in ENGLISH:
            self.code: str | None = code
            self.params: dict[str, object] = params
            super().__init__(ENGLISH[code].format(**params))
        else:
            if params:
                raise TypeError(f"{type(self).__name__}: parameters given with an unknown code {code!r}")
            self.code, self.params = None, {}
            super().__init__(code)


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

    def __init__(self, code: str, /, report: object | None = None, **params: object) -> None:
        super().__init__(code, **params)
        self.report = report


class KAnonymityRefused(InvalidInput):
    """A pseudonymised export or extract cannot reach k-anonymity without suppressing more than
    the allowed share of its rows (``analytics.privacy.kanon``). ``rows``: the rows checked."""

    rows: int = 0


class AccessDenied(HygieError):
    """The acting user's role does not allow this action."""

    exit_code = 4


class AuthenticationError(HygieError):
    """Login failed, the account is locked or the session expired."""

    exit_code = 4


class EngineUnavailable(HygieError):
    """The Spark engine cannot start: pyspark missing, no Java runtime, a master unreachable."""

    exit_code = 6


class JobError(HygieError):
    """A cleanup job cannot be previewed, applied or undone."""

    exit_code = 5


class StalePreview(JobError):
    """The inputs changed since the preview was computed; the apply is refused."""
