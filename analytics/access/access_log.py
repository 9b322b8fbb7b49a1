"""The access log: who logged in, viewed, exported, ran or changed what, and when.

Append-only by API: this module offers :func:`record` and readers, nothing that updates or
deletes. :func:`record` writes through its own cursor and commits at once, under a process-wide
lock, so the chain stays linear when several dashboard sessions write together and the row
survives even if the caller's own transaction is rolled back. Call it *after* committing the
work it describes, so that a rolled-back job is not logged as applied.

Keyed chain
-----------
Each row carries ``row_hash = HMAC-SHA-256(key, canonical JSON of the row + prev_hash)`` where
``prev_hash`` is the previous row's ``row_hash`` (64 zeros for the first). The key is the file
``<db>.logkey`` beside the warehouse (``HYGIE_LOG_KEY_FILE`` to keep it elsewhere), created with
32 random bytes and mode 0600 by the first :func:`record`; it is never in the database, so
whoever can only change the database (a restored or edited copy, SQL behind the API's back)
cannot recompute a valid chain.

Anchor
------
After every append the chain's head is written, signed with the same key, to the file
``<db>.loghead`` (``HYGIE_LOG_ANCHOR_FILE``; atomic replace, mode 0600)::

    {"version": 1, "keyed_from": 42, "base_first": null, "base_hash": "000…",
     "head_id": 97, "head_hash": "…", "lost": null, "mac": "<HMAC of the rest>"}

``keyed_from`` is the first row written with the key: rows before it were written by an older
Hygie with a plain ``sha256`` and are checked as such (the first keyed row commits to their last
hash, so they cannot be rewritten either once it exists). ``head_id``/``head_hash`` let
:func:`verify_chain` see rows removed from the end (truncation). ``lost`` is set when the anchor
file disappeared while the log and the key existed (the verification then fails at that row
until an administrator restores the anchor from a backup).

Extending with a retention purge: a purge deletes the oldest rows, then calls
:func:`rebase_after_purge` (same process, after its commit), which records in the anchor the
first kept row (``base_first``) and the hash it chains to (``base_hash``): verification starts
there instead of at the genesis. The purge itself should :func:`record` what it removed (range
of log ids, the last removed row's hash) so the log says so.

Detected by :func:`verify_chain`: a row edited, inserted or deleted anywhere (even with every
later hash recomputed, with or without this module's helpers, unless the key is known); the last
rows deleted (the anchor names a head that is gone or different); the anchor deleted, edited or
replaced by an unsigned one. Not detected: anything done by someone who can read the key file
(the service account, root): they can rewrite log, head and anchor consistently — keep
``HYGIE_LOG_KEY_FILE`` where that account cannot write, and copy the anchor elsewhere
(:func:`chain_head`) if that threat matters; deleting *both* the key and the anchor and rewriting
the whole log as plain ``sha256`` looks like a warehouse never opened by this version.

Never pass a password, a password hash or a secret: values under keys that look like one
(``password``, ``secret``, ``token``, ...) are replaced by ``[redacted]`` anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd

from analytics.access.keys import key_path, load_key
from analytics.access.roles import Actor, Permission, require
from analytics.errors import InvalidInput

__all__ = [
    "ACTIONS",
    "GENESIS_HASH",
    "chain_head",
    "read_log",
    "rebase_after_purge",
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
        "schedule_change",
        "request_refused",
    }
)

GENESIS_HASH = "0" * 64

log = logging.getLogger("hygie.access")

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
    """The plain (unkeyed) hash of rows written before the keyed chain: legacy rows only."""
    return hashlib.sha256((_canonical(payload) + prev_hash).encode("utf-8")).hexdigest()


def _keyed_hash(payload: dict[str, Any], prev_hash: str, key: bytes) -> str:
    return hmac.new(key, (_canonical(payload) + prev_hash).encode("utf-8"), hashlib.sha256).hexdigest()


# ------------------------------------------------------------------------------ key and anchor

ANCHOR_VERSION = 1
_EPHEMERAL_KEY = secrets.token_bytes(32)  # in-memory warehouses: a key for the process's life


def _db_path(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return row[0] if row and row[0] else ":memory:"


class _Chain:
    """The key and the anchor file of one warehouse's log."""

    def __init__(self, con: duckdb.DuckDBPyConnection, *, create: bool) -> None:
        db = _db_path(con)
        keyfile = key_path(db, ".logkey", "HYGIE_LOG_KEY_FILE")
        self.anchor_path = key_path(db, ".loghead", "HYGIE_LOG_ANCHOR_FILE")
        self.key_created = False
        if keyfile is None:
            self.key: bytes | None = _EPHEMERAL_KEY
        elif create or keyfile.exists():
            self.key, self.key_created = load_key(keyfile, "access-log")
        else:
            self.key = None  # never written by a keyed Hygie

    def _mac(self, fields: dict[str, Any]) -> str:
        assert self.key is not None
        return hmac.new(self.key, _canonical(fields).encode("utf-8"), hashlib.sha256).hexdigest()

    def read_anchor(self) -> dict[str, Any] | None:
        """The anchor's fields; None when there is no file; ``{"invalid": True}`` when forged."""
        if self.anchor_path is None:  # in-memory warehouse: keyed from its first row, no file
            return _new_anchor(0)
        try:
            data = json.loads(self.anchor_path.read_text(encoding="utf-8"))
            fields = {k: v for k, v in data.items() if k != "mac"}
            if self.key is None or not hmac.compare_digest(str(data.get("mac", "")), self._mac(fields)):
                return {"invalid": True}
            return fields
        except FileNotFoundError:
            return None
        except (OSError, ValueError, AttributeError):
            return {"invalid": True}

    def write_anchor(self, fields: dict[str, Any]) -> None:
        if self.anchor_path is None:
            return
        data = dict(fields, mac=self._mac(fields))
        tmp = self.anchor_path.with_name(f".{self.anchor_path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(_canonical(data))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.anchor_path)


def _new_anchor(keyed_from: int | None) -> dict[str, Any]:
    return {"version": ANCHOR_VERSION, "keyed_from": keyed_from, "base_first": None,
            "base_hash": GENESIS_HASH, "head_id": None, "head_hash": GENESIS_HASH, "lost": None}


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
            chain = _Chain(cur, create=True)
            anchor = chain.read_anchor()
            cur.execute("BEGIN TRANSACTION")
            try:
                log_id = cur.execute("SELECT nextval('access_log_seq')").fetchone()[0]
                last = cur.execute(
                    "SELECT log_id, row_hash FROM access_log ORDER BY log_id DESC LIMIT 1"
                ).fetchone()
                prev_hash = last[1] if last else GENESIS_HASH
                if anchor is None and (chain.key_created or last is None):
                    # first keyed append: the rows of an older Hygie stay plain before it
                    anchor = _new_anchor(int(log_id))
                elif anchor is None or anchor.get("invalid"):
                    # the anchor vanished or was forged while key and rows existed: the new anchor
                    # says so, and verify_chain fails there until the real one is restored
                    anchor = _new_anchor(None)
                    anchor["lost"] = int(last[0]) if last else int(log_id)
                payload = _payload(log_id, moment, name, role, via, action, object, row_count, clean)
                assert chain.key is not None
                row_hash = _keyed_hash(payload, prev_hash, chain.key)
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
                        row_hash,
                    ],
                )
                cur.execute("COMMIT")
            except Exception:
                cur.execute("ROLLBACK")
                raise
            anchor.update(head_id=int(log_id), head_hash=row_hash)
            try:
                chain.write_anchor(anchor)
            except OSError as exc:  # the row is committed: say so loudly, do not fail the caller
                log.warning("access log: cannot write the anchor %s (%s); rows after log id %s are "
                            "vouched for by the chain only until the next append succeeds",
                            chain.anchor_path, exc.strerror, anchor.get("head_id"))
    finally:
        cur.close()
    return int(log_id)


