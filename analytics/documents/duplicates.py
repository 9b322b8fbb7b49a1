"""Duplicate documents: exact, near and re-typed pairs, each with a reason in plain words.

``find_duplicate_documents`` replaces the content of ``document_duplicates`` (latest run
wins, so a re-run never piles rows up) and records the run in ``document_runs``. For exact
and near pairs ``keep_document_id`` names the document the archive job keeps (signed first,
then the most complete text, then the oldest: :data:`~analytics.documents.prepare.KEEP_ORDER_SQL`);
for ``retyped`` pairs it is NULL, since both documents are legitimate.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from analytics.access.roles import Actor, Permission, require
from analytics.documents.passages import match_passages
from analytics.documents.prepare import prepare_documents, record_run
from analytics.errors import InvalidInput

__all__ = ["DuplicateSummary", "find_duplicate_documents"]

SCOPES = ("patient", "stay")


@dataclass(frozen=True)
class DuplicateSummary:
    """What one run of :func:`find_duplicate_documents` found."""

    run_id: str
    documents: int
    exact: int
    near: int
    retyped: int
    near_candidates: int
    passage_candidates: int
    seconds: float

    def summary_lines(self) -> list[str]:
        return [
            f"Documents scanned: {self.documents}",
            f"Exact duplicate pairs: {self.exact}",
            f"Near duplicate pairs: {self.near} (from {self.near_candidates} candidate pairs)",
            f"Document pairs with re-typed passages: {self.retyped} "
            f"(from {self.passage_candidates} candidate passage pairs)",
            f"Run {self.run_id} in {self.seconds:.1f} s",
        ]


def check_params(**params: object) -> None:
    """Refuse unusable parameters with a message naming the parameter and its value."""
    for name in ("near_threshold", "retyped_threshold"):
        value = params.get(name)
        if value is not None and not (isinstance(value, int | float) and 0 < value <= 100):
            raise InvalidInput(f"{name} must be a number in ]0, 100], got {value!r}")
    near_days = params.get("near_days")
    if near_days is not None and not (isinstance(near_days, int) and near_days >= 0):
        raise InvalidInput(f"near_days must be a whole number of days >= 0, got {near_days!r}")
    min_chars = params.get("min_chars")
    if min_chars is not None and not (isinstance(min_chars, int) and min_chars >= 10):
        raise InvalidInput(f"min_chars must be a whole number >= 10, got {min_chars!r}")
    share = params.get("template_share")
    if share is not None and not (isinstance(share, int | float) and 0 < share <= 1):
        raise InvalidInput(f"template_share must be a fraction in ]0, 1], got {share!r}")
    tmpl = params.get("template_min_patients")
    if tmpl is not None and not (isinstance(tmpl, int) and tmpl >= 2):
        raise InvalidInput(f"template_min_patients must be None or a whole number >= 2, got {tmpl!r}")
    scope = params.get("scope")
    if scope is not None and scope not in SCOPES:
        raise InvalidInput(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")


def detect_exact(con: duckdb.DuckDBPyConnection) -> int:
    """Temporary table ``_docs_exact``: same patient and same content hash, or same
    normalised text when a hash is missing. Two hash joins, no pair scan."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _docs_exact AS
        SELECT a.document_id AS d1, b.document_id AS d2, a.patient_id, 'hash' AS basis,
               a.hash_key, a.norm_chars,
               CASE WHEN a.keep_rank < b.keep_rank THEN a.document_id ELSE b.document_id END AS keep
        FROM _docs a JOIN _docs b
          ON a.patient_id = b.patient_id AND a.hash_key = b.hash_key AND a.document_id < b.document_id
        UNION ALL
        SELECT a.document_id, b.document_id, a.patient_id, 'text', NULL, a.norm_chars,
               CASE WHEN a.keep_rank < b.keep_rank THEN a.document_id ELSE b.document_id END
        FROM _docs a JOIN _docs b
          ON a.patient_id = b.patient_id AND a.text_md5 = b.text_md5 AND a.document_id < b.document_id
        WHERE (a.hash_key IS NULL OR b.hash_key IS NULL) AND a.norm_chars > 0
          AND a.norm_text = b.norm_text
        """
    )
    return con.execute("SELECT count(*) FROM _docs_exact").fetchall()[0][0]


def detect_near(con: duckdb.DuckDBPyConnection, *, near_days: int, near_threshold: float) -> int:
    """Temporary table ``_docs_near``: same patient and type, created within ``near_days``
    calendar days, title (token set) and text (ratio) both at least ``near_threshold``.

    Candidates come from a DuckDB self-join; rapidfuzz scores them in bulk. A missing title
    on either side does not block the pair (the text decides). Returns the candidate count.
    """
    cand = con.execute(
        """
        SELECT a.document_id AS d1, b.document_id AS d2, a.patient_id,
               abs(date_diff('day', a.created_day, b.created_day)) AS days_apart,
               a.norm_title AS title_a, b.norm_title AS title_b,
               a.norm_text AS text_a, b.norm_text AS text_b,
               CASE WHEN a.keep_rank < b.keep_rank THEN a.document_id ELSE b.document_id END AS keep
        FROM _docs a JOIN _docs b
          ON a.patient_id = b.patient_id AND a.document_type = b.document_type
         AND a.document_id < b.document_id
        LEFT JOIN _docs_exact e ON e.d1 = a.document_id AND e.d2 = b.document_id
        WHERE e.d1 IS NULL
          AND abs(date_diff('day', a.created_day, b.created_day)) <= $near_days
          AND a.norm_chars > 0 AND b.norm_chars > 0
          -- numbers are information: two reports differing by a date or a measure are two
          -- documents, however similar their words
          AND a.text_digits = b.text_digits
          AND 200.0 * least(a.norm_chars, b.norm_chars) >= $thr * (a.norm_chars + b.norm_chars)
        """,
        {"near_days": near_days, "thr": near_threshold},
    ).fetchnumpy()
    n = len(cand["d1"])
    if n:
        text_score = process.cpdist(
            cand["text_a"], cand["text_b"], scorer=fuzz.ratio, score_cutoff=near_threshold, workers=-1
        ).astype("float64")
        title_a, title_b = cand["title_a"], cand["title_b"]
        has_title = (pd.Series(title_a).str.len() > 0).to_numpy() & (
            pd.Series(title_b).str.len() > 0
        ).to_numpy()
        title_score = process.cpdist(
            title_a, title_b, scorer=fuzz.token_set_ratio, workers=-1
        ).astype("float64")
        title_score[~has_title] = np.nan
        ok = (text_score >= near_threshold) & (~has_title | (title_score >= near_threshold))
    else:
        text_score = title_score = np.empty(0)
        ok = np.zeros(0, dtype=bool)
    near = pd.DataFrame(
        {
            "d1": np.asarray(cand["d1"])[ok],
            "d2": np.asarray(cand["d2"])[ok],
            "patient_id": np.asarray(cand["patient_id"])[ok],
            "days_apart": np.asarray(cand["days_apart"])[ok],
            "title_score": title_score[ok],
            "text_score": text_score[ok],
            "keep": np.asarray(cand["keep"])[ok],
        }
    )
    con.register("_docs_near_view", near)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _docs_near AS SELECT * FROM _docs_near_view")
    finally:
        con.unregister("_docs_near_view")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _docs_dup_pairs AS
        SELECT d1, d2 FROM _docs_exact UNION SELECT d1, d2 FROM _docs_near
        """
    )
    return n


