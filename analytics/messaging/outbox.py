"""The outbox: every message a merge, an unmerge or an undo wrote, and whether it was delivered.

The messages are the runs' output files (``job_outputs``: path and SHA-256); each delivery
attempt is a row of ``message_deliveries``. A message's status is:

* ``file`` — no endpoint is configured for its channel: the file is the delivery (default);
* ``pending`` — an endpoint is configured and the message is not delivered yet (never tried,
  or the receiver did not answer: it is tried again on the next send);
* ``sent`` — the receiver accepted it (ACK AA/CA, HTTP 2xx);
* ``refused`` — the receiver answered with an error (AE/AR, CE/CR, HTTP 4xx/5xx): not resent
  automatically; the detail says why.

:func:`deliver` sends pending messages in order (run, then file name: A28 before A31), retrying
an unanswered one with exponential backoff, and stops at the first receiver that stays silent so
that a later message never overtakes an earlier one.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics.access.roles import Actor, Permission, require
from analytics.messaging import fhir_http, mllp
from analytics.messaging.settings import MessagingSettings, messaging_settings

__all__ = ["IDENTITY_JOBS", "deliver", "outbox", "outbox_lines"]

IDENTITY_JOBS = ("merge-identities", "unmerge-identity")
_STATUS = {"accepted": "sent", "error": "refused", "rejected": "refused"}

_SQL = """
WITH messages AS (
    SELECT o.path, o.run_id, o.sha256, r.job, r.undo_of, r.started_at,
           CASE WHEN o.path LIKE '%.hl7' THEN 'mllp' ELSE 'fhir' END AS channel
    FROM job_outputs o JOIN job_runs r USING (run_id)
    WHERE list_contains($jobs, r.job) AND (o.path LIKE '%.hl7' OR o.path LIKE '%.json')
      AND ($run IS NULL OR o.run_id = $run)
), attempts AS (
    SELECT path, channel, max(attempt) AS attempts, arg_max(outcome, attempt) AS outcome,
           arg_max(code, attempt) AS code, arg_max(detail, attempt) AS detail, max(attempted_at) AS last_at
    FROM message_deliveries GROUP BY path, channel
)
SELECT m.run_id, m.job, m.undo_of, m.path, m.sha256, m.channel, coalesce(a.attempts, 0) AS attempts,
       a.outcome, a.code, a.detail, a.last_at
FROM messages m LEFT JOIN attempts a USING (path, channel)
ORDER BY m.started_at, m.run_id, m.path
"""


def outbox(con: duckdb.DuckDBPyConnection, settings: MessagingSettings | None = None, *,
           run_id: str | None = None) -> pd.DataFrame:
    """One row per message: run_id, job, undo_of, name, channel, status, attempts, code, detail, ..."""
    s = settings or messaging_settings(con)
    frame = con.execute(_SQL, {"jobs": list(IDENTITY_JOBS), "run": run_id}).df()
    configured = {"mllp": bool(s.mllp_endpoint), "fhir": bool(s.fhir_endpoint)}
    frame["name"] = [Path(p).name for p in frame["path"]]
    frame["status"] = [
        _STATUS.get(outcome, "pending" if configured[channel] else "file") if isinstance(outcome, str)
        else ("pending" if configured[channel] else "file")
        for outcome, channel in zip(frame["outcome"], frame["channel"], strict=True)
    ]
    return frame


def outbox_lines(frame: pd.DataFrame) -> list[str]:
    """The CLI's view: a count per run and status, then every message not simply written to a file."""
    if frame.empty:
        return ["no messages: no merge, unmerge or undo of one has written any"]
    lines = []
    for (run_id, job, undo_of), group in frame.groupby(["run_id", "job", "undo_of"], dropna=False, sort=False):
        what = f"undo of {undo_of}" if isinstance(undo_of, str) else job
        counts = ", ".join(f"{n} {status}" for status, n in Counter(group["status"]).most_common())
        lines.append(f"{run_id}\t{what}\t{len(group)} message(s): {counts}")
    for row in frame[frame["status"] != "file"].itertuples():
        answer = " ".join(str(v) for v in (row.code, row.detail) if isinstance(v, str) and v)
        extra = f"\t{answer}" if row.attempts and answer else ""
        lines.append(f"  {row.run_id}\t{row.name}\t{row.channel}\t{row.status}\tattempts {row.attempts}{extra}")
    return lines


def _record(con: duckdb.DuckDBPyConnection, row: Any, endpoint: str, attempt: int, outcome: str,
            code: str | None, detail: str | None, actor: Actor) -> None:
    con.execute("INSERT INTO message_deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
                [row.path, row.run_id, row.channel, endpoint, attempt, outcome, code, (detail or "")[:500],
                 actor.username])


def _send_once(row: Any, content: bytes, s: MessagingSettings) -> tuple[str, str, str]:
    """(outcome, code, detail) of one attempt; raises the channel's ``Unreachable``."""
    if row.channel == "mllp":
        host, port = s.mllp_address() or ("", 0)
        ack = mllp.send(host, port, content, s.mllp_timeout_s)
        if ack.accepted:
            return "accepted", ack.code, ack.text
        return ("rejected" if ack.code in ("AR", "CR") else "error"), ack.code, ack.text
    answer = fhir_http.post_transaction(s.fhir_endpoint, content, s.fhir_timeout_s)
    return ("accepted" if answer.accepted else "error"), str(answer.status), answer.detail


def deliver(con: duckdb.DuckDBPyConnection, actor: Actor, settings: MessagingSettings | None = None, *,
            run_id: str | None = None, sleep: Callable[[float], None] = time.sleep,
            backoff_s: float = 0.5) -> Counter:
    """Send the pending messages; a count per outcome (``accepted``, ``refused``, ``unreachable``)."""
    require(actor, Permission.JOB_APPLY)
    s = settings or messaging_settings(con)
    box = outbox(con, s, run_id=run_id)
    counts: Counter = Counter()
    for row in box[box["status"] == "pending"].itertuples():
        endpoint = s.mllp_endpoint if row.channel == "mllp" else s.fhir_endpoint
        path = Path(row.path)
        content = path.read_bytes() if path.exists() else None
        attempt = int(row.attempts)
        if content is None or hashlib.sha256(content).hexdigest() != row.sha256:
            _record(con, row, endpoint, attempt + 1, "error", None,
                    f"{row.name} is missing or was modified since the run; not sent", actor)
            counts["refused"] += 1
            continue
        for i in range(s.delivery_retries + 1):
            attempt += 1
            try:
                outcome, code, detail = _send_once(row, content, s)
            except (mllp.Unreachable, fhir_http.Unreachable) as exc:
                _record(con, row, endpoint, attempt, "unreachable", None, str(exc), actor)
                if i < s.delivery_retries:
                    sleep(backoff_s * 2 ** i)
                continue
            _record(con, row, endpoint, attempt, outcome, code, detail, actor)
            counts["accepted" if outcome == "accepted" else "refused"] += 1
            break
        else:  # the receiver stays silent: keep the order, try again on the next send
            counts["unreachable"] += 1
            break
    if counts:
        from analytics.jobs.engine import access_log

        access_log(con, actor, "export", "messages sent", counts["accepted"],
                   {"run_id": run_id, **{k: int(v) for k, v in counts.items()}})
    return counts
