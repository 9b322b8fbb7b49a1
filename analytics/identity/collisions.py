"""Possible collisions: one record whose own data contradict themselves (two people in it?).

A *collision* (RNIV) is one record shared by two people — twins, namesakes, a usurped identity.
Merging never finds it: the record's own data do. Listed here, with the evidence, for the
identity-vigilance cell to check; nothing is merged or split automatically.

Evidence kinds (``kind``):

- ``ins_sex``, ``ins_birth_year``, ``ins_birth_month``, ``ins_birth_place``: the INS matricule
  (NIR) encodes sex (1st digit: 1 man, 2 woman), birth year (2 digits), birth month (01–12; other
  values mean unknown and are not compared) and birth place (département, 3 characters for
  overseas 97x, or 99 + country for births abroad). A trait recorded otherwise is evidence.
  The commune is not compared (commune codes change with mergers). Only INS of 15 characters
  whose first digit is 1 or 2 are read (a temporary NIA 7/8 encodes no sex).
- ``overlapping_stays``: two stays (NDA, ``documents.stay_id``) of the patient going on at the
  same time in two services: a document of each, in two services, written within an hour
  (``window_minutes``). The warehouse has no stays table, and a stay's span read from its
  documents (first to last) is no proxy: letters are written for weeks after discharge, so on
  the demo hospital such spans overlapped for 22 of the 341 patients with stays, every one a
  readmission; documents written at the same time in two places are the evidence kept.

Not checked, because no table carries them: a birth date or sex recorded on a document or a
stay (``documents`` holds neither).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.access.roles import Actor, Permission, require
from analytics.errors import InvalidInput
from analytics.identity.masking import mask_identities, may_see_identities
from analytics.identity.reviews import log_access

__all__ = ["COLLISION_KINDS", "count_collisions", "find_collisions", "nir_traits"]

COLLISION_KINDS = ("ins_sex", "ins_birth_year", "ins_birth_month", "ins_birth_place", "overlapping_stays")

#: Traits encoded in an INS matricule, per patient with a readable one (SQL over ``patients``).
_NIR_SQL = """
    SELECT patient_id, ins, sex, birth_date, birth_place_code,
           CASE substr(ins, 1, 1) WHEN '1' THEN 'M' WHEN '2' THEN 'F' END AS nir_sex,
           substr(ins, 2, 2) AS nir_year,
           CASE WHEN substr(ins, 4, 2) BETWEEN '01' AND '12' THEN substr(ins, 4, 2) END AS nir_month,
           CASE WHEN substr(ins, 6, 2) = '97' THEN substr(ins, 6, 3)
                WHEN substr(ins, 6, 2) = '99' THEN substr(ins, 6, 5)
                ELSE substr(ins, 6, 2) END AS nir_place,
           CASE WHEN birth_place_code IS NULL OR trim(birth_place_code) = '' THEN NULL
                WHEN substr(ins, 6, 2) = '97' THEN substr(upper(trim(birth_place_code)), 1, 3)
                WHEN substr(ins, 6, 2) = '99' THEN substr(upper(trim(birth_place_code)), 1, 5)
                ELSE substr(upper(trim(birth_place_code)), 1, 2) END AS recorded_place
    FROM patients
    WHERE active AND regexp_full_match(ins, '[12][0-9]{2}[0-9]{2}[0-9AB]{2}[0-9]{6}[0-9]{2}')
"""

_INS_SQL = f"""
    WITH nir AS ({_NIR_SQL})
    SELECT patient_id, 'ins_sex' AS kind, nir_sex AS expected, upper(sex) AS found FROM nir
    WHERE upper(sex) IN ('M', 'F') AND nir_sex IS NOT NULL AND upper(sex) <> nir_sex
    UNION ALL
    SELECT patient_id, 'ins_birth_year', nir_year, strftime(birth_date, '%Y') FROM nir
    WHERE birth_date IS NOT NULL AND strftime(birth_date, '%y') <> nir_year
    UNION ALL
    SELECT patient_id, 'ins_birth_month', nir_month, strftime(birth_date, '%m') FROM nir
    WHERE birth_date IS NOT NULL AND nir_month IS NOT NULL AND strftime(birth_date, '%m') <> nir_month
    UNION ALL
    SELECT patient_id, 'ins_birth_place', nir_place, upper(trim(birth_place_code)) FROM nir
    WHERE recorded_place IS NOT NULL AND recorded_place <> nir_place
"""  # noqa: S608 - fixed SQL

#: Pairs of documents of one patient, in two stays and two services, written within $window
#: minutes of each other: the closest pair per pair of stays.
_STAYS_SQL = """
    WITH docs AS (
        SELECT d.patient_id, d.stay_id, d.service, d.created_at FROM documents d
        JOIN patients p ON p.patient_id = d.patient_id AND p.active
        WHERE d.stay_id IS NOT NULL AND d.created_at IS NOT NULL AND d.service IS NOT NULL
    )
    SELECT a.patient_id, 'overlapping_stays' AS kind, NULL AS expected, NULL AS found,
           a.stay_id AS stay_1, a.service AS service_1, a.created_at AS at_1,
           b.stay_id AS stay_2, b.service AS service_2, b.created_at AS at_2
    FROM docs a JOIN docs b ON a.patient_id = b.patient_id AND a.stay_id < b.stay_id AND a.service <> b.service
     AND b.created_at BETWEEN a.created_at - to_minutes($window) AND a.created_at + to_minutes($window)
    QUALIFY row_number() OVER (PARTITION BY a.patient_id, a.stay_id, b.stay_id
                               ORDER BY abs(epoch(b.created_at) - epoch(a.created_at)), a.created_at) = 1
