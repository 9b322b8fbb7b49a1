import pytest

from analytics.access.passwords import (
    check_password,
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)
from analytics.errors import InvalidInput

SHORT = "the password must have at least 12 characters"
CLASSES = (
    "the password must mix at least 3 of: lower case, upper case, digits, other characters "
    "(or be a passphrase of at least 16 characters)"
)
USERNAME = "the password must not contain the username"
COMMON = "the password is too common"

CASES = [
    # (description, password, username, expected problems)
    ("three classes, 12 chars", "Blue-Horse42", "claire", []),
    ("four classes", "Tr0mb0ne!Vert", "claire", []),
    ("passphrase of 16+ lower-case letters and spaces", "cheval batterie agrafe", "claire", []),
    ("11 characters", "Blue-Horse4", "claire", [SHORT]),
    ("12 lower-case letters: 1 class", "chevalbleuet", "claire", [CLASSES]),
    ("two classes under 16", "chevalbleu42", "claire", [CLASSES]),
    ("contains the username", "Claire-2026-ok", "claire", [USERNAME]),
    ("is the username", "jean.dupont.chu", "jean.dupont.chu", [USERNAME, CLASSES]),
    ("common password, case ignored", "MotDePasse2026", "claire", [COMMON]),
    ("common and weak", "azertyuiop12", "claire", [COMMON, CLASSES]),
    ("empty", "", "claire", [SHORT, CLASSES]),
    ("too long", "Aa1!" * 65, "claire", ["the password must have at most 256 characters"]),
]


@pytest.mark.parametrize(("description", "password", "username", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_policy(description, password, username, expected):
    assert password_problems(password, username) == expected


def test_check_password_lists_every_problem():
    with pytest.raises(InvalidInput) as err:
        check_password("claire", "claire")
    assert str(err.value) == f"password refused: {SHORT}; {USERNAME}; {CLASSES}"


def test_hash_is_salted_argon2id_and_verifies():
    first, second = hash_password("Blue-Horse42"), hash_password("Blue-Horse42")
    assert first.startswith("$argon2id$") and first != second
    assert verify_password(first, "Blue-Horse42")
    assert not verify_password(first, "Blue-Horse43")
    assert not verify_password("not a hash", "Blue-Horse42")
    assert not needs_rehash(first)