def verify_chain(con: duckdb.DuckDBPyConnection) -> tuple[bool, int | None]:
    """Recompute the keyed chain: ``(True, None)``, or ``(False, log_id of the first bad row)``.

    A row is bad when its hash does not match its content under the key, or when its
    ``prev_hash`` is not the hash of the row before it (a row was edited, inserted or deleted
    before it). When rows were removed from the end, the log id named is the anchor's head
    (the last row that existed); when the anchor itself is missing, forged or was lost, the row
    from which the log can no longer be vouched for.
    """
    rows = con.execute(
        "SELECT log_id, logged_at, actor, role, via, action, object, row_count, detail, "
        "prev_hash, row_hash FROM access_log ORDER BY log_id"
    ).fetchall()
    chain = _Chain(con, create=False)
    anchor = chain.read_anchor()
    if anchor is None:
        if chain.key is None:  # never written by a keyed Hygie: the plain chain of older versions
            anchor = _new_anchor(None)
        elif rows:
            return False, int(rows[0][0])  # key present, anchor gone
        else:
            return True, None
    if anchor.get("invalid"):
        return False, int(rows[0][0]) if rows else None
    if anchor.get("lost") is not None:
        return False, int(anchor["lost"])
    keyed_from, first = anchor.get("keyed_from"), anchor.get("base_first")
    expected_prev = anchor.get("base_hash") or GENESIS_HASH
    hashes: dict[int, str] = {}
    for log_id, logged_at, actor, role, via, action, obj, row_count, detail, prev, stored in rows:
        if first is not None and log_id < first:
            continue  # left by a purge that was rolled back after the anchor moved: not vouched for
        parsed = json.loads(detail) if detail is not None else None
        payload = _payload(log_id, logged_at, actor, role, via, action, obj, row_count, parsed)
        if keyed_from is not None and log_id >= keyed_from:
            assert chain.key is not None
            good = hmac.compare_digest(_keyed_hash(payload, prev, chain.key), stored)
        else:
            good = _row_hash(payload, prev) == stored
        if prev != expected_prev or not good:
            return False, int(log_id)
        expected_prev = stored
        hashes[int(log_id)] = stored
    head = anchor.get("head_id")
    if head is not None and hashes.get(int(head)) != anchor.get("head_hash"):
        return False, int(head)  # the anchored head is gone (truncation) or different
    return True, None


def rebase_after_purge(con: duckdb.DuckDBPyConnection, first_kept: int) -> None:
    """After a retention purge removed every row before ``first_kept``, start the chain there.

    The anchor records ``first_kept`` and the ``prev_hash`` it carries (the last purged row's
    hash), signed with the key, so :func:`verify_chain` checks the kept rows from that point.
    """
    with _lock:
        chain = _Chain(con, create=True)
        anchor = chain.read_anchor()
        if anchor is None or anchor.get("invalid"):
            raise InvalidInput("access log: no valid anchor to rebase; verify the chain first")
        row = con.execute("SELECT prev_hash FROM access_log WHERE log_id = ?", [int(first_kept)]).fetchone()
        if row is None:
            raise InvalidInput(f"access log: no row {first_kept} to start the chain at")
        anchor.update(base_first=int(first_kept), base_hash=row[0])
        chain.write_anchor(anchor)


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
