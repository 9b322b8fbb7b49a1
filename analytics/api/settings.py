"""The API's limits, from the environment (read once when the API starts).

=============================== ============================================ ========
setting                         environment variable                         default
=============================== ============================================ ========
largest request body (FHIR)     ``HYGIE_API_MAX_BODY_KB``                    256 KiB
largest forwarded CLI request   ``HYGIE_MAX_UPLOAD_MB`` (as the dashboard)   200 MB
calls a minute per client+token ``HYGIE_API_RATE_PER_MINUTE``                600
=============================== ============================================ ========
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from analytics.errors import InvalidInput

__all__ = ["DEFAULT_API_PORT", "ApiSettings", "api_settings"]

DEFAULT_API_PORT = 8502


@dataclass(frozen=True)
class ApiSettings:
    max_body_bytes: int = 256 * 1024
    cli_max_body_bytes: int = 200 * 1024 * 1024
    rate_per_minute: int = 600


def _whole(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if not raw.strip().isdigit() or int(raw) < 1:
        raise InvalidInput(f"{name}={raw!r}: expected a whole number >= 1")
    return int(raw)


def api_settings() -> ApiSettings:
    """Limits from ``HYGIE_API_MAX_BODY_KB``, ``HYGIE_MAX_UPLOAD_MB``, ``HYGIE_API_RATE_PER_MINUTE``."""
    return ApiSettings(
        max_body_bytes=_whole("HYGIE_API_MAX_BODY_KB", 256) * 1024,
        cli_max_body_bytes=_whole("HYGIE_MAX_UPLOAD_MB", 200) * 1024 * 1024,
        rate_per_minute=_whole("HYGIE_API_RATE_PER_MINUTE", 600),
    )
