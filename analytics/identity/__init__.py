"""Duplicate patient identities: French-aware, explained, incremental.

Pipeline: :mod:`normalise` (keys beside the originals) → :mod:`blocking` (candidate pairs in
DuckDB) → :mod:`comparisons` (levels per field, rapidfuzz over whole columns) → :mod:`model`
(Fellegi–Sunter weights) → :mod:`decide` (thresholds and collision guards) → :mod:`clusters`.

Public interface::

    find_duplicates(con, *, threshold_match=None, threshold_review=None, actor) -> MatchSummary
    match_new_patients(con, *, actor) -> MatchSummary                # incremental
    review_queue(con, actor, *, limit=100) -> DataFrame
    review_page(con, actor, *, filters, order, limit, offset, skip, base) -> QueuePage  # paged, filtered
    queue_base(con, actor) -> DataFrame; queue_version(con) -> str  # facts kept between reviews
    duplicate_rate(con, actor) -> DuplicateRate                      # rate vs the 1 % target, trend
    record_review(con, actor, patient_id_1, patient_id_2, decision)  # same / not_same / unsure
    four_eyes(con) -> bool; set_four_eyes(con, actor, on)            # two reviewers per "same person"
    explain_pair(con, actor, id1, id2) -> DataFrame                  # field, left, right, level, weight
    search_identities(con, actor, *, birth_name, first_names, birth_date, ..., limit=10) -> DataFrame
    find_collisions(con, actor, *, limit=1000) -> DataFrame          # records that contradict themselves
"""

from analytics.identity.collisions import COLLISION_KINDS, count_collisions, find_collisions
from analytics.identity.explain import explain_pair
from analytics.identity.exports import export_clusters, export_pairs
from analytics.identity.incremental import match_new_patients
from analytics.identity.queue import (
    QUEUE_ORDERS,
    QueueFilters,
    QueuePage,
    queue_base,
    queue_version,
    review_page,
)
from analytics.identity.rate import DUPLICATE_RATE_TARGET, DuplicateRate, duplicate_rate
from analytics.identity.reviews import four_eyes, record_review, review_queue, set_four_eyes
from analytics.identity.run import MatchSummary, find_duplicates
from analytics.identity.search import search_identities

__all__ = [
    "COLLISION_KINDS",
    "DUPLICATE_RATE_TARGET",
    "QUEUE_ORDERS",
    "DuplicateRate",
    "MatchSummary",
    "QueueFilters",
    "QueuePage",
    "duplicate_rate",
    "explain_pair",
    "count_collisions",
    "find_collisions",
    "export_clusters",
    "export_pairs",
    "find_duplicates",
    "four_eyes",
    "match_new_patients",
    "queue_base",
    "queue_version",
    "record_review",
    "review_page",
    "review_queue",
    "search_identities",
    "set_four_eyes",
]
