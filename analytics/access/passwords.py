"""Password policy and hashing (argon2id through ``argon2-cffi``).

Policy (checked by :func:`password_problems`, enforced by :func:`check_password`):

* at least 12 characters (and at most 256, so that hashing cannot be used to exhaust the server);
* not the username, and not containing it (case-insensitive, usernames of 3 characters or more);
* not one of a small list of common passwords (:data:`COMMON_PASSWORDS`, compared case-insensitively);
* at least 3 of the 4 character classes (lower case, upper case, digit, other) — or a passphrase
  of 16 characters or more, whatever its classes ("quatre mots au hasard" is a good password);
* and, whatever its length, a zxcvbn strength score of at least 3 of 4 (``aaaaaaaaaaaaaaaa``,
  ``abcdabcdabcdabcd`` or a name and a date are refused).

The demo accounts deliberately bypass the policy (see ``auth.create_demo_accounts``).

Hashing uses argon2-cffi's default argon2id parameters (RFC 9106 low-memory profile: t=3,
m=64 MiB, p=4, about 0.1 s here). Tests lower them through the documented seam
:func:`use_hasher`::

    with use_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)):
        ...

A hash made with other parameters still verifies; it is upgraded at the next successful login
(:func:`needs_rehash`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from analytics.errors import InvalidInput
from analytics.messages import english

__all__ = [
    "COMMON_PASSWORDS",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "PASSPHRASE_LENGTH",
    "check_password",
    "hash_password",
    "needs_rehash",
    "password_problems",
    "use_hasher",
    "verify_password",
]

MIN_LENGTH = 12
PASSPHRASE_LENGTH = 16
MAX_LENGTH = 256

#: Passwords people pick when told "12 characters": refused whatever their classes.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "azertyuiop12",
        "azertyuiop123",
        "azertyuiop1234",
        "azerty123456",
        "qwertyuiop12",
        "qwertyuiop123",
        "qwerty123456",
        "password1234",
        "password123!",
        "password2024",
        "password2025",
        "password2026",
        "passw0rd1234",
        "motdepasse12",
        "motdepasse123",
        "motdepasse2024",
        "motdepasse2025",
        "motdepasse2026",
        "motdepasse!!",
        "bonjour12345",
        "bonjour123456",
        "soleil123456",
        "changeme1234",
        "changezmoi123",
        "welcome12345",
        "bienvenue123",
        "bienvenue1234",
        "administrateur",
        "administrator",
        "admin1234567",
        "admin123456!",
        "hopital12345",
        "hopital2024!",
        "hopital2025!",
        "hopital2026!",
        "hygiedemo123",
        "hygie-demo123",
        "iloveyou1234",
        "jetaime12345",
        "abcdefghijkl",
        "aaaaaaaaaaaa",
    }
)

_DEFAULT_HASHER = PasswordHasher()
_hasher: PasswordHasher = _DEFAULT_HASHER


def _classes(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def password_problems(password: str, username: str | None = None) -> list[str]:
    """Every rule ``password`` breaks, as English sentences (empty list: acceptable)."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(english("password.too_short", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        problems.append(english("password.too_long", n=MAX_LENGTH))
    folded = password.casefold()
    if username and len(username) >= 3 and username.casefold() in folded:
        problems.append(english("password.has_username"))
    if folded in COMMON_PASSWORDS:
        problems.append(english("password.common"))
    if len(password) < PASSPHRASE_LENGTH and _classes(password) < 3:
        problems.append(english("password.classes", n=PASSPHRASE_LENGTH))
    if not problems and _strength(password, username) < MIN_STRENGTH:
        problems.append(english("password.guessable"))
    return problems


#: zxcvbn's score (0 to 4) a password must reach: 3 is "safely unguessable" (about 10^10 guesses).
MIN_STRENGTH = 3
_STRENGTH_INPUT = 100  # zxcvbn slows down on long inputs; the first 100 characters decide


def _strength(password: str, username: str | None) -> int:
    from zxcvbn import zxcvbn

    hints = [h for h in (username, "hygie", "hopital", "hospital", "motdepasse") if h]
    return int(zxcvbn(password[:_STRENGTH_INPUT], user_inputs=hints)["score"])


def check_password(password: str, username: str | None = None) -> None:
    """Raise :class:`InvalidInput` listing every broken rule, or return silently."""
    problems = password_problems(password, username)
    if problems:
        raise InvalidInput("password.refused", problems="; ".join(problems))


def hash_password(password: str) -> str:
    """The argon2id PHC string for ``password`` (salted; never store the password itself)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; False for a malformed hash too."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than the current hasher's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@contextmanager
def use_hasher(hasher: PasswordHasher) -> Iterator[PasswordHasher]:
    """Hash and verify with ``hasher`` inside the block (tests use cheap parameters)."""
    global _hasher
    previous = _hasher
    _hasher = hasher
    try:
        yield hasher
    finally:
        _hasher = previous