"""

_COLUMNS = ["patient_id", "birth_name", "first_names", "birth_date", "sex", "birth_place_code", "ins",
            "identity_status", "kind", "expected", "found", "stay_1", "service_1", "at_1", "stay_2", "service_2",
            "at_2"]


def nir_traits(ins: str | None) -> dict[str, str] | None:
    """The traits an INS matricule encodes: ``sex`` (M/F, absent for 7/8), ``year`` (2 digits),
    ``month`` (01–12, absent when unknown) and ``place`` (département, 97x, or 99 + country);
    None when ``ins`` is not a 15-character NIR."""
    text = (ins or "").strip().upper().replace(" ", "")
    if len(text) != 15 or not text[:5].isdigit() or not text[7:].isdigit():
        return None
    traits = {"year": text[1:3]}
    if text[0] in "12":
        traits["sex"] = "M" if text[0] == "1" else "F"
    if "01" <= text[3:5] <= "12":
        traits["month"] = text[3:5]
    place = text[5:7]
    traits["place"] = text[5:8] if place == "97" else text[5:10] if place == "99" else place
    return traits


def find_collisions(con: duckdb.DuckDBPyConnection, actor: Actor, *, limit: int = 1000,
                    window_minutes: int = 60) -> pd.DataFrame:
    """Active records whose own data contradict themselves, one row per piece of evidence:
    the patient's traits, ``kind`` (see :data:`COLLISION_KINDS`), ``expected`` (what the INS
    encodes) and ``found`` (what the record holds), and for overlapping stays both stays with
    their service and the two documents' times (``at_1``, ``at_2``, at most ``window_minutes``
    apart). Patients with most evidence first, at most ``limit`` rows.
    The view is recorded in the access log. A role without identity access gets the record's
    names, birth date and place, INS and the INS evidence's values emptied
    (:func:`~analytics.identity.masking.mask_identities`)."""
    require(actor, Permission.VIEW_PATIENT_DATA)
    if limit < 1:
        raise InvalidInput(f"limit: {limit} must be at least 1")
    if window_minutes < 1:
        raise InvalidInput(f"window_minutes: {window_minutes} must be at least 1")
    frame = con.execute(f"""
        WITH evidence AS (
            SELECT *, NULL::VARCHAR AS stay_1, NULL::VARCHAR AS service_1, NULL::TIMESTAMPTZ AS at_1,
                   NULL::VARCHAR AS stay_2, NULL::VARCHAR AS service_2, NULL::TIMESTAMPTZ AS at_2
            FROM ({_INS_SQL})
            UNION ALL BY NAME ({_STAYS_SQL})
        ),
        ranked AS (SELECT *, count(*) OVER (PARTITION BY patient_id) AS n FROM evidence)
        SELECT {', '.join('p.' + c if c in ('birth_name', 'first_names', 'birth_date', 'sex', 'birth_place_code',
                                            'ins', 'identity_status') else 'e.' + c for c in _COLUMNS)}
        FROM ranked e JOIN patients p USING (patient_id)
        ORDER BY e.n DESC, e.patient_id, e.kind, e.stay_1, e.stay_2
        LIMIT $limit
    """, {"limit": int(limit), "window": int(window_minutes)}).df()  # noqa: S608 - fixed SQL
    for column in ("expected", "found", "stay_1", "service_1", "stay_2", "service_2"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    if not may_see_identities(actor):
        # what the INS encodes and what the record holds are pieces of the INS, the birth date
        # and place: a role without identity access gets the kind of contradiction only
        frame = mask_identities(frame, actor)
        about_ins = frame["kind"] != "overlapping_stays"
        for column in ("expected", "found"):
            frame[column] = frame[column].where(~about_ins, None)
    log_access(con, actor, "view", "collisions", len(frame), {"limit": limit})
    return frame


def count_collisions(con: duckdb.DuckDBPyConnection, actor: Actor, *, window_minutes: int = 60) -> int:
    """How many active records contradict themselves (the size of :func:`find_collisions`'s list
    in patients): an aggregate, for the overview and the monthly report, so no trace."""
    require(actor, Permission.VIEW_AGGREGATES)
    return int(con.execute(f"""
        SELECT count(DISTINCT patient_id) FROM (
            SELECT patient_id FROM ({_INS_SQL}) UNION ALL SELECT patient_id FROM ({_STAYS_SQL}))
    """, {"window": int(window_minutes)}).fetchall()[0][0])  # noqa: S608 - fixed SQL
