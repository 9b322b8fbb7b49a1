"""Pseudonymisation of extracts: keyed hashes, generalisation, dropped direct identifiers.

Pseudonymised data remain personal data (GDPR): this lowers the risk of an extract that leaves
the warehouse, it does not make it anonymous. What happens to each column is decided in one
place, :data:`COLUMN_POLICY`:

=================== =========================================================================
rule                columns
=================== =========================================================================
hash (keyed)        patient identifiers: ``patient_id``, ``merged_into``, ``patient_id_1/2``,
                    ``ins``; keys that lead back to a patient in the source system:
                    ``document_id(_1/2)``, ``stay_id`` (NDA), ``record_key``, ``rid``,
                    ``cluster_id`` (named after one of its patients)
drop                direct identifiers and free text: names, address, city, phone, e-mail,
                    document ``text`` and ``title``, review ``comment``, raw values, the
                    ``left``/``right`` values of a pair explanation,
                    JSON snapshots (``before``/``after``/``row_key``), ``content_hash``
generalise          ``birth_date`` -> ``birth_year``; ``postcode`` -> ``departement``
                    (2 characters, 3 for overseas 97x, 2A/2B for Corsica);
                    ``birth_place_code`` (INSEE) -> ``birth_departement`` (99 = abroad)
staff               clinicians' identifiers (``user_id``, ``author_id``, ``signed_by``,
                    ``signer_id``, ``reviewer``, ``actor``, staff ``display_name``): **kept**
                    by default, because time-sink analysis is about clinicians' workload and
                    its readers (DSI, service heads) know the staff; ``staff="pseudonymise"``
                    hashes them (and drops staff names) for extracts that leave the DSI
keep                everything else that is known (codes, dates of records, measures), and
                    the matcher's ``<field>_level`` agreement levels
=================== =========================================================================

A column that is not in the table is kept when it is numeric or boolean, and refused
(``InvalidInput``) when it holds text or dates: a new text column may hold names and a new date
column a birth date, so its rule must be decided (``columns_policy={"my_column": "keep"}``)
rather than guessed. Export frames
with the warehouse's canonical column names; translate headers for display only.

Pseudonyms are ``HMAC-SHA-256(secret, kind + ":" + value)``, hex, truncated to 16 characters
(64 bits) and prefixed by the kind (``pat_``, ``ins_``, ``doc_``...): the same patient gets the
same pseudonym in every table of every extract made with one secret, so extracts still join,
but without the secret a pseudonym cannot be brute-forced back to an IPP or a NIR (a plain hash
of a NIR could). The secret lives outside the warehouse folder (:func:`load_secret`), and
exports derive one key per pseudonym domain from it (:func:`domain_key`).
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analytics.config import default_db_path
from analytics.errors import InvalidInput
from analytics.privacy.keys import load_key

__all__ = [
    "COLUMN_POLICY",
    "QUASI_IDENTIFIERS",
    "departement",
    "domain_key",
    "k_anonymity",
    "load_secret",
    "policy_for",
    "pseudonym",
    "pseudonymise_frame",
    "secret_for",
]

SECRET_BYTES = 32
_MIN_SECRET = 16


def _hash(kind: str) -> tuple[str, str]:
    return ("hash", kind)


KEEP = ("keep", "")
DROP = ("drop", "")
STAFF = ("staff", "staff")

#: The single place where each known column's fate is decided (see the module docstring).
COLUMN_POLICY: dict[str, tuple[str, str]] = {
    # patient identifiers
    **dict.fromkeys(["patient_id", "merged_into", "patient_id_1", "patient_id_2"], _hash("pat")),
    "ins": _hash("ins"),
    # keys that lead back to a patient in the source system
    **dict.fromkeys(["document_id", "document_id_1", "document_id_2", "keep_document_id"], _hash("doc")),
    "stay_id": _hash("stay"),
    "record_key": _hash("key"),
    "cluster_id": _hash("pat"),  # the matcher names a cluster after one of its patient_ids
    "rid": _hash("key"),
    # direct identifiers and free text
    **dict.fromkeys(
        [
            "birth_name", "used_name", "first_names", "used_first_name", "first_name",
            "address", "city", "phone", "email", "text", "title", "comment", "raw_value",
            "before", "after", "row_key", "explanation", "content_hash", "content",
            "bn", "bn_key", "bn_np", "un", "un_key", "un_np", "fn_list", "fn1", "fn_all", "ufn",
            "bn_sdx", "un_sdx", "fn_sdx", "left", "right",
            # RNIV identity attributes (FICT, DOUT, HOMD...): rare codes that single a record out
            # (FICT marks an identity kept secret on purpose); an identified export keeps them
            "identity_attributes",
        ],
        DROP,
    ),
    # generalised
    "birth_date": ("year", "birth_year"),
    "postcode": ("departement", "departement"),
    "birth_place_code": ("departement", "birth_departement"),
    "birth_place": ("departement", "birth_departement"),
    # clinicians
    **dict.fromkeys(
        ["user_id", "author_id", "signed_by", "signer_id", "reviewer", "actor", "computed_by"], STAFF
    ),
    "display_name": ("staff_name", ""),
    # known, kept as they are
    **dict.fromkeys(
        [
            "source", "sex", "identity_status", "active", "import_id", "document_type", "service",
            "status", "event_id", "action", "activity", "workstation", "role", "is_service_head",
            "kind", "reason", "decision", "rule", "match_run_id", "table_name", "field", "level",
            "file_name", "column_name", "problem", "format", "encoding", "delimiter", "message",
            "job", "run_id", "preview_id", "schedule_id", "params", "summary", "session_id",
            "activity_label", "day", "basis", "origin", "op", "cols", "routing_id", "cron", "session_type",
            "name", "settings_json", "data_fingerprint", "file_sha256", "fingerprint", "undo_of",
            "undone_by", "request_key", "actor_role", "last_status", "last_message", "output_dir",
            "blocking_report", "object", "via", "detail", "ins_strong", "bd_default", "prev_hash",
            "row_hash",
            # dates of records and events (not of persons)
            "created_at", "updated_at", "signed_at", "timestamp", "started_at", "finished_at",
            "logged_at", "decided_at", "session_start", "session_end", "slice_start", "slice_end",
            "piece_start", "piece_end", "routed_at", "first_day", "start", "end", "last_run_at",
            "computed_at", "applied_at",
        ],
        KEEP,
    ),
}

_SIDE = re.compile(r"^(?P<base>.+?)(?P<side>_1|_2|_left|_right)$")

#: Columns (after generalisation) that, combined, could single a person out: k-anonymity is
#: measured on those present in an extract.
QUASI_IDENTIFIERS = ("birth_year", "sex", "departement", "birth_departement")


def load_secret(db_path: str | Path | None = None, *, setting: str | None = None) -> bytes:
    """The pseudonymisation key of warehouse ``db_path`` (default: ``HYGIE_DB`` or ./data).

    Kept outside the warehouse folder, owner-only, created on first use: see
    :mod:`analytics.privacy.keys` for where (``HYGIE_SECRET_FILE``, the setting
    ``privacy.secret_file``, else the user's key folder) and what is refused. ``*.secret`` files
    must stay out of git. Losing the key changes every pseudonym of later extracts.
    """
    return load_key(db_path if db_path is not None else default_db_path(), setting)


_EPHEMERAL = secrets.token_bytes(SECRET_BYTES)


def secret_for(con: duckdb.DuckDBPyConnection) -> bytes:
    """The secret of the warehouse behind ``con``.

    An in-memory warehouse (tests, previews) without ``HYGIE_SECRET_FILE`` gets a random key
    that lives as long as the process: its pseudonyms are stable within one run only.
    """
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    path = row[0] if row else None
    if not path and not os.environ.get("HYGIE_SECRET_FILE"):
        return _EPHEMERAL
    setting = con.execute("SELECT value FROM settings WHERE key = 'privacy.secret_file'").fetchall()
    return load_secret(path or None, setting=setting[0][0] if setting and setting[0][0] else None)


def domain_key(secret: bytes, domain: str) -> bytes:
    """The key of one pseudonym domain (a recipient or a purpose): HMAC-SHA-256(secret, domain).

    Files made in two domains cannot be joined on their pseudonyms; files made in the same one
    can. Staff identifiers use ``staff:`` + the domain, so that clinicians' pseudonyms never
    match patients' even by construction.
    """
    if not domain or not domain.strip():
        raise InvalidInput("pseudonym domain: empty name")
    return hmac.digest(secret, f"hygie-domain:{domain.strip()}".encode(), "sha256")


def pseudonym(value: object, secret: bytes, kind: str = "pat") -> str | None:
    """``kind_`` + the first 16 hex digits of HMAC-SHA-256(secret, ``kind:value``); None stays None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    digest = hmac.digest(secret, f"{kind}:{text}".encode(), "sha256")  # one-shot C path
    return f"{kind}_{digest[:8].hex()}"


def _map_distinct(series: pd.Series, fn) -> pd.Series:
    """``fn`` applied once per distinct value (identifiers and codes repeat), None for missing."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = np.array([fn(v) for v in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=series.index, dtype=object)  # code -1 -> the None


def _pseudonym_series(series: pd.Series, secret: bytes, kind: str) -> pd.Series:
    return _map_distinct(series, lambda v: pseudonym(v, secret, kind))


def departement(code: object) -> str | None:
    """The département of a postcode or an INSEE commune code (2A/2B, 97x, 99 abroad)."""
    if code is None or (not isinstance(code, str) and pd.isna(code)):
        return None
    text = str(code).strip().upper()
    if len(text) == 4 and text.isdigit():  # postcode whose leading zero was lost (01000 -> 1000)
        text = "0" + text
    if len(text) != 5:
        return None
    if text[:2] in ("2A", "2B"):
        return text[:2]
    if not text.isdigit():
        return None
    if text.startswith("97") or text.startswith("98"):
        return text[:3]
    if text.startswith("20"):  # Corsican postcodes: 200xx-201xx Corse-du-Sud, 202xx+ Haute-Corse
        return "2A" if int(text) < 20200 else "2B"
    return text[:2]


def _year(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, errors="coerce").dt.year.astype("Int64")


def policy_for(column: str, extra: Mapping[str, str | tuple[str, str]] | None = None) -> tuple[str, str] | None:
    """The rule for ``column``: ``extra`` first, then :data:`COLUMN_POLICY`; None if unknown.

    ``<field>_level`` / ``level_<field>`` columns (the matcher's agreement level per field:
    exact/close/far...) are kept: they describe a comparison, not a value. Side-by-side columns
    (``birth_name_1``, ``birth_date_2``, ``postcode_left``...) follow their base column's rule.
    """
    if extra and column in extra:
        rule = extra[column]
        if isinstance(rule, str):
            if rule == "hash":
                return _hash("id")
            if rule not in ("keep", "drop"):
                raise InvalidInput(f"column policy for '{column}': '{rule}' is not keep, drop or hash")
            return (rule, "")
        return rule
    if column in COLUMN_POLICY:
        return COLUMN_POLICY[column]
    if column.endswith("_level") or column.startswith("level_"):
        return KEEP
    side = _SIDE.match(column)
    if side and side["base"] in COLUMN_POLICY:
        action, arg = COLUMN_POLICY[side["base"]]
        return (action, arg + side["side"]) if action in ("year", "departement") else (action, arg)
    return None


def pseudonymise_frame(
    df: pd.DataFrame,
    secret: bytes,
    columns_policy: Mapping[str, str | tuple[str, str]] | None = None,
    *,
    staff: str = "keep",
    staff_secret: bytes | None = None,
) -> pd.DataFrame:
    """A pseudonymised copy of ``df`` following :data:`COLUMN_POLICY` (plus ``columns_policy``).

    ``staff`` is ``keep`` (clinicians' ids kept, the default) or ``pseudonymise``, with
    ``staff_secret`` (default ``secret``): exports use a key domain of their own for staff.
    """
    if staff not in ("keep", "pseudonymise"):
        raise InvalidInput(f"staff: '{staff}' is not keep or pseudonymise")
    unknown = []
    out: dict[str, pd.Series] = {}
    for column in df.columns:
        series = df[column]
        rule = policy_for(str(column), columns_policy)
        if rule is None:
            if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series) \
                    or series.isna().all():
                out[column] = series
            else:
                unknown.append(str(column))
            continue
        action, arg = rule
        if action == "keep":
            out[column] = series
        elif action == "hash":
            out[column] = _pseudonym_series(series, secret, arg)
        elif action == "staff":
            out[column] = series if staff == "keep" else _pseudonym_series(series, staff_secret or secret, "staff")
        elif action == "staff_name":
            if staff == "keep":
                out[column] = series
        elif action == "year":
            out[arg] = _year(series)
        elif action == "departement":
            out[arg] = _map_distinct(series, departement)
        elif action != "drop":
            raise InvalidInput(f"column policy for '{column}': unknown rule '{action}'")
    if unknown:
        raise InvalidInput(
            "no pseudonymisation rule for column(s) "
            + ", ".join(f"'{c}'" for c in unknown)
            + ": declare them in columns_policy (keep, drop or hash) or export canonical column names"
        )
    return pd.DataFrame(out, index=df.index)


def k_anonymity(df: pd.DataFrame) -> int | None:
    """The size of the smallest group sharing the quasi-identifiers present (None: none present)."""
    present = [c for c in QUASI_IDENTIFIERS if c in df.columns]
    if not present or df.empty:
        return None
    return int(df.groupby(present, dropna=False).size().min())
