"""Which pairs wait for a person: the one definition that every "pending review" figure reads.

A pair waits for a reviewer when the latest run decided it ``review``, or decided it ``match``
by its score while the RNIV forbids merging it without a person checking it
(``match_pairs.auto_merge`` false: a strict trait differs beyond formatting, the INS disagree;
see docs/IDENTITY_RULES.md) and no reviewer has said "same person" yet. The merge job merges
such a pair only after that "same person": left out of the queue, nobody would ever see it and it
would never be merged. The review queue, the overview's pending count, the monthly report and
the merge job's preview all count with this predicate.
"""

from __future__ import annotations

__all__ = ["AWAITING_REVIEW_SQL", "HELD_MATCH_SQL", "UNDECIDED_SQL"]

#: A ``match_pairs`` row decided ``match`` that may not be merged automatically and that no
#: reviewer has decided (a reviewed pair's rule is ``reviewed same`` / ``reviewed not_same``).
HELD_MATCH_SQL = ("(decision = 'match' AND NOT coalesce(auto_merge, FALSE) "
                  "AND coalesce(rule, '') NOT LIKE 'reviewed %')")
#: A ``match_pairs`` row that waits for a reviewer's decision (before its reviews are read). The
#: ``IN`` conjunct is a filter DuckDB applies to the scan: the non-match row groups (98 % of the
#: rows, stored last) are skipped by their min/max statistics.
AWAITING_REVIEW_SQL = f"(decision IN ('review', 'match') AND (decision = 'review' OR {HELD_MATCH_SQL}))"
#: No reviewer's latest word on the ``match_pairs`` row aliased ``m`` is same / not_same (a first
#: "same person" awaiting its second reviewer, ``same_pending``, or ``unsure`` leaves it waiting).
UNDECIDED_SQL = """NOT EXISTS (
      SELECT 1 FROM (SELECT patient_id_1, patient_id_2 FROM pair_reviews GROUP BY ALL
                     HAVING arg_max(decision, decided_at) IN ('same', 'not_same')) s
      WHERE s.patient_id_1 = m.patient_id_1 AND s.patient_id_2 = m.patient_id_2)"""
