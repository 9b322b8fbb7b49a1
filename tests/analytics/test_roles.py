import pytest

from analytics.access import Actor, Permission, allowed, require
from analytics.errors import AccessDenied

CASES = [
    # (role, permission, expected)
    ("admin", Permission.EXPORT_IDENTIFIED, True),
    ("manager", Permission.JOB_APPLY, True),
    ("manager", Permission.EXPORT_IDENTIFIED, False),
    ("analyst", Permission.VIEW_PATIENT_DATA, True),
    ("analyst", Permission.JOB_APPLY, False),
    ("viewer", Permission.VIEW_AGGREGATES, True),
    ("viewer", Permission.VIEW_PATIENT_DATA, False),
    # identities (names, birth date and place, INS, contacts): those who review and merge
    ("admin", Permission.VIEW_IDENTITIES, True),
    ("manager", Permission.VIEW_IDENTITIES, True),
    ("identitovigilance", Permission.VIEW_IDENTITIES, True),
    ("identitovigilance", Permission.REVIEW_PAIRS, True),
    ("identitovigilance", Permission.JOB_APPLY, True),
    ("identitovigilance", Permission.IMPORT_DATA, False),
    ("identitovigilance", Permission.EXPORT_IDENTIFIED, False),
    ("analyst", Permission.VIEW_IDENTITIES, False),
    ("viewer", Permission.VIEW_IDENTITIES, False),
]


@pytest.mark.parametrize(("role", "permission", "expected"), CASES)
def test_grants(role, permission, expected):
    assert allowed(Actor("u", role), permission) is expected


def test_require_names_user_role_and_action():
    with pytest.raises(AccessDenied) as err:
        require(Actor("claire", "viewer"), Permission.VIEW_PATIENT_DATA)
    assert str(err.value) == "claire (role viewer) may not view patient-level data"


def test_unknown_role_refused():
    with pytest.raises(AccessDenied, match="unknown role 'root'"):
        Actor("x", "root")
