"""The engine speaks English; the jobs and data pages show French (dashboard/i18n.py).

Table-driven cases of real engine messages, and drift guards: every job's title, doc,
parameter label and help, every choice value, and every import problem text the importer
can write has a French text.
"""

from __future__ import annotations

import re

import pytest

from analytics import jobs
from analytics.importing import validate
from dashboard.i18n import job_label, t
from dashboard.i18n import message_text as engine_text

CASES = [
    ("a preview note with its list", "phone numbers left unchanged (not understood): 12, 34",
     "Téléphones laissés tels quels (non reconnus) : 12, 34"),
    ("a failure wraps a refusal, both translated",
     'job merge-identities failed and was rolled back (run r1): patients {"patient_id":"P1"} no longer holds '
     "the values it had",
     "Le travail merge-identities a échoué ; tout a été annulé, rien n'est modifié (exécution r1) : "
     'patients {"patient_id":"P1"} n\'a plus les valeurs de l\'aperçu'),
    ("a failed run's message drops the exception class", "StalePreview: unknown preview p1", "Aperçu inconnu : p1."),
    ("a role refusal names the right", "anna (role analyst) may not apply or undo cleanup jobs",
     "Action refusée à anna (rôle analyst) : appliquer ou annuler des travaux de nettoyage."),
    ("an undo outcome", "undo of run r9; removed 2 file(s)", "Annulation de l'exécution r9 ; 2 fichier(s) retiré(s)"),
    ("an interrupted run", "interrupted: the process stopped before the run finished; nothing was applied",
     "Interrompu : le processus s'est arrêté avant la fin ; rien n'a été appliqué."),
    ("a bad parameter", "job pseudonymised-extract: k=1 must be at least 2", "k=1 : k doit valoir au moins 2."),
    ("an import finding with its suffix", "not a valid date (expected dd/mm/yyyy or yyyy-mm-dd); row not loaded",
     "Date invalide (attendu jj/mm/aaaa ou aaaa-mm-jj) ; ligne non chargée"),
    ("an INS key finding", "malformed INS: key 12 does not match the expected 46",
     "INS mal formé : la clé 12 ne correspond pas à la clé attendue 46"),
    ("a notice naming many columns", "ignored 30 unknown column(s): A, B and 10 more",
     "30 colonne(s) inconnue(s) ignorée(s) : A, B et 10 autre(s)"),
    ("a refusal naming file and line", "p.csv: line 7: 3 fields where the header has 4 (ragged row)",
     "p.csv, ligne 7 : 3 champs alors que l'en-tête en a 4 (ligne irrégulière)"),
    ("an unknown message is shown as is", "something new happened", "something new happened"),
    ("an empty message stays empty", "", ""),
]


@pytest.mark.parametrize(("message", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_engine_text(message, expected):
    assert engine_text(message) == expected


def _french(key: str) -> bool:
    return t(key) != key


@pytest.mark.parametrize("spec", jobs.list_jobs(), ids=lambda s: s.name)
def test_every_job_text_shown_on_the_page_has_a_french_version(spec):
    missing = [f"{kind}.{name}" for kind, name in (("text", "title"), ("text", "doc"))
               if not _french(f"job.{spec.name}.{kind}.{name}")]
    for param in spec.params():
        missing += [f"{kind}.{param.name}" for kind in ("param", "help")
                    if not _french(f"job.{spec.name}.{kind}.{param.name}")]
        if "|" in param.type_name and " | None" not in param.type_name:
            missing += [f"choice.{param.name}={v}" for v in param.type_name.split("|")
                        if not _french(f"job.{spec.name}.choice.{param.name}={v}")]
    assert missing == []
    assert job_label(spec.name, "text", "title") != spec.name


def _problem_texts() -> list[str]:
    """Every fixed text problem_sql can write, and the INS ones filled with sample numbers."""
    texts = []
    for kind in ("date", "birth_date", "timestamp", "sex", "identity_status", "activity", "doc_status", "bool",
                 "birth_place", "postcode", "email"):
        texts += [lit for lit in re.findall(r"'([^']+)'", validate.problem_sql(kind, "r"))
                  if " " in lit and "%" not in lit]  # the messages, not the date formats
    return texts + [
        "malformed INS: 14 characters, expected 15 (13-character NIR + 2-digit key)",
        "malformed INS: not a NIR/NIA (sex digit, year, month, departement, commune, order, key)",
        "looks like mojibake (UTF-8 text read as Windows-1252); value kept as is",
        "end before start; row not loaded",
    ]


def test_every_import_problem_text_has_a_french_version():
    texts = _problem_texts()
    assert len(texts) >= 15
    assert [p for p in texts if engine_text(p) == p] == []
