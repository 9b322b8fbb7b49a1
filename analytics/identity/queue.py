"""One page of the review queue, filtered, sorted and counted in DuckDB.

The dashboard shows 25 pairs at a time out of thousands (4 548 at 1M patients). Each pair
carries what the filters need: the service of each record (the service that wrote most of
the patient's documents), the newest record's creation time and both identity statuses.

Building those facts reads ``patients`` and ``documents`` for the queue's patients (a semi-join,
~0.3 s at 1M patients), while a reviewer's decision changes only ``pair_reviews``. So the
facts are a separate step, :func:`queue_base`, that a caller may keep while
:func:`queue_version` is unchanged (imports, cleanup jobs and matching runs change it; reviews
do not), and :func:`review_page` applies the reviews *as they are now* (settled pairs leave at
once), the filters, the sort, the paging and the counts in one query over it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from analytics.access.roles import Actor, Permission, require
from analytics.errors import InvalidInput
from analytics.identity.awaiting import AWAITING_REVIEW_SQL
from analytics.identity.decide import AUTO_MERGE_TRAITS, auto_merge_blockers
from analytics.identity.masking import mask_identities
from analytics.identity.reviews import log_access

__all__ = ["QUEUE_ORDERS", "QueueFilters", "QueuePage", "page_frame", "queue_base", "queue_version", "review_page"]

#: Sort orders offered for the queue; every one ends on the pair's ids, so paging is stable.
QUEUE_ORDERS: dict[str, str] = {
    "score_desc": "score DESC, patient_id_1, patient_id_2",
    "score_asc": "score, patient_id_1, patient_id_2",
    "newest": "newest_record DESC NULLS LAST, score DESC, patient_id_1, patient_id_2",
    "name": "birth_name_1 NULLS LAST, first_names_1 NULLS LAST, patient_id_1, patient_id_2",
}


@dataclass(frozen=True)
class QueueFilters:
    """What the reviewer narrowed the queue to; empty tuples and None mean "any"."""

    min_score: float = 0.0
    max_score: float = 1.0
    services: tuple[str, ...] = ()
    newer_than_days: int | None = None
    statuses: tuple[str, ...] = ()


@dataclass
class QueuePage:
    """``rows``: the requested page; ``total``: pairs passing the filters; ``pending``: pairs
    waiting for a decision before filters (pairs skipped this session excluded); ``services``
    and ``statuses``: the values the filters can offer, over the pending pairs."""

    rows: pd.DataFrame
    total: int
    pending: int
    services: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)


#: Pairs of the latest run waiting for a reviewer (awaiting.py: decided ``review``, or ``match`` but
#: not eligible for automatic merge), every ``match`` too if ``$matches``, both identities side by
#: side, with the facts the filters use. Patients and documents are read for these pairs' patients only.
_BASE_SQL = """
    candidates AS MATERIALIZED (
        SELECT * FROM match_pairs WHERE decision IN ('review', 'match')
            AND (""" + AWAITING_REVIEW_SQL + """ OR ($matches AND decision = 'match'))
    ),
    ids AS (SELECT patient_id_1 AS patient_id FROM candidates UNION SELECT patient_id_2 FROM candidates),
    people AS MATERIALIZED (
        SELECT patient_id, birth_name, used_name, first_names, birth_date, sex, birth_place_code,
               identity_status, created_at
        FROM patients WHERE patient_id IN (SELECT patient_id FROM ids)
    ),
    services AS (
        SELECT patient_id, service FROM (
            SELECT patient_id, service, count(*) AS n FROM documents
            WHERE service IS NOT NULL AND patient_id IN (SELECT patient_id FROM ids)
            GROUP BY ALL)
        QUALIFY row_number() OVER (PARTITION BY patient_id ORDER BY n DESC, service) = 1
    ),
    base AS (
        SELECT m.patient_id_1, m.patient_id_2, m.score, m.match_weight, m.decision, m.rule,
               m.birth_name AS level_birth_name, m.first_name AS level_first_name,
               m.birth_date AS level_birth_date, m.sex AS level_sex, m.ins AS level_ins,
               m.birth_place AS level_birth_place, m.auto_merge,
               a.birth_name AS birth_name_1, b.birth_name AS birth_name_2,
               a.used_name AS used_name_1, b.used_name AS used_name_2,
               a.first_names AS first_names_1, b.first_names AS first_names_2,
               a.birth_date AS birth_date_1, b.birth_date AS birth_date_2,
               a.sex AS sex_1, b.sex AS sex_2,
               a.birth_place_code AS birth_place_1, b.birth_place_code AS birth_place_2,
               a.identity_status AS status_1, b.identity_status AS status_2,
               a.created_at AS created_at_1, b.created_at AS created_at_2,
               coalesce(s1.service, s2.service) AS service,
               greatest(a.created_at, b.created_at) AS newest_record
        FROM candidates m
        JOIN people a ON a.patient_id = m.patient_id_1
        JOIN people b ON b.patient_id = m.patient_id_2
        LEFT JOIN services s1 ON s1.patient_id = m.patient_id_1
        LEFT JOIN services s2 ON s2.patient_id = m.patient_id_2
    )
