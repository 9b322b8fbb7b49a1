"""Cleanup jobs: a registry of documented jobs, previewed, applied, traced and undone exactly.

What the dashboard and the CLI call::

    list_jobs()                                   -> [JobSpec]  (name, summary, doc, params())
    preview(con, actor, job, params)              -> Preview    (preview_id, counts, notes, ...)
    preview_changes(con, actor, id)               -> DataFrame  (before → after of every row)
    apply(con, actor, preview_id, progress=None)  -> Run        (progress(done, total))
    undo(con, actor, run_id)                      -> Run
    history(con)                                  -> DataFrame
    run_changes(con, actor, run_id)               -> DataFrame
    mark_interrupted(con)                         -> int        (call when opening the warehouse)
    schedules: analytics.jobs.schedules; worker: analytics.jobs.worker.start_worker(con, db_path)
"""

from analytics.jobs.engine import (
    Preview,
    Run,
    apply,
    get_run,
    history,
    mark_interrupted,
    preview,
    preview_changes,
    run_changes,
    undo,
)
from analytics.jobs.registry import ChangeSet, JobSpec, get_job, list_jobs

__all__ = [
    "ChangeSet",
    "JobSpec",
    "Preview",
    "Run",
    "apply",
    "get_job",
    "get_run",
    "history",
    "list_jobs",
    "mark_interrupted",
    "preview",
    "preview_changes",
    "run_changes",
    "undo",
]
