"""A forwarded command's answer streams: its output as printed, DuckDB's progress, then the exit code.

In process, on a copy of the demo warehouse: :func:`stream_forwarded` is what ``POST /cli``
sends, line by line (the real-server tests in ``test_cli_forwarding.py`` run it end to end).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from analytics.api.cli_bridge import stream_forwarded
from analytics.errors import InvalidInput
from analytics.warehouse import connect
from analytics.warehouse.connection import copy_warehouse


@pytest.fixture
def owner(demo_template: Path, tmp_path: Path):
    db = tmp_path / "hygie.duckdb"
    copy_warehouse(demo_template, db)
    con = connect(db)
    yield con, db
    con.close()


def test_duplicates_find_streams_its_lines_and_its_progress_before_its_exit_code(owner):
    con, db = owner
    events = [json.loads(line) for line in stream_forwarded(con, db, {"argv": ["duplicates", "find"]},
                                                            progress_every_s=0.005)]
    kinds = [next(iter(e)) for e in events]
    assert kinds[-1] == "exit_code" and events[-1]["exit_code"] == 0 and kinds.count("exit_code") == 1
    progress = [e["progress"] for e in events if "progress" in e]
    assert progress and all(0 <= p <= 100 for p in progress), kinds
    printed = [base64.b64decode(e["stdout"]).decode() for e in events if "stdout" in e]
    text = "".join(printed)
    assert len(printed) >= 2 and text.startswith("match run ") and "2500 patients" in text.splitlines()[0]
    first_line, first_progress = kinds.index("stdout"), kinds.index("progress")
    assert first_progress < first_line, "progress is reported while the matching runs, before its summary"


def test_a_malformed_command_is_refused_before_anything_runs(owner):
    con, db = owner
    with pytest.raises(InvalidInput, match="is not a command the serving process runs"):
        stream_forwarded(con, db, {"argv": ["serve"]})
