"""EHR audit events built from bursts of work, all at once with numpy.

A burst of ``k`` events becomes ``k`` rows (``np.repeat``); the seconds between events are
drawn per row (log-normal around an activity's median, with an occasional idle pause) and
summed within each burst. Signatures add one event each. Keys are unique by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sample_data.activity import (
    ACTIVITIES,
    DOC,
    GAP_MEDIAN,
    GAP_SIGMA,
    INBOX,
    ORDERS,
    OTHER,
    Bursts,
    Documents,
)
from sample_data.staff import utc_to_local

#: Mean number of events per burst, by activity.
EVENTS_PER_BURST = np.array([10.0, 14.0, 8.0, 12.0, 3.0])


@dataclass
class Events:
    """Event columns; strings as (codes, dictionary) pairs so ten million rows stay cheap."""

    local_s: np.ndarray
    user: np.ndarray  # staff index
    action: np.ndarray  # index into ACTIONS
    activity: np.ndarray  # index into ACTIVITIES
    patient: np.ndarray  # patient row or -1
    document: np.ndarray  # document row or -1
    remote: np.ndarray  # bool: from a remote-access workstation


ACTIONS = np.asarray(["C", "R", "U", "D"], dtype=object)
#: What an event without a document is about, by activity (TYPE_DOCUMENT of the log): every
#: event is typed, "Autre" explicitly.
UNDOCUMENTED_TYPES = np.asarray(
    ["Autre", "Dossier", "Prescription", "Messagerie", "Autre"], dtype=object
)
C, R, U, D = range(4)


def mean_events_per_burst(activity_share: np.ndarray) -> float:
    return float(activity_share @ EVENTS_PER_BURST)


def build_events(bursts: Bursts, docs: Documents, rng: np.random.Generator) -> Events:
    n_bursts = len(bursts.user)
    sizes = np.minimum(1 + rng.geometric(1.0 / EVENTS_PER_BURST[bursts.activity]) - 1, 80)
    sizes = np.maximum(sizes, 1)
    burst = np.repeat(np.arange(n_bursts), sizes)
    activity = bursts.activity[burst]
    gaps = rng.lognormal(np.log(GAP_MEDIAN[activity]), GAP_SIGMA).astype(np.int64) + 1
    idle = rng.random(len(gaps)) < 0.03
    gaps[idle] = rng.integers(360, 2400, int(idle.sum()))
    first = np.zeros(len(burst), dtype=bool)
    first[np.concatenate([[0], np.cumsum(sizes)[:-1]])] = True
    gaps[first] = 0
    offset = np.cumsum(gaps)
    offset -= np.repeat(offset[first], sizes)
    utc = bursts.start_utc[burst] + offset

    action = np.full(len(burst), R, dtype=np.int64)
    action[(activity == DOC) & ~first] = U
    action[(activity == DOC) & first] = C
    action[(activity == ORDERS) & first] = C
    orders_rest = (activity == ORDERS) & ~first
    action[orders_rest] = np.where(rng.random(int(orders_rest.sum())) < 0.5, U, R)
    inbox = activity == INBOX
    action[inbox] = np.where(rng.random(int(inbox.sum())) < 0.3, U, R)
    # A few deletions: a draft line removed, an order cancelled.
    deletable = ((activity == DOC) | (activity == ORDERS)) & ~first
    action[deletable & (rng.random(len(burst)) < 0.01)] = D

    doc_of_burst = np.full(n_bursts, -1, dtype=np.int64)
    if docs.burst_doc:
        keys = np.fromiter(docs.burst_doc.keys(), dtype=np.int64)
        doc_of_burst[keys] = np.fromiter(docs.burst_doc.values(), dtype=np.int64)
    patient = docs.patient_of_burst[burst]
    patient[activity == OTHER] = -1
    remote_burst = bursts.after_hours & (rng.random(n_bursts) < 0.5)

    # Signatures: one update event on the document by its signer.
    n_sign = len(docs.sign_user)
    sign_patient = docs.patient_row[docs.sign_doc] if n_sign else np.zeros(0, dtype=np.int64)
    utc = np.concatenate([utc, docs.sign_utc])
    user = np.concatenate([bursts.user[burst], docs.sign_user])
    action = np.concatenate([action, np.full(n_sign, U)])
    activity = np.concatenate([activity, np.full(n_sign, DOC)])
    document = np.concatenate([doc_of_burst[burst], docs.sign_doc])
    patient = np.concatenate([patient, sign_patient])
    remote = np.concatenate([remote_burst[burst], np.zeros(n_sign, dtype=bool)])
    order = np.lexsort((user, utc))
    return Events(
        utc_to_local(utc[order]), user[order], action[order], activity[order],
        patient[order], document[order], remote[order],
    )


__all__ = ["ACTIONS", "ACTIVITIES", "UNDOCUMENTED_TYPES", "Events", "build_events", "mean_events_per_burst"]
