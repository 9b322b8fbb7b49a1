"""The FHIR mapping of $match: Parameters in, traits out; grades; the Bundle validates as FHIR."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.api.fhir import (
    MatchRequestError,
    bundle,
    capability_statement,
    match_grade,
    operation_outcome,
    parse_match_parameters,
)

BIRTH_PLACE = {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace", "valueAddress": {
    "extension": [{"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code",
                   "valueCoding": {"code": "35238"}}]}}
FR_CORE_PATIENT = {
    "resourceType": "Patient",
    "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "285073523812345"},
                   {"type": {"coding": [{"code": "PI"}]}, "value": "IPP1"}],
    "name": [{"use": "usual", "family": "MARTIN", "given": ["Léa"]},
             {"use": "official", "family": "DUPONT", "given": ["Marie"], "extension": [
                 {"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name",
                  "valueString": "MARIE LÉA CLAIRE"}]}],
    "gender": "female", "birthDate": "1985-07-14", "extension": [BIRTH_PLACE],
    "telecom": [{"system": "email", "value": "m@example.fr"}, {"system": "phone", "value": "06 12 34 56 78"}],
    "address": [{"line": ["1 rue X"], "postalCode": "35000"}],
}


def _params(patient: object, *extra: dict) -> dict:
    return {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": patient}, *extra]}


def test_fr_core_traits_are_read_as_the_importer_reads_them():
    traits, only_certain, count = parse_match_parameters(
        _params(FR_CORE_PATIENT, {"name": "onlyCertainMatches", "valueBoolean": True},
                {"name": "count", "valueInteger": 3}))
    assert traits == {"birth_name": "DUPONT", "used_name": "MARTIN", "first_names": "MARIE LÉA CLAIRE",
                      "birth_date": "1985-07-14", "sex": "F", "birth_place": "35238", "ins": "285073523812345",
                      "phone": "06 12 34 56 78", "email": "m@example.fr", "postcode": "35000"}
    assert (only_certain, count) == (True, 3)


@pytest.mark.parametrize(
    ("description", "patient"),
    [
        ("an INS alone", {"identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "285073523812345"}]}),
        ("a birth date and a name's first letters", {"birthDate": "1985-07-14", "name": [{"family": "DUP"}]}),
        ("a birth date and a first name", {"birthDate": "1985-07-14", "name": [{"given": ["Marie"]}]}),
    ],
)
def test_what_the_desk_has_is_enough(description, patient):
    assert parse_match_parameters(_params({"resourceType": "Patient", **patient})), description


def test_a_name_without_use_is_the_official_one_and_given_names_are_joined():
    patient = {"resourceType": "Patient", "name": [{"family": "N'DIAYE", "given": ["Jean-Pierre", "Paul"]}]}
    traits, only_certain, count = parse_match_parameters(_params(patient))
    assert (traits["birth_name"], traits["first_names"], traits["sex"]) == ("N'DIAYE", "Jean-Pierre Paul", None)
    assert (only_certain, count) == (False, 10)


INSUFFICIENT = ("Traits insuffisants : donnez un INS, ou un nom et des prénoms, ou une date de naissance avec un "
                "nom ou un prénom (ses premières lettres suffisent).")
NAMED = {"resourceType": "Patient", "name": [{"use": "official", "family": "DUPONT", "given": ["Marie"]}]}


@pytest.mark.parametrize(
    ("description", "body", "french"),
    [
        ("not Parameters", {"resourceType": "Patient"},
         "Le corps de la requête n'est pas une ressource FHIR Parameters."),
        ("a list", [], "Le corps de la requête n'est pas une ressource FHIR Parameters."),
        ("no resource parameter", {"resourceType": "Parameters", "parameter": [{"name": "count", "valueInteger": 1}]},
         "Le paramètre « resource » contenant un Patient est absent."),
        ("resource is not a Patient", _params({"resourceType": "Practitioner"}),
         "Le paramètre « resource » contenant un Patient est absent."),
        ("no trait at all", _params({"resourceType": "Patient", "name": [{"use": "official"}]}),
         "Le Patient ne porte aucun trait d'identité exploitable (nom, prénoms, date de naissance, sexe, "
         "lieu de naissance, INS)."),
        ("only a birth date", _params({"resourceType": "Patient", "birthDate": "1985-07-14"}), INSUFFICIENT),
        ("a name alone", _params({"resourceType": "Patient", "name": [{"use": "official", "family": "DUPONT"}]}),
         INSUFFICIENT),
        ("a sex and a birth place", _params({"resourceType": "Patient", "gender": "male",
                                             "extension": [BIRTH_PLACE]}), INSUFFICIENT),
        ("bad birth date", _params({**NAMED, "birthDate": "14/07/1985"}),
         "Patient.birthDate : « 14/07/1985 » n'est pas une date (AAAA-MM-JJ attendu)."),
        ("count too large", _params(NAMED, {"name": "count", "valueInteger": 1000}),
         "count : un entier (valueInteger) entre 1 et 100 est attendu."),
        ("count as text", _params(NAMED, {"name": "count", "valueString": "3"}), None),
        ("onlyCertainMatches as text", _params(NAMED, {"name": "onlyCertainMatches", "valueBoolean": "yes"}),
         "onlyCertainMatches : une valeur booléenne (valueBoolean) est attendue."),
    ],
)
def test_unusable_bodies_are_refused_in_french(description, body, french):
    """Enough to search is what the engine asks (search_identities): an INS; a name and first
    names; or a birth date with a name or first names."""
    if french is None:  # a count given under another value type is ignored: the default applies
        assert parse_match_parameters(body)[2] == 10, description
        return
    with pytest.raises(MatchRequestError) as exc:
        parse_match_parameters(body)
    assert exc.value.french == french, description


EXACT = dict.fromkeys(("birth_name", "first_name", "birth_date", "sex", "birth_place"), "exact")


@pytest.mark.parametrize(
    ("description", "decision", "levels", "grade"),
    [
        ("strict traits all exact", "match", EXACT, "certain"),
        ("INS + birth name + birth date", "match",
         {"ins": "exact", "birth_name": "exact", "birth_date": "exact", "first_name": "close"}, "certain"),
        ("a typo in the first name", "match", {**EXACT, "first_name": "close"}, "probable"),
        ("birth place unknown", "match", {**EXACT, "birth_place": "missing"}, "probable"),
        ("sent to review", "review", EXACT, "possible"),
        ("twins kept apart", "non-match", EXACT, None),
    ],
)
def test_match_grades(description, decision, levels, grade):
    assert match_grade(decision, levels) == grade, description


def test_the_bundle_capability_statement_and_outcome_are_valid_fhir():
    # fhir.resources 6.1: the FHIR R4 (4.0.1) models
    from fhir.resources.bundle import Bundle
    from fhir.resources.capabilitystatement import CapabilityStatement
    from fhir.resources.operationoutcome import OperationOutcome

    rows = [{"patient_id": "IPP 1/é", "score": 0.99, "grade": "certain", "birth_name": "DUPONT",
             "used_name": float("nan"), "first_names": "MARIE LÉA", "birth_date": dt.date(1985, 7, 14),
             "sex": "F", "birth_place_code": "35238"},
            {"patient_id": "2", "score": 0.4, "grade": "possible", "birth_name": "DUPOND", "used_name": "MARTIN",
             "first_names": None, "birth_date": None, "sex": None, "birth_place_code": None}]
    out = bundle(rows, "http://127.0.0.1:8502/fhir")
    parsed = Bundle.parse_obj(out)
    assert parsed.type == "searchset" and parsed.total == 2
    first = out["entry"][0]
    assert first["resource"]["id"] == "IPP-1--"
    assert first["resource"]["identifier"][0]["value"] == "IPP 1/é"
    assert first["resource"]["name"] == [{"use": "official", "family": "DUPONT", "given": ["MARIE", "LÉA"]}]
    assert first["search"] == {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/match-grade",
                                              "valueCode": "certain"}], "mode": "match", "score": 0.99}
    assert out["entry"][1]["resource"]["name"][1] == {"use": "usual", "family": "MARTIN"}
    CapabilityStatement.parse_obj(capability_statement("http://x/fhir", "0.1.0"))
    OperationOutcome.parse_obj(operation_outcome("Jeton d'API inconnu ou invalide.", code="login"))