"""  # noqa: S608 - fixed SQL (awaiting.py)

#: Over ``base``: the reviews as they are now, the session's skipped pairs, the filters, one
#: page and the counts. A pair leaves when its latest review is same/not_same, or when such a
#: review came after ``$built_at`` (it changed the pair's decision since ``base`` was read).
#: A pair whose latest review is a first "same person" under four-eyes review stays, with that
#: reviewer in ``awaiting_second``, except in that reviewer's own queue (``$me``).
_PAGE_SQL = """
    reviews AS (
        SELECT patient_id_1, patient_id_2,
               arg_max(decision, decided_at) IN ('same', 'not_same') AS settled,
               bool_or(decision IN ('same', 'not_same') AND decided_at > $built_at) AS changed,
               CASE WHEN arg_max(decision, decided_at) = 'same_pending'
                    THEN arg_max(reviewer, decided_at) END AS first_reviewer
        FROM pair_reviews GROUP BY ALL
    ),
    skipped AS (SELECT unnest($skip_1::VARCHAR[]) AS patient_id_1, unnest($skip_2::VARCHAR[]) AS patient_id_2),
    queue AS MATERIALIZED (
        SELECT b.*, r.first_reviewer AS awaiting_second FROM {base} b
        LEFT JOIN reviews r ON r.patient_id_1 = b.patient_id_1 AND r.patient_id_2 = b.patient_id_2
        WHERE NOT coalesce(r.settled OR r.changed, FALSE)
          AND (r.first_reviewer IS NULL OR r.first_reviewer IS DISTINCT FROM $me::VARCHAR)
          AND NOT EXISTS (SELECT 1 FROM skipped k WHERE k.patient_id_1 = b.patient_id_1
                          AND k.patient_id_2 = b.patient_id_2)
    ),
    chosen AS (
        SELECT * FROM queue
        WHERE score BETWEEN $min_score AND $max_score
          AND (len($services::VARCHAR[]) = 0 OR list_contains($services::VARCHAR[], service))
          AND (len($statuses::VARCHAR[]) = 0 OR list_contains($statuses::VARCHAR[], status_1)
               OR list_contains($statuses::VARCHAR[], status_2))
          AND ($days IS NULL OR newest_record >= now() - to_days($days::INTEGER))
    ),
    page AS (SELECT * FROM chosen ORDER BY {order} LIMIT $limit OFFSET $offset),
    counts AS (
        SELECT (SELECT count(*) FROM queue) AS pending, (SELECT count(*) FROM chosen) AS total,
               (SELECT coalesce(list(DISTINCT service ORDER BY service), [])
                  FROM queue WHERE service IS NOT NULL) AS service_choices,
               (SELECT coalesce(list(DISTINCT s ORDER BY s), []) FROM (
                    SELECT status_1 AS s FROM queue UNION SELECT status_2 FROM queue)
                  WHERE s IS NOT NULL) AS status_choices
    )
    SELECT c.pending, c.total, c.service_choices, c.status_choices, p.*
    FROM counts c LEFT JOIN page p ON TRUE
    ORDER BY {order}
