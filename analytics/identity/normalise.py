"""Normalised identity keys, built beside the original values (which stay in ``patients``).

Everything is one DuckDB statement over the whole patients table (vectorised); only phone
numbers that the SQL fast path cannot read go through the ``phonenumbers`` library, once per
distinct raw value. The result is the ``identity_index`` table: one row per active patient
with an integer ``rid`` (fast joins), name keys, phonetic keys, dates, INS, phone (E.164)...

Name rules (French identities, RNIV):

* upper case, accents and ligatures removed (Œ→OE), apostrophes/hyphens/other marks → space;
* "DUPONT ÉPOUSE MARTIN", "DUPONT ép. MARTIN", "DUPONT VEUVE MARTIN" → birth DUPONT, usage
  MARTIN; "MARTIN NÉE DUPONT" → birth DUPONT, usage MARTIN (in either name field);
* ``*_key``: without spaces (D'ARTAGNAN = DARTAGNAN); ``*_np``: without particles
  (DE, DU, LE, LA, D', VAN...) so that "DE LA FONTAINE" = "FONTAINE";
* first names: hyphens and apostrophes joined (JEAN-PIERRE → JEANPIERRE, one compound name),
  spaces separate names of the list; ``fn1`` the first, ``fn_all`` the list glued together;
* birth date 01/01 flagged as a possible default date (``bd_default``).
"""

from __future__ import annotations

import re
import unicodedata

import duckdb
import phonenumbers

from analytics.identity.attributes import normalise_attributes, normalise_attributes_sql
from analytics.identity.phonetic import install_macros

__all__ = ["build_index", "clean_name_sql", "normalise_identity", "normalise_phone", "normalise_query"]

_PARTICLES = "DE|DU|DES|D|LE|LA|LES|L|VAN|VON|DER|DEN|DEL|DELLA|DELLE|DI|DA|DAS|DOS|ST|SAINT"
_USAGE_MARK = "EPOUSE|EPSE|EP|VEUVE|VVE|VEUF|DIVORCEE|DIV"


def clean_name_sql(expr: str) -> str:
    """SQL: upper case, no accents or ligatures, anything but letters → one space."""
    lig = f"replace(replace(replace(replace(coalesce({expr}, ''), 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE')"
    return f"trim(regexp_replace(strip_accents(upper({lig})), '[^A-Z]+', ' ', 'g'))"


def _first_names_sql(expr: str) -> str:
    joined = f"regexp_replace(coalesce({expr}, ''), '[-''’‐]+', '', 'g')"
    return clean_name_sql(joined)


def _address_sql(expr: str) -> str:
    lig = f"coalesce({expr}, '')"
    return f"trim(regexp_replace(strip_accents(upper({lig})), '[^A-Z0-9]+', ' ', 'g'))"


def _np_sql(expr: str) -> str:
    """Name without particles and spaces; falls back to the spaced key if nothing is left."""
    e = f"(' ' || {expr} || ' ')"
    for _ in range(3):
        e = f"regexp_replace({e}, ' ({_PARTICLES}) ', ' ', 'g')"
    bare = f"replace({e}, ' ', '')"
    # Only names of several words can hold a particle: skip the regexes for the others.
    return (f"CASE WHEN contains({expr}, ' ') THEN coalesce(nullif({bare}, ''), nullif(replace({expr}, ' ', ''), '')) "
            f"ELSE nullif({expr}, '') END")


def _phone_fast_sql(d: str) -> str:
    """E.164 for the common French forms, from ``d`` (the raw value reduced to digits and +);
    '?' marks the others, left to the phonenumbers library."""
    return f"""CASE
        WHEN {d} = '' THEN NULL
        WHEN regexp_full_match({d}, '0[1-9][0-9]{{8}}') THEN '+33' || substr({d}, 2)
        WHEN regexp_full_match({d}, '(\\+|00)330?[1-9][0-9]{{8}}') THEN '+33' || right({d}, 9)
        WHEN regexp_full_match({d}, '33[1-9][0-9]{{8}}') THEN '+33' || right({d}, 9)
        ELSE '?' END"""


