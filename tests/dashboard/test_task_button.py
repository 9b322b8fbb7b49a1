""""Lancer la détection" and "Recalculer le temps documentaire": worker requests, with their outcome."""

from __future__ import annotations

import pytest

from analytics.jobs.queue import JobQueue, queue_path
from tests.dashboard.conftest import query

PAGES = [
    ("duplicates", "views/duplicates.py", "detect-duplicates", "Lancer la détection"),
    ("time sinks", "views/time_sinks.py", "recompute-time-sinks", "Recalculer le temps documentaire"),
]


@pytest.mark.parametrize(("description", "page", "task", "label"), PAGES, ids=[p[0] for p in PAGES])
def test_a_manager_runs_the_analysis_through_the_worker(app, fresh_warehouse, description, page, task, label):
    at = app(fresh_warehouse, "manager").run()
    at.switch_page(page).run()
    button = at.button(key=f"task_button_{task}")
    assert button.label == label, description
    button.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    pending = at.session_state[f"task_pending_{task}"]
    result = JobQueue(queue_path(fresh_warehouse)).wait(pending, timeout=120)
    assert result["ok"] and result["data"]["status"] == "succeeded", result
    at.run()  # the progress fragment sees the answer
    assert f"task_pending_{task}" not in at.session_state
    assert any(s.value == "Terminé : les résultats affichés sont à jour." for s in at.success), description
    runs = query(fresh_warehouse, "SELECT job, status, actor FROM job_runs")
    assert (task, "succeeded", "test-manager") in runs, description


@pytest.mark.parametrize("role", ["analyst", "viewer"])
def test_roles_that_may_not_apply_jobs_see_no_button(app, warehouse, role):
    at = app(warehouse, role).run()
    at.switch_page("views/time_sinks.py").run()
    assert not [b for b in at.button if b.key and b.key.startswith("task_button_")]
