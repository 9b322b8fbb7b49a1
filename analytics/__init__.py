"""Hygie's engine: warehouse, import, matching, time sinks, jobs, exports and the CLI.

It never imports Streamlit: the dashboard is one client among others (CLI, cron, scripts).
"""

from analytics.errors import (
    AccessDenied,
    AuthenticationError,
    FileRefused,
    HygieError,
    InvalidInput,
    JobError,
    StalePreview,
    WarehouseError,
)

__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "AuthenticationError",
    "FileRefused",
    "HygieError",
    "InvalidInput",
    "JobError",
    "StalePreview",
    "WarehouseError",
    "__version__",
]
