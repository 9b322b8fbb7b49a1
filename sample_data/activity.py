"""Clinical activity: stays, documents (with duplicates and a backlog) and EHR audit events.

Work comes in bursts: a clinician opens a chart and produces events seconds to a couple of
minutes apart, then moves on. Bursts are placed in scheduled sessions (most of them) or after
hours (evenings and weekends, more in some services and for some people: "pajama time").
Every documentation burst writes one document. Events are built for all bursts at once with
numpy (repeat + grouped cumulative sums), so ten million events take seconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass

import numpy as np

from sample_data import pools
from sample_data.identities import Patients
from sample_data.staff import (
    DAY,
    WINDOW_DAYS,
    WINDOW_START,
    Staff,
    day_seconds,
    local_to_utc,
    utc_to_local,
)

ACTIVITIES = np.asarray(["documentation", "chart_review", "orders", "inbox", "other"], dtype=object)
DOC, CHART, ORDERS, INBOX, OTHER = range(5)
#: Share of bursts by activity (documentation, chart review, orders, inbox, other) and role.
#: Physicians: documentation and chart review about a third each of EHR time, orders about a
#: sixth (ordonnances add to it), inbox about a fifth (Arndt et al. 2017: inbox 24 %;
#: Oracle/Cerner: chart review 33 %, documentation 24 %, orders 17 %).
ACTIVITY_BY_ROLE = {
    "physician": [0.25, 0.3, 0.12, 0.29, 0.04],
    "resident": [0.36, 0.3, 0.2, 0.09, 0.05],
    "nurse": [0.33, 0.35, 0.22, 0.0, 0.1],
    "secretary": [0.3, 0.1, 0.0, 0.4, 0.2],
    "midwife": [0.4, 0.3, 0.15, 0.05, 0.1],
}
#: After hours ("pajama time"): mostly notes and inbox.
AFTER_HOURS_ACTIVITY = [0.5, 0.15, 0.07, 0.28, 0.0]
#: Median seconds between two logged actions of a burst, by activity. Action-level audit logs
#: (open, save, sign, validate), not keystrokes: writing a note for a few minutes leaves an
#: open and a save, so gaps are minutes for notes and about a minute for reading.
GAP_MEDIAN = np.array([190.0, 170.0, 170.0, 170.0, 170.0])
#: Spread (log-normal sigma) of those gaps.
GAP_SIGMA = 0.3
#: Relative EHR intensity per scheduled hour. The small sample has a fixed event budget
#: (~40 k events, < 5.5 MB in all): physicians, whom the measures are defined for, get most
#: of it, so that their EHR time per 8 scheduled hours is in hours as in the literature; the
#: other roles are indicative.
ROLE_INTENSITY = {"physician": 1.0, "resident": 0.07, "nurse": 0.01, "secretary": 0.02, "midwife": 0.05}
#: Relative intensity in a non-patient session (meeting, teaching) compared to patient care.
OTHER_SESSION_INTENSITY = 0.3
PASSAGE_TYPES = {"Compte rendu d'hospitalisation", "Lettre de liaison", "Observation médicale"}
WINDOW_END_S = day_seconds(WINDOW_START) + WINDOW_DAYS * DAY


@dataclass
class Bursts:
    user: np.ndarray
    start_utc: np.ndarray
    activity: np.ndarray
    after_hours: np.ndarray


def in_hours_bursts(staff: Staff, sessions: tuple, n: int, rng: np.random.Generator) -> Bursts:
    users, starts, ends, types = sessions
    weight = (ends - starts) * np.array([ROLE_INTENSITY[r] for r in staff.role[users]])
    weight = weight * np.where(types == 0, 1.0, OTHER_SESSION_INTENSITY)
    counts = rng.multinomial(n, weight / weight.sum())
    idx = np.repeat(np.arange(len(users)), counts)
    start_local = starts[idx] + (rng.random(len(idx)) * (ends[idx] - starts[idx])).astype(np.int64)
    user = users[idx]
    activity = np.empty(len(idx), dtype=np.int64)
    for role, probs in ACTIVITY_BY_ROLE.items():
        mask = staff.role[user] == role
        activity[mask] = rng.choice(5, int(mask.sum()), p=probs)
    return Bursts(user, local_to_utc(start_local), activity, np.zeros(len(idx), dtype=bool))


def after_hours_bursts(staff: Staff, n: int, rng: np.random.Generator) -> Bursts:
    """Evening and weekend work of clinicians, weighted by service and by person."""
    clinician = np.isin(staff.role, ["physician", "resident", "midwife"]) * np.array(
        [ROLE_INTENSITY[r] for r in staff.role])
    personal = rng.lognormal(0.0, 0.3, len(staff.role))  # some people do more than others
    weight = clinician * personal * np.array([pools.AFTER_HOURS_WEIGHT[s] for s in staff.service])
    user = rng.choice(len(weight), n, p=weight / weight.sum())
    day = (rng.random(n) * staff.leave_day[user]).astype(np.int64)
    weekday = (np.asarray(WINDOW_START.weekday()) + day) % 7
    evening = rng.uniform(18.5, 23.5, n)
    weekend_time = rng.uniform(9.0, 18.0, n)
    hour = np.where(weekday >= 5, weekend_time, evening)
    start_local = day_seconds(WINDOW_START) + day * DAY + (hour * 3600).astype(np.int64)
    activity = rng.choice(5, n, p=AFTER_HOURS_ACTIVITY)
    return Bursts(user, local_to_utc(start_local), activity, np.ones(n, dtype=bool))


def _stays(patients: Patients, n_stays: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Patient row indexes of each service's stays (age- and sex-appropriate patients)."""
    ages, female = patients.ages, patients.sexes == "F"
    per = max(5, n_stays // len(pools.SERVICES))
    out: dict[str, np.ndarray] = {}
    for service, _ in pools.SERVICES:
        if service == "Pédiatrie":
            pool = np.flatnonzero(ages < 18)
        elif service == "Gériatrie":
            pool = np.flatnonzero(ages >= 75)
        elif service == "Maternité":
            pool = np.flatnonzero(female & (ages >= 18) & (ages < 45))
        else:
            pool = np.flatnonzero(ages >= 18)
        out[service] = rng.choice(pool, per)
    return out


@dataclass
class Documents:
    columns: dict[str, list]
    truth: list[tuple[str, str, str]]
    burst_doc: dict[int, int]  # documentation burst index -> document row
    sign_user: np.ndarray  # staff index of each signature event
    sign_utc: np.ndarray
    sign_doc: np.ndarray  # document row of each signature event
    patient_of_burst: np.ndarray  # patient row of each burst
    patient_row: np.ndarray  # patient row of each document


def _text(doc_type: str, date: str, ipp: str, stay: tuple[str, str, str], rnd: random.Random) -> str:
    """A short body; the IPP makes two patients' otherwise alike documents differ."""
    motif, antecedents, treatment = stay
    vitals = f"TA {rnd.randint(100, 165)}/{rnd.randint(55, 95)}, FC {rnd.randint(55, 110)}, T {rnd.randint(361, 389) / 10}"
    conclusion = rnd.choice(pools.CONCLUSIONS)
    if doc_type in PASSAGE_TYPES:
        return (f"{doc_type} du {date}, IPP {ipp}. Motif : {motif}. Antécédents : {antecedents}. "
                f"Traitement habituel : {treatment}. Examen : {vitals}. Conclusion : {conclusion}.")
    if doc_type == "Ordonnance":
        return f"Ordonnance du {date}, IPP {ipp}. {rnd.choice(pools.TREATMENTS)}. {rnd.choice(pools.TREATMENTS)}."
    return f"{doc_type} du {date}, IPP {ipp}. {motif.capitalize()}. Examen : {vitals}. {conclusion.capitalize()}."


def _near_copy(text: str, rnd: random.Random) -> str:
    """A re-typed copy: same content, small differences in spacing, case or one word."""
    variants = (
        text.replace(". ", ".  ", 1), text.replace(" : ", ": "), text.replace("Conclusion", "CONCLUSION"),
        text.replace(", ", " ,", 1), text[:-1] + " ", text.replace("é", "e", 2),
    )
    return rnd.choice([v for v in variants if v != text] or [text + " "])


def _office_hours(local_s: int, rnd: random.Random) -> int:
    """Most signatures happen in office hours: move one that falls outside to the next
    working morning or afternoon (one in ten stays in the evening: pajama-time signing)."""
    moment = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=local_s)
    if (moment.weekday() < 5 and 8 <= moment.hour < 19) or rnd.random() < 0.1:
        return local_s
    day = moment.date() + dt.timedelta(days=1 if moment.hour >= 8 else 0)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day_seconds(day) + rnd.randint(8 * 3600 + 1800, 18 * 3600)


