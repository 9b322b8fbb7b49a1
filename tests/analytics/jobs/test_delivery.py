"""Delivery beside the files: MLLP with real ACKs and FHIR transactions, against loopback receivers.

The receivers (``receivers.py``) are built on libraries nobody here wrote: the ``hl7`` package's
asyncio MLLP server validating with ``hl7apy``, and an HTTP endpoint validating with
``fhir.resources`` that keeps the patients' state.
"""

from __future__ import annotations

import copy
import socket

import pytest

from analytics import jobs
from analytics.access.roles import Actor
from analytics.errors import AccessDenied
from analytics.messaging import messaging_settings
from analytics.messaging.outbox import deliver, outbox, outbox_lines
from tests.analytics.jobs.conftest import ADMIN
from tests.analytics.jobs.receivers import FhirReceiver, MllpReceiver
from tests.analytics.jobs.test_merge_messages import SYSTEM, _server

OID = "1.2.250.1.71.4.2.2"


@pytest.fixture
def con(warehouse):
    warehouse.execute("INSERT INTO settings (key, value) VALUES ('messaging.ipp_oid', ?)", [OID])
    return warehouse


def _configure(con, mllp: str = "", fhir: str = "", retries: int = 3):
    return messaging_settings(con, {"mllp_endpoint": mllp, "fhir_endpoint": fhir, "delivery_retries": retries})


def _apply(con, job: str, params: dict | None = None) -> jobs.Run:
    return jobs.apply(con, ADMIN, jobs.preview(con, ADMIN, job, params or {}).preview_id)


def _statuses(con, settings) -> list[tuple[str, str, str]]:
    box = outbox(con, settings)
    return list(zip(box["name"], box["channel"], box["status"], strict=True))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_files_remain_the_default(con):
    _apply(con, "merge-identities")
    settings = _configure(con)
    assert {s for _, _, s in _statuses(con, settings)} == {"file"}
    assert deliver(con, ADMIN, settings) == {}


def test_merge_and_its_undo_reach_both_receivers_in_order(con):
    server = _server(con)
    before = copy.deepcopy(server.patients)
    with MllpReceiver() as mllp, FhirReceiver(server) as fhir:
        settings = _configure(con, f"127.0.0.1:{mllp.port}", fhir.url)
        merge = _apply(con, "merge-identities")
        assert _statuses(con, settings) == [("adt_a40_P001.hl7", "mllp", "pending"),
                                            ("adt_a40_P004.hl7", "mllp", "pending"),
                                            ("merge_bundle.json", "fhir", "pending")]
        assert deliver(con, ADMIN, settings) == {"accepted": 3}
        assert mllp.events() == ["A40", "A40"]
        assert server.patients["P001"]["active"] is False and server.patients["P002"]["link"][0]["type"] == "replaces"
        assert {s for _, _, s in _statuses(con, settings)} == {"sent"}
        jobs.undo(con, ADMIN, merge.run_id)
        lines = outbox_lines(outbox(con, settings))
        assert lines[0].endswith("merge-identities\t3 message(s): 3 sent")
        assert lines[1].split("\t")[1:] == [f"undo of {merge.run_id}", "5 message(s): 5 pending"]
        assert deliver(con, ADMIN, settings) == {"accepted": 5}
        assert mllp.events() == ["A40", "A40", "A28", "A28", "A31", "A31"]
        assert server.patients == before  # the receiver is back where it was: links gone, both active
    assert not any(m.startswith("REJECTED") for m in mllp.received)


def test_a_silent_receiver_is_retried_with_backoff_and_nothing_overtakes(con):
    port = _free_port()
    settings = _configure(con, f"127.0.0.1:{port}", retries=2)
    _apply(con, "merge-identities")
    slept: list[float] = []
    assert deliver(con, ADMIN, settings, sleep=slept.append) == {"unreachable": 1}
    assert slept == [0.5, 1.0]
    box = outbox(con, settings)
    assert list(box["attempts"]) == [3, 0, 0] and list(box["status"]) == ["pending", "pending", "file"]
    assert "ConnectionRefusedError" in box["detail"][0]
    # the receiver comes up on the port the settings name, and the same send goes through
    receiver = MllpReceiver()
    receiver.port = port
    with receiver:
        assert deliver(con, ADMIN, settings, sleep=slept.append) == {"accepted": 2}
        assert receiver.events() == ["A40", "A40"]
    assert list(outbox(con, settings)["attempts"]) == [4, 1, 0]


