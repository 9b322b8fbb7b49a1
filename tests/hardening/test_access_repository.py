"""No password, secret or warehouse in the repository, and git ignores where they are written.

The pseudonymisation secret lives beside the warehouse (``<warehouse>.secret``) or at
``HYGIE_SECRET_FILE``; OIDC client secrets in ``.streamlit/secrets.toml``. None may be committed.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Paths (as written at run time) that git must ignore.
IGNORED = [
    ("the secret beside the default warehouse", "data/hygie.duckdb.secret"),
    ("a secret beside any warehouse", "elsewhere/site.duckdb.secret"),
    ("a warehouse", "some/where/hygie.duckdb"),
    ("its write-ahead log", "some/where/hygie.duckdb.wal"),
    ("Streamlit's OIDC secrets", ".streamlit/secrets.toml"),
]
# Text that would be a secret or a stored password (argon2 hashes, private keys, OIDC secrets).
LEAKS = [
    ("an argon2 hash", re.compile(r"\$argon2id?\$v=\d+\$m=\d+")),
    ("a private key", re.compile(r"-----BEGIN (RSA |EC |OPENSSH )?PRIVATE KEY-----")),
    ("an OIDC client secret value", re.compile(r"client_secret\s*=\s*\"[A-Za-z0-9_\-]{16,}\"")),
]


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def tracked() -> list[str]:
    done = _git("ls-files")
    if done.returncode != 0:
        pytest.skip("not a git checkout")
    return done.stdout.splitlines()


@pytest.mark.parametrize(("description", "path"), IGNORED, ids=[i[0] for i in IGNORED])
def test_git_ignores_where_secrets_and_data_are_written(tracked, description, path):
    assert _git("check-ignore", "-q", "--no-index", path).returncode == 0, f"{path} is not ignored"


def test_no_secret_nor_warehouse_is_tracked(tracked):
    bad = [p for p in tracked if p.endswith((".secret", ".duckdb", ".duckdb.wal", "secrets.toml"))]
    assert bad == []


@pytest.mark.parametrize(("description", "pattern"), LEAKS, ids=[leak[0] for leak in LEAKS])
def test_no_tracked_file_holds_a_secret(tracked, description, pattern):
    hits = []
    for rel in tracked:
        path = REPO / rel
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if rel == "tests/hardening/test_access_repository.py":
            continue  # the patterns themselves
        hits += [f"{rel}: {m.group(0)[:40]}" for m in pattern.finditer(text)]
    assert hits == []
