"""The access log: who logged in, viewed, exported, ran or changed what, and when.

Append-only by API: this module offers :func:`record` and readers, nothing that updates or
deletes. Each row is chained to the previous one: ``row_hash = sha256(canonical JSON of the row
+ prev_hash)``, so that editing or deleting a past row is detected by :func:`verify_chain`.
Removing the *last* rows cannot be seen from the chain alone: keep :func:`chain_head` somewhere
else (a daily e-mail, a syslog line) to detect that too.

:func:`record` writes through its own cursor and commits at once, under a process-wide lock, so
the chain stays linear when several dashboard sessions write together and the row survives
even if the caller's own transaction is rolled back. Call it *after* committing the work it
describes, so that a rolled-back job is not logged as applied.

Never pass a password, a password hash or a secret: values under keys that look like one
(``password``, ``secret``, ``token``, ...) are replaced by ``[redacted]`` anyway.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd

from analytics.access.roles import Actor, Permission, require
from analytics.errors import InvalidInput

__all__ = [
    "ACTIONS",
    "GENESIS_HASH",
    "chain_head",
    "read_log",
    "record",
    "verify_chain",
]

ACTIONS = frozenset(
    {
        "login",
        "login_failed",
        "logout",
        "view",
        "export",
        "job_preview",
        "job_apply",
        "job_undo",
        "import",
        "review",
        "user_change",
        "settings_change",
    }
)

GENESIS_HASH = "0" * 64

_SECRET_KEY = re.compile(r"pass(word|wd|phrase)?|secret|token|api[_-]?key|credential|hash", re.I)
_REDACTED = "[redacted]"
_MAX_TEXT = 200

_lock = threading.Lock()


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            str(k): (_REDACTED if _SECRET_KEY.search(str(k)) else _redact(v)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _row_hash(payload: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256((_canonical(payload) + prev_hash).encode("utf-8")).hexdigest()


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _payload(
    log_id: int,
    logged_at: datetime,
    actor: str,
    role: str | None,
    via: str | None,
    action: str,
    obj: str | None,
    row_count: int | None,
    detail: Any,
) -> dict[str, Any]:
    return {
        "log_id": int(log_id),
        "logged_at": _utc_text(logged_at),
        "actor": actor,
        "role": role,
        "via": via,
        "action": action,
        "object": obj,
        "row_count": None if row_count is None else int(row_count),
        "detail": detail,
    }


def record(
    con: duckdb.DuckDBPyConnection,
    actor: Actor | str,
    action: str,
    object: str | None,  # noqa: A002 - the interface name
    row_count: int | None = None,
    detail: dict[str, Any] | None = None,
    *,
    now: datetime | None = None,
    via: str | None = None,
) -> int:
    """Append one row to the access log and return its ``log_id``.

    ``actor`` is an :class:`Actor`, or the name typed at a failed login (a plain string).
    ``detail`` is a small JSON-able dict (dialect, filters, job parameters...). ``via``
    overrides the actor's channel (for a plain-string actor, it is the only source).
    """
    if action not in ACTIONS:
        raise InvalidInput(f"access log: unknown action '{action}' (expected one of {sorted(ACTIONS)})")
    if detail is not None and not isinstance(detail, dict):
        raise InvalidInput("access log: detail must be a dict")
    if isinstance(actor, Actor):
        name, role, via = actor.username, actor.role, via or actor.via
    else:
        name, role = str(actor)[:_MAX_TEXT], None
    clean = _redact(detail) if detail is not None else None
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise InvalidInput("access log: the time stamp must carry a time zone")
    cur = con.cursor()
    try:
        with _lock:
            cur.execute("BEGIN TRANSACTION")
            try:
                log_id = cur.execute("SELECT nextval('access_log_seq')").fetchone()[0]
                last = cur.execute(
                    "SELECT row_hash FROM access_log ORDER BY log_id DESC LIMIT 1"
                ).fetchone()
                prev_hash = last[0] if last else GENESIS_HASH
                payload = _payload(log_id, moment, name, role, via, action, object, row_count, clean)
                cur.execute(
                    "INSERT INTO access_log (log_id, logged_at, actor, role, via, action, object, "
                    "row_count, detail, prev_hash, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        log_id,
                        moment,
                        name,
                        role,
                        via,
                        action,
                        object,
                        payload["row_count"],
                        None if clean is None else _canonical(clean),
                        prev_hash,
                        _row_hash(payload, prev_hash),
                    ],
                )
                cur.execute("COMMIT")
            except Exception:
                cur.execute("ROLLBACK")
                raise
    finally:
        cur.close()
    return int(log_id)


def verify_chain(con: duckdb.DuckDBPyConnection) -> tuple[bool, int | None]:
    """Recompute the hash chain: ``(True, None)``, or ``(False, log_id of the first bad row)``.

    A row is bad when its own hash does not match its content, or when its ``prev_hash`` is not
    the hash of the row before it (a row was edited, inserted or deleted before it).
    """
    rows = con.execute(
        "SELECT log_id, logged_at, actor, role, via, action, object, row_count, detail, "
        "prev_hash, row_hash FROM access_log ORDER BY log_id"
    ).fetchall()
    expected_prev = GENESIS_HASH
    for log_id, logged_at, actor, role, via, action, obj, row_count, detail, prev, stored in rows:
        parsed = json.loads(detail) if detail is not None else None
        payload = _payload(log_id, logged_at, actor, role, via, action, obj, row_count, parsed)
        if prev != expected_prev or _row_hash(payload, prev) != stored:
            return False, int(log_id)
        expected_prev = stored
    return True, None


def chain_head(con: duckdb.DuckDBPyConnection) -> tuple[int | None, str]:
    """``(log_id, row_hash)`` of the last row: keep it elsewhere to detect truncation later."""
    last = con.execute("SELECT log_id, row_hash FROM access_log ORDER BY log_id DESC LIMIT 1").fetchone()
    return (int(last[0]), last[1]) if last else (None, GENESIS_HASH)


def read_log(
    con: duckdb.DuckDBPyConnection,
    actor: Actor,
    *,
    username: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> pd.DataFrame:
    """The newest log rows first, filtered; requires the VIEW_ACCESS_LOG permission."""
    require(actor, Permission.VIEW_ACCESS_LOG)
    if action is not None and action not in ACTIONS:
        raise InvalidInput(f"access log: unknown action '{action}'")
    if not 1 <= int(limit) <= 1_000_000:
        raise InvalidInput("access log: limit must be between 1 and 1000000")
    return con.execute(
        """
        SELECT log_id, logged_at, actor, role, via, action, object, row_count, detail
        FROM access_log
        WHERE ($username IS NULL OR actor = $username)
          AND ($action IS NULL OR action = $action)
          AND ($since IS NULL OR logged_at >= $since)
          AND ($until IS NULL OR logged_at < $until)
        ORDER BY log_id DESC
        LIMIT $limit
        """,
        {"username": username, "action": action, "since": since, "until": until, "limit": int(limit)},
    ).df()