"""

#: The level columns (``level_<field>``) that say why a ``match`` waits for a reviewer.
_LEVELS = (*AUTO_MERGE_TRAITS, "ins")

_VERSION_SQL = """
SELECT concat_ws('|',
    (SELECT sum(hash(match_run_id, finished_at)) FROM match_runs),
    (SELECT sum(hash(import_id, status, finished_at)) FROM imports),
    (SELECT sum(hash(run_id, status, finished_at)) FROM job_runs))
"""


def queue_version(con: duckdb.DuckDBPyConnection) -> str:
    """A marker of what :func:`queue_base` reads besides reviews: it changes with every
    matching run, import and cleanup job (which edit patients and documents), not with reviews."""
    return str(con.execute(_VERSION_SQL).fetchall()[0][0])  # fetched to the end: DuckDB 2 refuses new work before


def queue_base(con: duckdb.DuckDBPyConnection, actor: Actor, *, include_matches: bool = False) -> pd.DataFrame:
    """Every pair of the latest run decided ``review`` (and ``match`` if asked), whatever its
    reviews, with both identities, ``service`` and ``newest_record``; ``attrs['built_at']``
    is when it was read. Not recorded in the access log: it is an input of
    :func:`review_page`, which records what is shown."""
    require(actor, Permission.VIEW_PATIENT_DATA)
    frame = con.execute(
        "WITH " + _BASE_SQL + " SELECT now() AS built_at, * FROM base ORDER BY patient_id_1, patient_id_2",  # noqa: S608 - fixed SQL
        {"matches": include_matches},
    ).df()
    built_at = frame["built_at"].iloc[0] if len(frame) else con.execute("SELECT now()").fetchall()[0][0]
    frame = frame.drop(columns=["built_at"])
    frame.attrs.update(built_at=pd.Timestamp(built_at), include_matches=include_matches)
    return mask_identities(frame, actor)


def _check(filters: QueueFilters, order: str, limit: int, offset: int) -> None:
    if order not in QUEUE_ORDERS:
        raise InvalidInput(f"order: '{order}' is not one of {', '.join(QUEUE_ORDERS)}")
    if limit < 1 or offset < 0:
        raise InvalidInput(f"limit ({limit}) must be at least 1 and offset ({offset}) not negative")
    if not 0.0 <= filters.min_score <= filters.max_score <= 1.0:
        raise InvalidInput(
            f"score range {filters.min_score}–{filters.max_score} must lie within 0–1, lowest first")
    if filters.newer_than_days is not None and filters.newer_than_days < 0:
        raise InvalidInput(f"newer_than_days ({filters.newer_than_days}) must not be negative")


def page_frame(
    con: duckdb.DuckDBPyConnection,
    *,
    filters: QueueFilters | None = None,
    order: str = "score_desc",
    limit: int = 25,
    offset: int = 0,
    skip: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
    include_matches: bool = False,
    base: pd.DataFrame | None = None,
    reviewer: str | None = None,
) -> pd.DataFrame:
    """The page query's raw result (no role check, no trace: callers do both): the counts
    columns on every row, then the page's columns; one row of NULL pair columns when the
    page is empty. ``reviewer``: whose queue it is (pairs awaiting their own second opinion
    are left out)."""
    filters = filters or QueueFilters()
    _check(filters, order, limit, offset)
    if base is not None and bool(base.attrs.get("include_matches", False)) != include_matches:
        raise InvalidInput("review_page: the base was read with another include_matches")
    pairs = [tuple(sorted((str(a), str(b)))) for a, b in skip]
    by = QUEUE_ORDERS[order]
    params = {
        "skip_1": [a for a, _ in pairs], "skip_2": [b for _, b in pairs],
        "min_score": float(filters.min_score), "max_score": float(filters.max_score),
        "services": list(filters.services), "statuses": list(filters.statuses),
        "days": filters.newer_than_days, "limit": int(limit), "offset": int(offset), "me": reviewer,
    }
    if base is None:
        sql = "WITH " + _BASE_SQL + "," + _PAGE_SQL.format(base="base", order=by)
        params |= {"matches": include_matches, "built_at": None}
        return _with_held_by(con.execute(sql, params).df())  # noqa: S608 - order from the allow-list
    params["built_at"] = base.attrs.get("built_at")
    # Read by DuckDB's replacement scan of this local (register() is refused while another
    # result of the connection is unfinished, which callers cannot always know).
    _hy_queue_base = base  # noqa: F841 - read by the SQL below
    return _with_held_by(con.execute("WITH " + _PAGE_SQL.format(base="_hy_queue_base", order=by), params).df())  # noqa: S608


def _with_held_by(frame: pd.DataFrame) -> pd.DataFrame:
    """``held_by``: for a pair decided ``match`` that may not be merged without a reviewer (and
    no guard named in ``rule``), the fields that forbid the automatic merge, space-separated
    (``birth_place ins``; decide.auto_merge_blockers); else None."""
    auto = frame["auto_merge"].map(lambda v: bool(v) if pd.notna(v) else False)
    held = (frame["decision"] == "match") & ~auto.astype(bool) & frame["rule"].isna()
    levels = frame[[f"level_{f}" for f in _LEVELS]].set_axis(list(_LEVELS), axis=1).to_dict("records")
    frame["held_by"] = pd.Series([" ".join(auto_merge_blockers(lv)) if h else None
                                  for h, lv in zip(held, levels, strict=True)], index=frame.index, dtype=object)
    return frame


def review_page(
    con: duckdb.DuckDBPyConnection,
    actor: Actor,
    *,
    filters: QueueFilters | None = None,
    order: str = "score_desc",
    limit: int = 25,
    offset: int = 0,
    skip: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
    include_matches: bool = False,
    base: pd.DataFrame | None = None,
) -> QueuePage:
    """One page of the pairs waiting for a decision, filtered and sorted by DuckDB.

    ``skip``: pairs to leave out (those a reviewer marked ``unsure`` in this session; they stay
    in the queue for others). ``base``: a :func:`queue_base` frame read while
    :func:`queue_version` was what it is now (the dashboard keeps one per version); without
    it the facts are read here. Either way the reviews are read now, so a decided pair is gone
    from the very next page. Rows have the :func:`review_queue` columns plus ``created_at_1/2``,
    ``service`` (record 1's, else record 2's), ``newest_record`` and ``awaiting_second`` (under
    four-eyes review, who gave the first "same person", else NULL; pairs awaiting the acting
    reviewer's own confirmation are left out). The view is recorded in the access log with the filters.
    """
    require(actor, Permission.VIEW_PATIENT_DATA)
    filters = filters or QueueFilters()
    frame = page_frame(con, filters=filters, order=order, limit=limit, offset=offset, skip=skip,
                       include_matches=include_matches, base=base, reviewer=actor.username)
    head = frame.iloc[0]
    rows = frame.drop(columns=["pending", "total", "service_choices", "status_choices"])
    page = QueuePage(
        rows=mask_identities(rows[rows["patient_id_1"].notna()].reset_index(drop=True), actor),
        total=int(head["total"]), pending=int(head["pending"]),
        services=[str(s) for s in head["service_choices"]], statuses=[str(s) for s in head["status_choices"]],
    )
    log_access(con, actor, "view", "review_queue", len(page.rows), {
        "limit": limit, "offset": offset, "order": order, "min_score": filters.min_score,
        "max_score": filters.max_score, "services": list(filters.services),
        "statuses": list(filters.statuses), "newer_than_days": filters.newer_than_days,
    })
    return page