def _fmt(local_s: int) -> str:
    return (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=local_s)).strftime("%d/%m/%Y")


def generate_documents(
    staff: Staff, patients: Patients, bursts: Bursts, rng: np.random.Generator, rnd: random.Random
) -> Documents:
    """One document per documentation burst, plus exact and re-typed duplicates and a backlog."""
    doc_bursts = np.flatnonzero(bursts.activity == DOC)
    stays = _stays(patients, max(50, len(doc_bursts) // 4), rng)
    stay_ids: dict[str, np.ndarray] = {}
    facts: dict[tuple[str, int], tuple[str, str, str]] = {}
    counter = 0
    for service, members in stays.items():
        stay_ids[service] = np.arange(counter, counter + len(members))
        counter += len(members)
    n_bursts = len(bursts.user)
    stay_of_burst = np.empty(n_bursts, dtype=np.int64)
    patient_of_burst = np.empty(n_bursts, dtype=np.int64)
    services = staff.service[bursts.user]
    for service, members in stays.items():
        mask = services == service
        pick = rng.integers(0, len(members), int(mask.sum()))
        stay_of_burst[mask] = stay_ids[service][pick]
        patient_of_burst[mask] = members[pick]

    cols: dict[str, list] = {k: [] for k in (
        "document_id", "patient_id", "document_type", "title", "author_id", "service", "created_s",
        "signed_s", "signed_by", "status", "content_hash", "text", "stay_id", "patient_row")}
    truth: list[tuple[str, str, str]] = []
    burst_doc: dict[int, int] = {}
    sign_user: list[int] = []
    sign_local: list[int] = []
    sign_doc: list[int] = []
    heads = {s: i for i, s in enumerate(staff.service) if staff.is_service_head[i]}
    passage_docs: dict[int, list[int]] = {}
    order = doc_bursts[np.argsort(bursts.start_utc[doc_bursts], kind="stable")]
    created_local = utc_to_local(bursts.start_utc[order])

    def add(row: dict) -> int:
        for key in cols:
            cols[key].append(row.get(key, ""))
        return len(cols["document_id"]) - 1

    for b, local_s in zip(order.tolist(), created_local.tolist(), strict=True):
        author = int(bursts.user[b])
        role, service = staff.role[author], staff.service[author]
        types, weights = zip(*pools.DOC_TYPES_BY_ROLE[role], strict=True)
        doc_type = rnd.choices(types, weights)[0]
        if doc_type == "Compte rendu de consultation" and service in pools.SERVICE_DOC_TYPES:
            doc_type = pools.SERVICE_DOC_TYPES[service]
        stay = int(stay_of_burst[b])
        key = (service, stay)
        if key not in facts:
            facts[key] = (rnd.choice(pools.MOTIFS), ", ".join(rnd.sample(pools.ANTECEDENTS, 2)),
                          rnd.choice(pools.TREATMENTS))
        ipp = patients.columns["patient_id"][int(patient_of_burst[b])]
        text = _text(doc_type, _fmt(local_s), ipp, facts[key], rnd)
        quick = doc_type in ("Ordonnance", "Transmissions infirmières")
        delay = rnd.randint(30, 900) if quick else int(rnd.lognormvariate(10.5, 1.3))
        signer = heads[service] if role == "resident" and rnd.random() < 0.6 else author
        signed = local_s + delay if quick else _office_hours(local_s + delay, rnd)
        leaver_gone = not staff.active[author] and rnd.random() < 0.5
        draft = rnd.random() < 0.06 or signed >= WINDOW_END_S or leaver_gone
        status = "draft" if draft else ("sent" if doc_type == "Lettre de liaison" and rnd.random() < 0.8 else "signed")
        row = {
            "document_id": f"DOC{len(cols['document_id']) + 1:08d}",
            "patient_id": ipp,
            "document_type": doc_type, "title": f"{doc_type} du {_fmt(local_s)}",
            "author_id": staff.user_id[author], "service": service, "created_s": local_s,
            "signed_s": "" if draft else signed, "signed_by": "" if draft else staff.user_id[signer],
            "status": status, "content_hash": hashlib.sha1(text.encode("utf-8")).hexdigest(),
            "text": text, "stay_id": f"NDA{26000000 + stay}",
            "patient_row": int(patient_of_burst[b]),
        }
        index = add(row)
        burst_doc[b] = index
        if not draft:
            sign_user.append(signer)
            sign_doc.append(index)
            sign_local.append(signed)
        if doc_type in PASSAGE_TYPES:
            passage_docs.setdefault(stay, []).append(index)
        roll = rnd.random()
        if roll < 0.03:  # duplicates: the same file uploaded twice, or a re-typed copy
            copy = dict(row)
            copy["document_id"] = f"DOC{len(cols['document_id']) + 1:08d}"
            exact = roll < 0.015
            later = local_s + rnd.randint(600, 10 * DAY)
            copy["created_s"] = later if not exact else local_s + rnd.randint(60, 3 * DAY)
            if not exact:
                copy["text"] = _near_copy(text, rnd)
                copy["content_hash"] = hashlib.sha1(copy["text"].encode("utf-8")).hexdigest()
                copy["title"] = f"{doc_type} (copie) du {_fmt(later)}"
            if not draft:
                copy["signed_s"] = max(int(copy["created_s"]), signed) + 60
            add(copy)
            truth.append((row["document_id"], copy["document_id"], "exact" if exact else "near"))
    for members in passage_docs.values():
        for x, a in enumerate(members):
            for b2 in members[x + 1 : x + 4]:
                truth.append((cols["document_id"][a], cols["document_id"][b2], "retyped"))
    _old_backlog(cols, staff, patients, rnd)
    cols["patient_row"] = [int(v) for v in cols["patient_row"]]
    sign_utc = local_to_utc(np.asarray(sign_local, dtype=np.int64))
    return Documents(cols, truth, burst_doc, np.asarray(sign_user, dtype=np.int64), sign_utc,
                     np.asarray(sign_doc, dtype=np.int64), patient_of_burst,
                     np.asarray(cols["patient_row"], dtype=np.int64))


def _old_backlog(cols: dict[str, list], staff: Staff, patients: Patients, rnd: random.Random) -> None:
    """Drafts older than the window: the forgotten end of the unsigned backlog."""
    authors = [i for i, r in enumerate(staff.role) if r in ("physician", "resident")]
    n = max(5, len(cols["document_id"]) // 100)
    for _ in range(n):
        author = rnd.choice(authors)
        patient_row = rnd.randrange(len(patients.columns["patient_id"]))
        local_s = day_seconds(WINDOW_START) - rnd.randint(1, 300) * DAY + rnd.randint(8 * 3600, 19 * 3600)
        doc_type = rnd.choice(["Compte rendu d'hospitalisation", "Lettre de liaison", "Compte rendu de consultation"])
        ipp = patients.columns["patient_id"][patient_row]
        text = f"{doc_type} du {_fmt(local_s)}, IPP {ipp}. À compléter."
        text += f" Patient vu pour {rnd.choice(pools.MOTIFS)}."
        for key, value in {
            "document_id": f"DOC{len(cols['document_id']) + 1:08d}",
            "patient_id": ipp, "document_type": doc_type,
            "title": f"{doc_type} du {_fmt(local_s)}", "author_id": staff.user_id[author],
            "service": staff.service[author], "created_s": local_s, "signed_s": "", "signed_by": "",
            "status": "draft", "content_hash": hashlib.sha1(text.encode("utf-8")).hexdigest(),
            "text": text, "stay_id": f"NDA{25000000 + rnd.randint(0, 99999)}",
            "patient_row": patient_row,
        }.items():
            cols[key].append(value)