def _pct(expr: str) -> str:
    return f"CAST(floor({expr}) AS INTEGER) || ' %'"


_INSERT_EXACT = """
INSERT INTO document_duplicates
    (match_run_id, document_id_1, document_id_2, kind, score, reason, patient_id, keep_document_id)
SELECT $run_id, d1, d2, 'exact', 1.0,
       CASE basis
         WHEN 'hash' THEN 'same patient, same content hash ('
              || CASE WHEN regexp_full_match(hash_key, '[0-9a-f]{40}') THEN 'sha1 ' ELSE '' END
              || left(hash_key, 12) || '…)'
         ELSE 'same patient, same text after normalisation (' || norm_chars
              || ' characters, content hash missing)'
       END,
       patient_id, keep
FROM _docs_exact
"""

_INSERT_NEAR = f"""
INSERT INTO document_duplicates
    (match_run_id, document_id_1, document_id_2, kind, score, reason, patient_id, keep_document_id)
SELECT $run_id, d1, d2, 'near',
       round(least(coalesce(title_score, text_score), text_score) / 100.0, 4),
       'same patient and type, '
       || CASE days_apart WHEN 0 THEN 'same day' WHEN 1 THEN '1 day apart'
               ELSE days_apart || ' days apart' END
       || ', title ' || CASE WHEN title_score IS NULL THEN 'missing' ELSE {_pct("title_score")} END
       || ' / text ' || {_pct("text_score")} || ' similar',
       patient_id, keep
FROM _docs_near
"""  # noqa: S608 - only constant fragments are interpolated