def test_refusals_are_recorded_with_the_receivers_reason(con):
    server = _server(con)
    server.patients.pop("P003")  # the FHIR receiver does not know P003: its transaction fails whole
    with MllpReceiver(answer=lambda m: "AR" if "P004" in str(m.segment("MRG")) else None) as mllp, \
            FhirReceiver(server) as fhir:
        settings = _configure(con, f"127.0.0.1:{mllp.port}", fhir.url)
        _apply(con, "merge-identities")
        assert deliver(con, ADMIN, settings) == {"accepted": 1, "refused": 2}
        box = outbox(con, settings).set_index("name")
        assert (box.loc["adt_a40_P004.hl7", "status"], box.loc["adt_a40_P004.hl7", "code"]) == ("refused", "AR")
        assert box.loc["merge_bundle.json", "code"] == "422"
        assert box.loc["merge_bundle.json", "detail"] == (
            f"error processing: no patient matches Patient?identifier={SYSTEM.replace(':', '%3A')}%7CP003")
        assert deliver(con, ADMIN, settings) == {}  # a refusal is not resent on its own


def test_only_those_who_may_apply_jobs_send(con):
    with pytest.raises(AccessDenied):
        deliver(con, Actor("victor", "viewer"), _configure(con))


def test_cli_sends_after_apply_and_undo_and_outbox_shows_it(warehouse_path, monkeypatch):
    from click.testing import CliRunner

    from analytics.cli import main

    def hygie(*args: str):
        result = CliRunner().invoke(main, ["--db", str(warehouse_path), "jobs", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output.splitlines()

    port = _free_port()
    monkeypatch.setenv("HYGIE_MESSAGING_MLLP_ENDPOINT", f"127.0.0.1:{port}")
    monkeypatch.setenv("HYGIE_MESSAGING_DELIVERY_RETRIES", "0")
    applied = hygie("run", "merge-identities", "--apply", "--yes")  # the receiver is down
    run_id = applied[-2].removeprefix("run_id=")
    assert applied[-1] == "messages: 1 unreachable"
    assert hygie("outbox")[:3] == [
        f"{run_id}\tmerge-identities\t3 message(s): 2 pending, 1 file",
        f"  {run_id}\tadt_a40_P001.hl7\tmllp\tpending\tattempts 1\t127.0.0.1:{port}: ConnectionRefusedError "
        f"[Errno 111] Connect call failed ('127.0.0.1', {port})",
        f"  {run_id}\tadt_a40_P004.hl7\tmllp\tpending\tattempts 0"]
    receiver = MllpReceiver()
    receiver.port = port
    with receiver:
        sent = hygie("outbox", "--send")
        assert sent[0] == "sent: 2 accepted"
        assert sent[2] == f"  {run_id}\tadt_a40_P001.hl7\tmllp\tsent\tattempts 2\tAA"
        undone = hygie("undo", run_id, "--yes")
        undo_id = undone[-2].removeprefix("run_id=")
        assert undone[-1] == "messages: 4 accepted"  # A28 x2, A31 x2, sent as the undo finished
        assert hygie("outbox", "--run", undo_id)[0] == f"{undo_id}\tundo of {run_id}\t5 message(s): 4 sent, 1 file"
        history = hygie("history")
        assert history[1].split("\t")[:3] == [undo_id, f"merge-identities (undo of {run_id})", "succeeded"]
        assert history[2].split("\t")[:3] == [run_id, "merge-identities", "undone"]
        assert receiver.events() == ["A40", "A40", "A28", "A28", "A31", "A31"]
