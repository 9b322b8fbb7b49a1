"""Roles and the permissions they grant. Every check is made here, in the engine.

A page may hide a button, but the engine function behind it calls :func:`require` itself,
so calling ``analytics`` directly as a lower role is refused too.

================= ============================================================
role              may
================= ============================================================
admin             everything, including identified exports, accounts, settings and
                  per-clinician time figures
manager           read patient data and identities, review pairs, preview/apply/undo
                  jobs, import
identitovigilance read patient data and identities, review pairs, preview/apply/undo
                  jobs (merge, unmerge, normalise): the identity-vigilance cell
analyst           read patient data *without identities* (pseudonymised exports,
                  comparison levels instead of names, phones, addresses, INS), preview jobs
viewer            aggregates only: no patient-level rows
================= ============================================================

VIEW_IDENTITIES is what separates "patient-level data" (ids, levels, dates of records) from
an identity (names, birth date, birth place, INS, phone, e-mail, address): the duplicates page
masks them for a role without it (:func:`analytics.identity.masking.mask_identities`).
docs/PRIVACY.md has the page-by-page matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from analytics.errors import AccessDenied

ROLES = ("admin", "manager", "analyst", "viewer", "identitovigilance")


class Permission(str, Enum):  # noqa: UP042 - str() behaviour kept as shipped
    VIEW_AGGREGATES = "view aggregates"
    VIEW_PATIENT_DATA = "view patient-level data"
    VIEW_IDENTITIES = "see patients' identities (names, birth date and place, INS, contact details)"
    EXPORT_PSEUDONYMISED = "export pseudonymised data"
    EXPORT_IDENTIFIED = "export identified (non-pseudonymised) data"
    REVIEW_PAIRS = "review duplicate pairs"
    JOB_PREVIEW = "preview cleanup jobs"
    JOB_APPLY = "apply or undo cleanup jobs"
    IMPORT_DATA = "import data"
    MANAGE_USERS = "manage accounts"
    VIEW_ACCESS_LOG = "read the access log"
    CHANGE_SETTINGS = "change settings"
    # Per-clinician time figures (time sinks): individual data about staff, for the stated
    # purpose only; granted explicitly (admin), asked with a reason, logged.
    VIEW_CLINICIAN_TIMES = "view per-clinician time figures"


_GRANTS: dict[str, frozenset[Permission]] = {
    "admin": frozenset(Permission),
    "manager": frozenset(
        {
            Permission.VIEW_AGGREGATES,
            Permission.VIEW_PATIENT_DATA,
            Permission.VIEW_IDENTITIES,
            Permission.EXPORT_PSEUDONYMISED,
            Permission.REVIEW_PAIRS,
            Permission.JOB_PREVIEW,
            Permission.JOB_APPLY,
            Permission.IMPORT_DATA,
        }
    ),
    "identitovigilance": frozenset(
        {
            Permission.VIEW_AGGREGATES,
            Permission.VIEW_PATIENT_DATA,
            Permission.VIEW_IDENTITIES,
            Permission.EXPORT_PSEUDONYMISED,
            Permission.REVIEW_PAIRS,
            Permission.JOB_PREVIEW,
            Permission.JOB_APPLY,
        }
    ),
    "analyst": frozenset(
        {
            Permission.VIEW_AGGREGATES,
            Permission.VIEW_PATIENT_DATA,
            Permission.EXPORT_PSEUDONYMISED,
            Permission.JOB_PREVIEW,
        }
    ),
    "viewer": frozenset({Permission.VIEW_AGGREGATES}),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a dashboard user, a CLI user (``--as``) or the scheduler.

    ``via`` says through which channel (``dashboard``, ``cli``, ``oidc``, ``scheduler``); it is
    written to the access log and takes no part in comparisons.
    """

    username: str
    role: str
    via: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.role not in _GRANTS:
            raise AccessDenied(f"unknown role '{self.role}' for {self.username}")


#: The actor for CLI and cron runs without ``--as``: whoever can open the warehouse file
#: already holds the data, so the CLI acts as an administrator named after the OS user.
def system_actor() -> Actor:
    import getpass

    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry (containers)
        user = "unknown"
    return Actor(f"cli:{user}", "admin", via="cli")


def allowed(actor: Actor, permission: Permission) -> bool:
    """Whether ``actor``'s role grants ``permission``."""
    return permission in _GRANTS[actor.role]


def require(actor: Actor, permission: Permission) -> None:
    """Raise :class:`AccessDenied` unless ``actor``'s role grants ``permission``."""
    if not allowed(actor, permission):
        raise AccessDenied("access.denied", user=actor.username, role=actor.role, action=permission.value)
