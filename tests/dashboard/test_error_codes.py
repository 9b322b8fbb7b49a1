"""Errors and notes by code (analytics/messages.py, analytics/errors.py, dashboard/i18n.py).

The engine raises ``HygieError(code, **params)``: ``str()`` is the English sentence of the CLI,
the page shows ``t("error.<code>")``. These tests walk the source of ``analytics/`` for every
code it uses and require a registered English template and a French text with parameters
it knows; every template reads back to its own code; and real refusals show in French.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import string
from pathlib import Path

import pytest

from analytics import messages
from analytics.access.roles import Actor, Permission, require
from analytics.errors import AccessDenied, HygieError, InvalidInput
from analytics.jobs import registry
from analytics.timesinks.settings import TimeSinkSettings
from dashboard.i18n import FR, error_text, message_text, result_error_text

ANALYTICS = Path(__file__).resolve().parents[2] / "analytics"
CODE = re.compile(r"^[a-z_]+\.[a-z_]+$")


def _codes_used() -> dict[str, list[str]]:
    """Every string literal that is a code, first argument of a call (``InvalidInput("x.y", ...)``,
    ``english("x.y")``), with where it is written."""
    used: dict[str, list[str]] = {}
    for path in sorted(ANALYTICS.rglob("*.py")):
        if path.name == "messages.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str) and CODE.match(node.args[0].value)):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if name == "english" or name.endswith(("Error", "Input", "Denied", "Refused", "Preview")):
                    used.setdefault(node.args[0].value, []).append(f"{path.name}:{node.lineno}")
    return used


def test_the_engine_uses_codes_at_its_raise_sites():
    used = _codes_used()
    assert len(used) >= 100  # the job, import, privacy, search and settings refusals and notes
    assert {c: where for c, where in used.items() if c not in messages.ENGLISH} == {}


@pytest.mark.parametrize("code", sorted(messages.ENGLISH))
def test_every_code_has_a_french_text_with_the_same_parameters(code):
    french = FR.get(f"error.{code}")
    assert french is not None, f"no French text error.{code}"
    assert messages.placeholders(french) <= messages.placeholders(messages.ENGLISH[code])


@pytest.mark.parametrize("code", sorted(messages.ENGLISH))
def test_every_english_sentence_reads_back_to_its_code(code):
    """A stored sentence (job run message, preview note, import finding) finds its code again."""
    params = {name: f"V{i}x" for i, name in enumerate(sorted(messages.placeholders(messages.ENGLISH[code])))}
    shapes = {"n": "12", "m": "3", "k": "5", "done": "2", "more": "4", "line": "7", "error_class": "JobError",
              "key": '{"patient_id":"P1"}', "a": "P1", "table": "patients", "file": "p.csv"}
    params.update({k: v for k, v in shapes.items() if k in params})
    params.update({k: messages.english("note.no_match_run") for k in params if k in messages.NESTED})
    assert messages.decode(messages.english(code, **params)) == (code, params)


def test_working_hours_refusal_shows_in_french():
    """The issue's example: this sentence came back untranslated from the regular expressions."""
    with pytest.raises(InvalidInput) as err:
        TimeSinkSettings(workday_start=dt.time(18, 0), workday_end=dt.time(8, 0))
    assert str(err.value) == "working hours: start 18:00 is not before end 08:00"
    assert (err.value.code, err.value.params) == ("hours.start_after_end", {"start": "18:00", "end": "08:00"})
    french = "Heures de travail : le début (18:00) doit précéder la fin (08:00)."
    assert error_text(err.value) == french
    assert message_text(str(err.value)) == french  # the same from the stored English text


def test_a_refusal_inside_a_refusal_is_translated_in_turn():
    with pytest.raises(AccessDenied) as err:
        require(Actor("anna", "analyst"), Permission.JOB_APPLY)
    assert err.value.code == "access.denied"
    assert error_text(err.value) == ("Action refusée à anna (rôle analyst) : appliquer ou annuler des travaux de "
                                     "nettoyage.")


def test_a_bad_job_parameter_carries_its_code_through_the_queue_answer():
    with pytest.raises(InvalidInput) as err:
        registry.parse_params(registry.get_job("merge-identities"), {"kinds": "exact"})
    answer = {"ok": False, "error": str(err.value), "error_code": err.value.code, "error_params": err.value.params}
    assert str(err.value).startswith("job merge-identities: unknown parameter kinds (known: ")
    assert result_error_text(answer).startswith("merge-identities : paramètre inconnu kinds (paramètres connus : ")


def test_an_uncoded_sentence_is_shown_as_written():
    assert error_text(HygieError("something new happened")) == "something new happened"
    assert HygieError("something new happened").code is None
    with pytest.raises(TypeError):
        HygieError("not a code", user="x")


def test_every_permission_has_a_french_text():
    texts = [message_text(p.value) for p in Permission]
    assert [p for p, text in zip(Permission, texts, strict=True) if text == p.value] == []


def test_french_texts_format_with_the_english_parameters():
    formatter = string.Formatter()
    for code in messages.ENGLISH:
        names = messages.placeholders(messages.ENGLISH[code])
        formatter.format(FR[f"error.{code}"], **dict.fromkeys(names, "x"))


def test_an_account_refusal_lists_every_broken_rule_in_french():
    from analytics.access.passwords import check_password

    with pytest.raises(InvalidInput) as err:
        check_password("anna", "anna")
    assert str(err.value).startswith("password refused: the password must have at least 12 characters; ")
    assert error_text(err.value) == (
        "Mot de passe refusé : au moins 12 caractères; il ne doit pas contenir l'identifiant; mêlez au moins 3 "
        "types de caractères : minuscules, majuscules, chiffres, autres (ou une phrase de passe d'au moins 16 "
        "caractères).")