_INSERT_RETYPED = f"""
INSERT INTO document_duplicates
    (match_run_id, document_id_1, document_id_2, kind, score, reason, patient_id, keep_document_id)
SELECT $run_id, least(r.source_document_id, r.target_document_id),
       greatest(r.source_document_id, r.target_document_id), 'retyped',
       round(least(1.0, r.retyped_chars / greatest(t.text_chars, 1)), 4),
       CASE WHEN r.stay_id IS NOT NULL THEN 'same stay ' || r.stay_id ELSE 'same patient' END
       || ', ' || r.passages || CASE WHEN r.passages = 1 THEN ' passage (' ELSE ' passages (' END
       || r.retyped_chars || ' characters, '
       || {_pct("100.0 * r.retyped_chars / greatest(t.text_chars, 1)")} || ' of '
       || r.target_document_id || ') of ' || r.source_document_id || ' typed again in '
       || r.target_document_id || ', ' || {_pct("r.mean_similarity")} || ' similar',
       r.patient_id, NULL
FROM _docs_shared_pairs r JOIN _docs t ON t.document_id = r.target_document_id
"""  # noqa: S608 - only constant fragments are interpolated


def find_duplicate_documents(
    con: duckdb.DuckDBPyConnection,
    *,
    actor: Actor,
    near_days: int = 10,
    near_threshold: float = 90.0,
    min_chars: int = 25,
    retyped_threshold: float = 90.0,
    scope: str = "stay",
    template_min_patients: int | None = 10,
    template_share: float = 0.2,
) -> DuplicateSummary:
    """Find exact, near and re-typed document pairs and store them in ``document_duplicates``.

    - exact: same patient, same content hash (or same normalised text when a hash is missing);
    - near: same patient and document type, created within ``near_days`` calendar days, the
      same numbers (dates, doses, measures) in the same order, text at least
      ``near_threshold`` % similar (rapidfuzz ratio on normalised text) and title too (token
      set ratio on its words; a missing title does not block);
    - retyped: passages of at least ``min_chars`` characters typed again (``retyped_threshold``
      % similar, same numbers) in another document of the same stay (``scope="stay"``; a
      document without stay falls back to the patient) or patient (``scope="patient"``).

    Choices checked on the sample hospital (see benchmarks/RESULTS.md): without the rule on
    numbers, distinct reports of one stay differing only by their date and vital signs reach
    90-97 % and would be archived as copies; with it, 90 % keeps precision and a 10-day
    window finds copies re-sent a week later. Passages of 25 characters rather than 60,
    because re-entered fields ("Motif : chute à domicile.") are short sentences.

    A passage found in at least ``template_min_patients`` patients and ``template_share`` of
    all documents is a template phrase and ignored (``template_min_patients=None`` keeps all).
    The ``actor``'s role must allow patient-level data (CLI/scheduler: ``system_actor()``).
    """
    require(actor, Permission.VIEW_PATIENT_DATA)
    params = {
        "near_days": near_days,
        "near_threshold": near_threshold,
        "min_chars": min_chars,
        "retyped_threshold": retyped_threshold,
        "scope": scope,
        "template_min_patients": template_min_patients,
        "template_share": template_share,
    }
    check_params(**params)
    started = time.perf_counter()
    run_id = f"docdup-{uuid.uuid4().hex[:12]}"
    n_docs = prepare_documents(con)
    exact = detect_exact(con)
    near_candidates = detect_near(con, near_days=near_days, near_threshold=near_threshold)
    near = con.execute("SELECT count(*) FROM _docs_near").fetchall()[0][0]
    stats = match_passages(
        con,
        min_chars=min_chars,
        threshold=retyped_threshold,
        scope=scope,
        template_min_patients=template_min_patients,
        template_share=template_share,
    )
    retyped = con.execute("SELECT count(*) FROM _docs_shared_pairs").fetchall()[0][0]
    seconds = time.perf_counter() - started
    summary = DuplicateSummary(
        run_id, n_docs, exact, near, retyped, near_candidates, stats.candidate_pairs, seconds
    )
    counts = {
        "documents": n_docs,
        "exact": exact,
        "near": near,
        "retyped": retyped,
        "near_candidates": near_candidates,
        "passages": stats.passages,
        "template_passages": stats.template_passages,
        "passage_candidates": stats.candidate_pairs,
        "seconds": round(seconds, 3),
    }
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM document_duplicates")
        for sql in (_INSERT_EXACT, _INSERT_NEAR, _INSERT_RETYPED):
            con.execute(sql, {"run_id": run_id})
        record_run(con, run_id, "duplicates", actor, seconds, params, counts)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return summary
