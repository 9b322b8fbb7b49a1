"""Canonical columns of each importable table and the header synonyms hospitals use.

A file header is matched after normalisation (case, accents, spaces and punctuation
ignored): ``Date de naissance``, ``DATE_NAISSANCE`` and ``date-naissance`` are one name.
An explicit mapping (``--map SRC=dest``) wins over synonyms.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from analytics.errors import InvalidInput
from analytics.messages import english

__all__ = ["TABLES", "TableSpec", "normalise_header", "resolve_headers"]

_SHOWN_UNKNOWN = 20  # unknown header names listed in the notice


@dataclass(frozen=True)
class TableSpec:
    """What the importer knows about one warehouse table."""

    name: str
    columns: tuple[str, ...]  # canonical columns a file may provide, in table order
    required: tuple[str, ...]  # structural: a file without them is refused
    key: tuple[str, ...]  # source key (upsert target); `source` is added for patients
    synonyms: dict[str, str]  # normalised header -> canonical column


def normalise_header(name: str) -> str:
    """``'Prénom(s) usuel'`` -> ``'prenom_s_usuel'``: lower case, no accents, ``_`` separated."""
    text = unicodedata.normalize("NFKD", name.strip().lstrip("\ufeff"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _syn(pairs: dict[str, tuple[str, ...]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for canonical, names in pairs.items():
        out[normalise_header(canonical)] = canonical
        for name in names:
            out[normalise_header(name)] = canonical
    return out


_PATIENTS = _syn(
    {
        "patient_id": ("IPP", "NUM_IPP", "NO_IPP", "ID_PATIENT", "PATIENT", "PATIENT_ID", "PID", "MRN"),
        "birth_name": ("NOM_NAISSANCE", "NOM_DE_NAISSANCE", "NOM_NAIS", "NOM_PATRONYMIQUE", "NOM_DE_FAMILLE", "NOM", "FAMILY_NAME", "LAST_NAME", "BIRTH_NAME", "NOM_JEUNE_FILLE"),
        "used_name": ("NOM_USAGE", "NOM_D_USAGE", "NOM_UTILISE", "NOM_MARITAL", "USUAL_NAME", "USED_NAME"),
        "first_names": ("PRENOMS", "PRENOM", "PRENOM_S", "PRENOMS_NAISSANCE", "LISTE_PRENOMS", "PRENOMS_DE_NAISSANCE", "FIRST_NAME", "FIRST_NAMES", "GIVEN_NAMES", "GIVEN"),
        "used_first_name": ("PRENOM_USAGE", "PRENOM_UTILISE", "PRENOM_USUEL", "PRENOM_D_USAGE", "USUAL_FIRST_NAME"),
        "birth_date": ("DATE_NAISSANCE", "DATE_DE_NAISSANCE", "DT_NAISSANCE", "DDN", "NE_LE", "DOB", "BIRTH_DATE", "BIRTHDATE", "DATE_OF_BIRTH"),
        "sex": ("SEXE", "GENRE", "GENDER", "SEX"),
        "birth_place_code": ("LIEU_NAISSANCE", "LIEU_DE_NAISSANCE", "CODE_LIEU_NAISSANCE", "COG_NAISSANCE", "INSEE_NAISSANCE", "CODE_INSEE_NAISSANCE", "BIRTH_PLACE", "BIRTHPLACE"),
        "ins": ("MATRICULE_INS", "INS", "INS_NIR", "NIR", "NUM_INS", "MATRICULE"),
        "identity_status": ("STATUT_IDENTITE", "STATUT_IDENTITÉ", "STATUT", "IDENTITY_STATUS", "STATUT_INS"),
        "identity_attributes": ("ATTRIBUTS_IDENTITE", "ATTRIBUTS_IDENTITÉ", "ATTRIBUTS", "ATTRIBUT_IDENTITE",
                                "IDENTITY_ATTRIBUTES", "IDENTITY_ATTRIBUTE"),
        "address": ("ADRESSE", "ADRESSE_POSTALE", "RUE", "ADDRESS", "ADDRESS_LINE"),
        "postcode": ("CP", "CODE_POSTAL", "POSTAL_CODE", "ZIP", "POSTCODE"),
        "city": ("VILLE", "COMMUNE", "LOCALITE", "CITY"),
        "phone": ("TEL", "TELEPHONE", "TEL_PORTABLE", "PORTABLE", "MOBILE", "PHONE"),
        "email": ("MAIL", "E_MAIL", "COURRIEL", "ADRESSE_MAIL", "EMAIL"),
        "created_at": ("DATE_CREATION", "CREE_LE", "CREATED"),
        "updated_at": ("DATE_MODIFICATION", "DATE_MAJ", "MODIFIE_LE", "UPDATED"),
        "active": ("ACTIF", "IS_ACTIVE"),
    }
)

_DOCUMENTS = _syn(
    {
        "document_id": ("ID_DOCUMENT", "NUM_DOCUMENT", "DOC_ID", "ID_DOC", "DOCUMENT"),
        "patient_id": ("IPP", "ID_PATIENT", "PATIENT"),
        "document_type": ("TYPE_DOCUMENT", "TYPE_DOC", "TYPE", "DOC_TYPE"),
        "title": ("TITRE", "LIBELLE", "INTITULE"),
        "author_id": ("AUTEUR", "ID_AUTEUR", "RPPS_AUTEUR", "AUTHOR", "RPPS"),
        "service": ("UF", "SERVICE", "UNITE", "UNITE_FONCTIONNELLE", "UNIT"),
        "created_at": ("DATE_CREATION", "CREE_LE", "CREATED", "DATE"),
        "signed_at": ("DATE_SIGNATURE", "SIGNE_LE", "SIGNED"),
        "signed_by": ("SIGNATAIRE", "SIGNE_PAR", "VALIDEUR", "SIGNER"),
        "status": ("STATUT", "ETAT", "STATE"),
        "content_hash": ("HASH", "EMPREINTE", "SHA1", "SHA256", "CHECKSUM"),
        "text": ("TEXTE", "CONTENU", "EXTRAIT", "BODY", "CONTENT"),
        "stay_id": ("NDA", "NUM_SEJOUR", "SEJOUR", "ID_SEJOUR", "NUM_DOSSIER", "STAY", "ENCOUNTER"),
    }
)

_AUDIT = _syn(
    {
        "event_id": ("ID_EVENEMENT", "ID_EVENT", "EVENT", "ID_TRACE", "ID"),
        "user_id": ("UTILISATEUR", "ID_UTILISATEUR", "LOGIN", "RPPS", "USER", "USERNAME"),
        "timestamp": ("HORODATAGE", "DATE_HEURE", "DATEHEURE", "DATE_EVENEMENT", "TIME", "DATETIME", "RECORDED"),
        "action": ("ACTION", "OPERATION", "VERBE"),
        "activity": ("ACTIVITE", "TYPE_ACTIVITE", "CATEGORIE"),
        "patient_id": ("IPP", "ID_PATIENT", "PATIENT"),
        "document_id": ("ID_DOCUMENT", "DOCUMENT", "DOC_ID"),
        "document_type": ("TYPE_DOCUMENT", "TYPE_DOC", "DOC_TYPE"),
        "service": ("UF", "SERVICE", "UNITE", "UNIT"),
        "workstation": ("POSTE", "POSTE_DE_TRAVAIL", "MACHINE", "HOST", "HOSTNAME", "TERMINAL"),
    }
)

_STAFF = _syn(
    {
        "user_id": ("UTILISATEUR", "ID_UTILISATEUR", "LOGIN", "RPPS", "MATRICULE", "USER", "USERNAME"),
        "display_name": ("NOM_AFFICHE", "NOM_COMPLET", "NOM", "NAME", "FULL_NAME"),
        "role": ("FONCTION", "PROFESSION", "METIER", "ROLE"),
        "service": ("UF", "SERVICE", "UNITE", "UNIT"),
        "active": ("ACTIF", "IS_ACTIVE"),
        "is_service_head": ("CHEF_DE_SERVICE", "CHEF_SERVICE", "RESPONSABLE", "SERVICE_HEAD"),
    }
)

_SCHEDULES = _syn(
    {
        "user_id": ("UTILISATEUR", "ID_UTILISATEUR", "LOGIN", "RPPS", "USER", "USERNAME"),
        "start": ("DEBUT", "DATE_DEBUT", "HEURE_DEBUT", "START_TIME", "BEGIN"),
        "end": ("FIN", "DATE_FIN", "HEURE_FIN", "END_TIME"),
        # what the session is for: patient care or other (time sinks' denominator)
        "session_type": ("TYPE_SEANCE", "TYPE_SESSION", "TYPE_PLAGE", "TYPE_VACATION", "NATURE_PLAGE",
                         "TYPE_ACTIVITE", "ACTIVITE", "NATURE", "SESSION_TYPE", "TYPE"),
    }
)

TABLES: dict[str, TableSpec] = {
    "patients": TableSpec(
        "patients",
        ("patient_id", "birth_name", "used_name", "first_names", "used_first_name", "birth_date", "sex",
         "birth_place_code", "ins", "identity_status", "address", "postcode", "city", "phone", "email",
         "created_at", "updated_at", "active", "identity_attributes"),
        ("patient_id",),
        ("patient_id",),
        _PATIENTS,
    ),
    "documents": TableSpec(
        "documents",
        ("document_id", "patient_id", "document_type", "title", "author_id", "service", "created_at",
         "signed_at", "signed_by", "status", "content_hash", "text", "stay_id"),
        ("document_id",),
        ("document_id",),
        _DOCUMENTS,
    ),
    "audit_events": TableSpec(
        "audit_events",
        ("event_id", "user_id", "timestamp", "action", "activity", "patient_id", "document_id",
         "document_type", "service", "workstation"),
        ("event_id", "user_id", "timestamp"),
        ("event_id",),
        _AUDIT,
    ),
    "staff": TableSpec(
        "staff",
        ("user_id", "display_name", "role", "service", "active", "is_service_head"),
        ("user_id",),
        ("user_id",),
        _STAFF,
    ),
    "schedules": TableSpec(
        "schedules",
        ("user_id", "start", "end", "session_type"),
        ("user_id", "start", "end"),
        ("user_id", "start"),
        _SCHEDULES,
    ),
}


def resolve_headers(
    table: str, headers: list[str], mapping: dict[str, str] | None, file_label: str
) -> tuple[dict[int, str], list[str]]:
    """Map file header positions to canonical columns.

    Returns ``({position: canonical}, notices)``. Unknown columns are ignored with a notice;
    two file columns claiming the same canonical column, or a mapping to a column the table
    does not have, are structural faults (:class:`InvalidInput`).
    """
    spec = TABLES[table]
    explicit = {normalise_header(src): dest for src, dest in (mapping or {}).items()}
    for src, dest in (mapping or {}).items():
        if dest not in spec.columns:
            raise InvalidInput(
                f"--map {src}={dest}: '{dest}' is not a column of {table} "
                f"(known: {', '.join(spec.columns)})"
            )
    matched: dict[int, str] = {}
    claimed: dict[str, str] = {}
    notices: list[str] = []
    unknown: list[str] = []
    for position, header in enumerate(headers):
        key = normalise_header(header)
        target = explicit.get(key) or spec.synonyms.get(key)
        if target is None:
            unknown.append(header or f"(unnamed column {position + 1})")
            continue
        if target in claimed:
            raise InvalidInput("import.at_line", file=file_label, line=1, message=english(
                "import.both_map", first=claimed[target], second=header, target=f"{table}.{target}"))
        claimed[target] = header
        matched[position] = target
    for src in mapping or {}:
        if normalise_header(src) not in {normalise_header(h) for h in headers}:
            notices.append(english("notice.map_missing", source=src, column=src))
    if unknown:
        # Name at most _SHOWN_UNKNOWN of them: a 10^5-column header must not become a 1 MB notice.
        shown = ", ".join(unknown[:_SHOWN_UNKNOWN])
        if len(unknown) > _SHOWN_UNKNOWN:
            notices.append(english("notice.unknown_columns_more", n=len(unknown), columns=shown,
                                   more=len(unknown) - _SHOWN_UNKNOWN))
        else:
            notices.append(english("notice.unknown_columns", n=len(unknown), columns=shown))
    return matched, notices
