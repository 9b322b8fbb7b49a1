"""Re-typed passages: the same sentence typed again in another document of the patient.

Pipeline, all set-based:

1. DuckDB splits each text into sentences/paragraphs (``regexp_extract_all``) and keeps
   those of at least ``min_chars`` characters, with a comparison key (lower case, no
   accents, punctuation folded to spaces).
2. Template phrases are dropped: a key seen in at least ``template_min_patients`` patients
   *and* in at least ``template_share`` of all documents is boilerplate inserted by a form,
   not information typed twice. (Common field values such as a frequent admission motive
   are spread over many patients but each sits in a small share of documents: they stay.)
3. Candidate pairs come from a bottom-k sketch: each passage keeps the ``sketch`` smallest
   hashes of its character ``gram``-grams; two passages of the same patient sharing one of
   them are candidates. For passages with Jaccard similarity J, the chance of sharing at
   least the minimum hash is ≥ J, so near-identical passages (a few typos) are found, and
   joining within a patient bounds the work.
4. rapidfuzz confirms each candidate in bulk (``process.cpdist`` with ``fuzz.ratio``); the
   numbers of both passages must be equal (a different date, dose or measure is different
   information, however similar the words).
5. Document pairs sharing at least one confirmed passage are reported (``_docs_shared_pairs``);
   for the minutes, each re-typed (later) passage is attributed once, to its best and
   earliest source (``_docs_retyped``, ``_docs_retyped_pairs``), so that nothing is counted twice.

Pairs of documents listed in ``_docs_dup_pairs`` (exact and near duplicates) are left out:
a duplicated document is not double entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

__all__ = ["PassageStats", "match_passages"]

#: A sentence ends at . ! ? or a line break; the punctuation stays with the sentence.
PASSAGE_PATTERN = r"[^.!?\n]+[.!?]*"


@dataclass(frozen=True)
class PassageStats:
    passages: int
    template_passages: int
    candidate_pairs: int
    retyped_passages: int


def match_passages(
    con: duckdb.DuckDBPyConnection,
    *,
    min_chars: int,
    threshold: float,
    scope: str,
    template_min_patients: int | None,
    template_share: float = 0.2,
    gram: int = 5,
    sketch: int = 4,
) -> PassageStats:
    """Fill the temporary tables ``_docs_shared_pairs`` (document pairs sharing passages),
    ``_docs_retyped`` (one row per re-typed passage, attributed once) and
    ``_docs_retyped_pairs`` (the same per earlier/later document pair).

    Needs ``_docs`` (see :mod:`analytics.documents.prepare`) and ``_docs_dup_pairs``.
    ``gram`` and ``sketch`` are validated integers (they are interpolated).
    """
    gram, sketch = int(gram), int(sketch)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _docs_passages AS
        WITH parts AS (
            SELECT document_id, patient_id, stay_id, doc_seq,
                   unnest(regexp_extract_all(text, '{PASSAGE_PATTERN}')) AS raw
            FROM _docs WHERE text_chars >= $min_chars
        ), cleaned AS (
            SELECT * EXCLUDE (raw), trim(regexp_replace(raw, '\\s+', ' ', 'g')) AS passage FROM parts
        ), keyed AS (
            SELECT *, trim(regexp_replace(lower(strip_accents(passage)), '[^a-z0-9]+', ' ', 'g')) AS pkey,
                   regexp_replace(passage, '[^0-9]+', '', 'g') AS digits
            FROM cleaned WHERE length(passage) >= $min_chars
        )
        SELECT row_number() OVER (ORDER BY doc_seq, passage) AS pid, *, length(passage) AS chars
        FROM keyed WHERE length(pkey) >= {gram}
        """,  # noqa: S608 - gram is an int, the pattern a constant
        {"min_chars": min_chars},
    )
    total = con.execute("SELECT count(*) FROM _docs_passages").fetchall()[0][0]
    templates = 0
    if template_min_patients is not None:
        templates = con.execute(
            """
            DELETE FROM _docs_passages WHERE pkey IN (
                SELECT pkey FROM _docs_passages GROUP BY pkey
                HAVING count(DISTINCT patient_id) >= $n
                   AND count(DISTINCT document_id) >= $share * (SELECT count(*) FROM _docs))
            """,
            {"n": template_min_patients, "share": template_share},
        ).fetchall()[0][0]
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _docs_sketch AS
        SELECT pid, any_value(patient_id) AS patient_id, any_value(digits) AS digits,
               any_value(document_id) AS document_id, any_value(stay_id) AS stay_id,
               any_value(length(pkey)) AS klen, unnest(min(h, {sketch})) AS h
        FROM (
            SELECT pid, patient_id, digits, document_id, stay_id, pkey,
                   hash(substr(pkey, i, {gram})) AS h
            FROM (
                SELECT *, unnest(range(1, length(pkey) - {gram} + 2)) AS i FROM _docs_passages))
        GROUP BY pid
        """  # noqa: S608 - gram and sketch are ints
    )
    # Candidates are materialised on their own first: left to itself the planner may join
    # all passages on their digits before the sketch join (a near cross product).
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _docs_pcand AS
        SELECT DISTINCT a.pid AS pid_a, b.pid AS pid_b,
               least(a.document_id, b.document_id) AS d1,
               greatest(a.document_id, b.document_id) AS d2
        FROM _docs_sketch a JOIN _docs_sketch b
          -- numbers are information: a date or a dose that differs is not the same passage
          ON a.patient_id = b.patient_id AND a.h = b.h AND a.digits = b.digits AND a.pid < b.pid
        WHERE a.document_id <> b.document_id
          AND ($scope = 'patient' OR a.stay_id = b.stay_id
               OR a.stay_id IS NULL OR b.stay_id IS NULL)
          -- fuzz.ratio can only reach the threshold if the lengths allow it
          AND 200.0 * least(a.klen, b.klen) >= $threshold * (a.klen + b.klen)
        """,
        {"scope": scope, "threshold": threshold},
    )
    con.execute("DELETE FROM _docs_pcand WHERE (d1, d2) IN (SELECT (d1, d2) FROM _docs_dup_pairs)")
    candidates = con.execute(
        """
        SELECT c.pid_a, c.pid_b, pa.pkey AS key_a, pb.pkey AS key_b
        FROM _docs_pcand c
        JOIN _docs_passages pa ON pa.pid = c.pid_a
        JOIN _docs_passages pb ON pb.pid = c.pid_b
        ORDER BY c.pid_a, c.pid_b
        """
    ).fetchnumpy()
    n_candidates = len(candidates["pid_a"])
    scores = (
        process.cpdist(
            candidates["key_a"],
            candidates["key_b"],
            scorer=fuzz.ratio,
            score_cutoff=threshold,
            workers=-1,
        )
        if n_candidates
        else np.empty(0)
    )
    keep = scores >= threshold
    matched = pd.DataFrame(
        {
            "pid_a": np.asarray(candidates["pid_a"])[keep],
            "pid_b": np.asarray(candidates["pid_b"])[keep],
            "score": np.asarray(scores, dtype="float64")[keep],
        }
    )
    con.register("_docs_pscore_view", matched)
    try:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _docs_matches AS
            WITH m AS (
                SELECT CASE WHEN pa.doc_seq < pb.doc_seq THEN pa.pid ELSE pb.pid END AS source_pid,
                       CASE WHEN pa.doc_seq < pb.doc_seq THEN pb.pid ELSE pa.pid END AS target_pid,
                       s.score
                FROM _docs_pscore_view s
                JOIN _docs_passages pa ON pa.pid = s.pid_a
                JOIN _docs_passages pb ON pb.pid = s.pid_b
            )
            SELECT m.source_pid, m.target_pid, m.score AS similarity, src.doc_seq AS source_seq,
                   tgt.patient_id,
                   CASE WHEN src.stay_id = tgt.stay_id THEN tgt.stay_id END AS stay_id,
                   src.document_id AS source_document_id,
                   tgt.document_id AS target_document_id,
                   src.passage AS source_passage,
                   tgt.passage AS target_passage,
                   tgt.chars
            FROM m
            JOIN _docs_passages src ON src.pid = m.source_pid
            JOIN _docs_passages tgt ON tgt.pid = m.target_pid
            """
        )
    finally:
        con.unregister("_docs_pscore_view")
    # every document pair sharing content; a later passage counted once per pair
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _docs_shared_pairs AS
        WITH per_target AS (
            SELECT patient_id, stay_id, source_document_id, target_document_id, target_pid,
                   any_value(chars) AS chars, max(similarity) AS similarity
            FROM _docs_matches GROUP BY ALL)
        SELECT patient_id, stay_id, source_document_id, target_document_id,
               count(*) AS passages, sum(chars) AS retyped_chars, avg(similarity) AS mean_similarity
        FROM per_target GROUP BY ALL
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _docs_retyped AS
        SELECT * FROM _docs_matches
        QUALIFY row_number() OVER (
            PARTITION BY target_pid ORDER BY similarity DESC, source_seq, source_pid) = 1
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _docs_retyped_pairs AS
        SELECT r.patient_id, r.stay_id, r.source_document_id, r.target_document_id,
               count(*) AS passages,
               sum(r.chars) AS retyped_chars,
               avg(r.similarity) AS mean_similarity
        FROM _docs_retyped r
        GROUP BY ALL
        """
    )
    retyped = con.execute("SELECT count(*) FROM _docs_retyped").fetchall()[0][0]
    return PassageStats(total, templates, n_candidates, retyped)