def normalise_phone(raw: str | None) -> str | None:
    """E.164 form of a phone number (French numbering by default), None if not a number."""
    if raw is None or not str(raw).strip():
        return None
    try:
        number = phonenumbers.parse(str(raw), "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _select_sql(source: str) -> tuple[str, str]:
    """Two SELECTs (materialised one after the other, so that DuckDB does not evaluate the
    regular expressions once per later reference): cleaned and split names, then keys."""
    bclean = clean_name_sql("birth_name")
    uclean = clean_name_sql("used_name")
    stage1 = f"""
    WITH c AS (
        SELECT patient_id, {bclean} AS b0, {uclean} AS u0,
               {_first_names_sql('first_names')} AS fnl,
               {_first_names_sql('used_first_name')} AS ufl,
               birth_date, upper(trim(sex)) AS sex0, upper(trim(birth_place_code)) AS bp0,
               upper(regexp_replace(coalesce(ins, ''), '\\s', '', 'g')) AS ins0,
               upper(trim(identity_status)) AS status0,
               phone AS phone_raw, regexp_replace(coalesce(phone, ''), '[^0-9+]', '', 'g') AS phone_d,
               lower(trim(email)) AS email0,
               regexp_replace(coalesce(postcode, ''), '[^0-9AB]', '', 'g') AS pc0,
               {_address_sql('address')} AS addr0,
               {normalise_attributes_sql('identity_attributes')} AS attrs0
        FROM {source}
    ), s AS (
        SELECT *,
            CASE WHEN regexp_matches(b0, ' ({_USAGE_MARK}|NEE) ') THEN
                regexp_extract(b0, '^(.+?) ({_USAGE_MARK}) (.+)$', ['birth', 'mark', 'usage']) END AS b_ep,
            CASE WHEN regexp_matches(b0, ' NEE ') THEN
                regexp_extract(b0, '^(.+?) NEE (.+)$', ['usage', 'birth']) END AS b_nee,
            CASE WHEN regexp_matches(u0, ' ({_USAGE_MARK}|NEE) ') THEN
                regexp_extract(u0, '^(.+?) ({_USAGE_MARK}) (.+)$', ['birth', 'mark', 'usage']) END AS u_ep,
            CASE WHEN regexp_matches(u0, ' NEE ') THEN
                regexp_extract(u0, '^(.+?) NEE (.+)$', ['usage', 'birth']) END AS u_nee
        FROM c
    ), n AS (
        SELECT *,
            coalesce(nullif(b_ep.birth, ''), nullif(b_nee.birth, ''), nullif(u_ep.birth, ''),
                     nullif(u_nee.birth, ''), nullif(b0, '')) AS bn,
            coalesce(nullif(b_ep.usage, ''), nullif(b_nee.usage, ''), nullif(u_ep.usage, ''),
                     nullif(u_nee.usage, ''), nullif(u0, '')) AS un0
        FROM s
    )
    SELECT patient_id, bn, un0, fnl, ufl, birth_date, sex0, bp0, ins0, status0, phone_raw, phone_d, email0,
           pc0, addr0, attrs0
    FROM n
    """  # noqa: S608 - internal identifiers only
    stage2 = f"""
    SELECT
        patient_id,
        bn,
        replace(bn, ' ', '') AS bn_key,
        {_np_sql('bn')} AS bn_np,
        nullif(un0, bn) AS un,
        replace(nullif(un0, bn), ' ', '') AS un_key,
        {_np_sql('nullif(un0, bn)')} AS un_np,
        nullif(fnl, '') AS fn_list,
        nullif(split_part(fnl, ' ', 1), '') AS fn1,
        nullif(replace(fnl, ' ', ''), '') AS fn_all,
        nullif(split_part(ufl, ' ', 1), '') AS ufn,
        birth_date,
        (month(birth_date) = 1 AND day(birth_date) = 1) AS bd_default,
        CASE WHEN sex0 IN ('M', 'F') THEN sex0 WHEN sex0 IN ('H', '1') THEN 'M'
             WHEN sex0 = '2' THEN 'F' END AS sex,
        nullif(bp0, '') AS birth_place,
        nullif(ins0, '') AS ins,
        coalesce(status0 IN ('RECUP', 'QUAL'), FALSE) AS ins_strong,
        {_phone_fast_sql('phone_d')} AS phone,
        phone_raw,
        nullif(email0, '') AS email,
        nullif(pc0, '') AS postcode,
        nullif(addr0, '') AS address,
        attrs0 AS attributes
    FROM _hy_stage1
    """  # noqa: S608 - internal identifiers only
    return stage1, stage2


INDEX_COLUMNS = (
    "rid", "patient_id", "bn", "bn_key", "bn_np", "un", "un_key", "un_np", "fn_list", "fn1",
    "fn_all", "ufn", "bn_sdx", "un_sdx", "fn_sdx", "birth_date", "bd_default", "sex",
    "birth_place", "ins", "ins_strong", "phone", "email", "postcode", "address", "attributes",
)


def normalise_identity(con: duckdb.DuckDBPyConnection, source: str, target: str, rid_start: int = 0) -> int:
    """Create temp table ``target`` with identity keys for relation ``source`` (allow-listed
    names only: both are internal). Returns the number of rows."""
    install_macros(con)
    stage1, stage2 = _select_sql(source)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _hy_stage1 AS {stage1}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _hy_norm AS {stage2}")
    con.execute("DROP TABLE _hy_stage1")
    # Phones the fast path could not read: phonenumbers, once per distinct raw value.
    odd = con.execute("SELECT DISTINCT phone_raw FROM _hy_norm WHERE phone = '?'").fetchall()
    con.execute("CREATE OR REPLACE TEMP TABLE _hy_phone (raw VARCHAR, e164 VARCHAR)")
    if odd:
        con.executemany("INSERT INTO _hy_phone VALUES (?, ?)", [[r, normalise_phone(r)] for (r,) in odd])
    # Phonetic keys once per distinct name.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _hy_sdx AS
        SELECT name, hy_soundex2(name) AS sdx FROM (
            SELECT bn_np AS name FROM _hy_norm UNION SELECT un_np FROM _hy_norm
            UNION SELECT fn1 FROM _hy_norm) WHERE name IS NOT NULL
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {target} AS
        SELECT (row_number() OVER (ORDER BY n.patient_id) + {int(rid_start)} - 1)::INTEGER AS rid,
               n.patient_id, bn, bn_key, bn_np, un, un_key, un_np, fn_list, fn1, fn_all, ufn,
               sb.sdx AS bn_sdx, su.sdx AS un_sdx, sf.sdx AS fn_sdx,
               birth_date, coalesce(bd_default, FALSE) AS bd_default, sex, birth_place, ins,
               ins_strong, CASE WHEN n.phone = '?' THEN p.e164 ELSE n.phone END AS phone,
               email, postcode, address, attributes
        FROM _hy_norm n
        LEFT JOIN _hy_phone p ON n.phone = '?' AND p.raw = n.phone_raw
        LEFT JOIN _hy_sdx sb ON sb.name = n.bn_np
        LEFT JOIN _hy_sdx su ON su.name = n.un_np
        LEFT JOIN _hy_sdx sf ON sf.name = n.fn1
    """)  # noqa: S608 - internal identifiers only
    con.execute("DROP TABLE _hy_norm; DROP TABLE _hy_phone; DROP TABLE _hy_sdx")
    return con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]  # noqa: S608 - internal identifiers only


def build_index(con: duckdb.DuckDBPyConnection) -> int:
    """(Re)build ``identity_index`` from the active patients. Returns its row count."""
    con.execute(
        "CREATE OR REPLACE TEMP VIEW _hy_active AS SELECT * FROM patients WHERE active"
    )
    n = normalise_identity(con, "_hy_active", "_hy_new")
    con.execute("DELETE FROM identity_index")
    con.execute(f"INSERT INTO identity_index SELECT {', '.join(INDEX_COLUMNS)} FROM _hy_new")  # noqa: S608 - internal identifiers only
    con.execute("DROP TABLE _hy_new; DROP VIEW _hy_active")
    return n


# ---------------------------------------------------------------- one typed identity, in Python
# The identity desk types one identity at a time: the same rules as the SQL above, without a
# database round trip (tested equal to the SQL on the normalisation cases).

def _clean_py(text: str | None, keep_digits: bool = False) -> str:
    t = (text or "").replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE").upper()
    t = "".join(ch for ch in unicodedata.normalize("NFKD", t) if not unicodedata.combining(ch))
    return re.sub("[^A-Z0-9]+" if keep_digits else "[^A-Z]+", " ", t).strip()


def _np_py(name: str | None) -> str | None:
    if not name:
        return None
    if " " not in name:
        return name
    e = f" {name} "
    for _ in range(3):
        e = re.sub(f" ({_PARTICLES}) ", " ", e)
    return e.replace(" ", "") or name.replace(" ", "") or None


def _split_py(text: str) -> tuple[str | None, str | None]:
    """(birth, usage) from "X ÉPOUSE Y" / "Y NÉE X" forms, else (None, None)."""
    if re.search(f" ({_USAGE_MARK}|NEE) ", text):
        m = re.match(f"^(.+?) ({_USAGE_MARK}) (.+)$", text)
        if m:
            return m.group(1), m.group(3)
    if re.search(" NEE ", text):
        m = re.match("^(.+?) NEE (.+)$", text)
        if m:
            return m.group(2), m.group(1)
    return None, None


def normalise_query(*, birth_name=None, used_name=None, first_names=None, birth_date=None, sex=None,
                    birth_place=None, ins=None, phone=None, email=None, postcode=None,
                    used_first_name=None, identity_attributes=None) -> dict:
    """identity_index columns (rid -1) for one typed identity."""
    from analytics.identity.phonetic import soundex2_py

    b0, u0 = _clean_py(birth_name), _clean_py(used_name)
    b_birth, b_usage = _split_py(b0)
    u_birth, u_usage = _split_py(u0)
    bn = b_birth or u_birth or b0 or None
    un0 = b_usage or u_usage or u0 or None
    un = None if un0 == bn else un0
    fnl = _clean_py(re.sub("[-'’‐]+", "", first_names or ""))
    ufl = _clean_py(re.sub("[-'’‐]+", "", used_first_name or ""))
    sex0 = (sex or "").strip().upper()
    digits = re.sub("[^0-9+]", "", phone or "")
    row = {
        "rid": -1, "patient_id": "__query__", "bn": bn, "bn_key": bn.replace(" ", "") if bn else None,
        "bn_np": _np_py(bn), "un": un, "un_key": un.replace(" ", "") if un else None, "un_np": _np_py(un),
        "fn_list": fnl or None, "fn1": fnl.split(" ")[0] or None, "fn_all": fnl.replace(" ", "") or None,
        "ufn": ufl.split(" ")[0] or None, "birth_date": birth_date,
        "bd_default": bool(birth_date and birth_date.month == 1 and birth_date.day == 1),
        "sex": sex0 if sex0 in ("M", "F") else {"H": "M", "1": "M", "2": "F"}.get(sex0),
        "birth_place": (birth_place or "").strip().upper() or None,
        "ins": re.sub(r"\s", "", ins or "").upper() or None, "ins_strong": False,
        "phone": normalise_phone(digits) if digits else None,
        "email": (email or "").strip().lower() or None,
        "postcode": re.sub("[^0-9AB]", "", postcode or "") or None, "address": None,
        "attributes": normalise_attributes(identity_attributes),
    }
    for key, src in (("bn_sdx", "bn_np"), ("un_sdx", "un_np"), ("fn_sdx", "fn1")):
        row[key] = soundex2_py(row[src]) if row[src] else None
    return row
