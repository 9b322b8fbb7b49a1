"""Several dashboard sessions (threads, a cursor each) find the time-sinks tables stale at once."""

from __future__ import annotations

import importlib
import threading

from analytics import timesinks as ts
from analytics.access.roles import Actor
from analytics.timesinks import precompute
from tests.analytics.timesinks.helpers import warehouse

# the module (the package re-exports its function under the same name)
precompute_module = importlib.import_module("analytics.timesinks.precompute")

EVENTS = [(f"u{u}", f"2026-03-0{d} 09:{m:02d}:00+01", "documentation", f"d{u}{d}")
          for u in range(3) for d in range(2, 6) for m in range(0, 50, 5)]
SESSIONS = 6


def test_stale_tables_are_rebuilt_once_while_every_session_gets_its_figure(monkeypatch):
    con = warehouse(EVENTS)
    precompute(con)
    con.execute("UPDATE ts_runs SET data_fingerprint = 'stale'")  # as after an import
    rebuilds: list[str] = []
    real = precompute_module.precompute

    def counted(*args, **kwargs):  # the real rebuild, counted
        rebuilds.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(precompute_module, "precompute", counted)
    start = threading.Barrier(SESSIONS)
    results: list[float] = []
    errors: list[str] = []

    def session() -> None:
        cursor = con.cursor()
        try:
            start.wait()
            figure = ts.summary(cursor, actor=Actor("viewer", "viewer"))
            results.append(float(figure.frame["active_hours"].iloc[0]))
        except Exception as exc:  # noqa: BLE001 - every failure is the finding
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            cursor.close()

    threads = [threading.Thread(target=session) for _ in range(SESSIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == SESSIONS and len(set(results)) == 1 and results[0] > 0
    assert len(rebuilds) == 1
    assert con.execute("SELECT data_fingerprint FROM ts_runs").fetchone()[0] != "stale"
