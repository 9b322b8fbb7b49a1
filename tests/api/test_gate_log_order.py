"""The gate holds each answer until the call's access-log row is committed (in process, real DuckDB).

The ASGI ``send`` given to the app is where an answer leaves for the client: when its first
message arrives, the row must already be readable from another cursor of the warehouse.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import duckdb

from analytics.api.app import create_app
from analytics.api.settings import ApiSettings

CLI_KEY = "k" * 43


def _call(app: Any, con: duckdb.DuckDBPyConnection | None, method: str, path: str, body: bytes = b"",
          token: str | None = None) -> tuple[int, bytes, list[int]]:
    """One call through the app; (status, body, access-log rows for it seen when the answer left)."""
    headers = [(b"content-length", str(len(body)).encode())]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "path": path,
             "raw_path": path.encode(), "query_string": b"", "root_path": "", "scheme": "http",
             "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8502)}
    sent: list[dict[str, Any]] = []
    seen: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and con is not None:
            cur = con.cursor()
            try:
                seen.append(cur.execute("SELECT count(*) FROM access_log WHERE object = ?",
                                        [f"api {method} {path}"]).fetchone()[0])
            finally:
                cur.close()
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:]), seen


def test_the_answer_leaves_only_once_its_access_log_row_is_committed(con, db_path):
    app = create_app(con, db_path, ApiSettings(), CLI_KEY)
    assert _call(app, con, "GET", "/fhir/metadata")[::2] == (200, [1])
    assert _call(app, con, "GET", "/fhir/metadata")[::2] == (200, [2])
    assert _call(app, con, "POST", "/fhir/Patient/$match", b"{}", token="hyg_000000000000_" + "x" * 43)[::2] == (
        401, [1])
    assert _call(app, con, "GET", "/nowhere", token=CLI_KEY)[::2] == (404, [1])
    assert _call(app, con, "GET", "/health")[::2] == (200, [0])  # probes are not logged


def test_an_answer_whose_row_cannot_be_written_is_not_delivered(con, db_path):
    app = create_app(con, db_path, ApiSettings(), CLI_KEY)
    con.execute("ALTER TABLE access_log RENAME TO access_log_elsewhere")
    status, body, _ = _call(app, None, "GET", "/fhir/metadata")
    assert status == 503
    outcome = json.loads(body)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["diagnostics"].startswith("Le journal des accès n'a pas pu être écrit")
