"""UI strings: job parameter and count labels in French, the engine's name when untranslated."""

from __future__ import annotations

import pytest

from dashboard.i18n import job_label

CASES = [
    ("a parameter with a French label", ("normalise-identities", "param", "strip_accents"), "Supprimer les accents"),
    ("a count with a French label", ("normalise-identities", "count", "identities changed"), "Identités modifiées"),
    ("the same name is keyed by job", ("merge-identities", "param", "match_run_id"), "Exécution de détection"),
    ("an untranslated parameter keeps the engine name", ("normalise-identities", "param", "new_option"), "new option"),
    ("an unknown job keeps the engine name", ("no-such-job", "count", "rows moved"), "rows moved"),
]


@pytest.mark.parametrize(("args", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_job_label(args, expected):
    assert job_label(*args) == expected

