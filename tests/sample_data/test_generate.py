"""The sample hospital generator: determinism, ground truth, injected errors, shipped sample."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from sample_data import SMALL_DIR
from sample_data.generate import generate, library_versions
from sample_data.mutations import MUTATIONS, format_phone
from sample_data.nir import is_valid_nir, make_nir, nir_key
from sample_data.writer import to_cp1252

FILES = ("staff.csv", "schedules.csv", "patients.csv", "documents.csv", "audit_events.csv",
         "truth_patients.csv", "truth_pairs.csv", "truth_documents.csv")
FRENCH_FILES = FILES[:5]


def _read(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _digest(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in FILES}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    generate(out, "tiny", seed=7)
    return out


def test_same_seed_gives_identical_bytes(tiny: Path, tmp_path: Path) -> None:
    generate(tmp_path / "again", "tiny", seed=7)
    assert _digest(tmp_path / "again") == _digest(tiny)


def test_another_seed_gives_other_patients(tiny: Path, tmp_path: Path) -> None:
    generate(tmp_path / "other", "tiny", seed=8)
    assert (tmp_path / "other" / "patients.csv").read_bytes() != (tiny / "patients.csv").read_bytes()


def test_shipped_small_sample_equals_a_fresh_generation(tmp_path: Path) -> None:
    shipped = json.loads((SMALL_DIR / "manifest.json").read_text(encoding="utf-8"))["versions"]
    current = library_versions()
    if any(shipped[lib] != current[lib] for lib in ("faker", "numpy")):
        pytest.skip(f"small sample made with {shipped}, this environment has {current}: "
                    "random streams and word lists may differ between versions")
    generate(tmp_path, "small", seed=42)
    fresh = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["sha256"]
    assert fresh == json.loads((SMALL_DIR / "manifest.json").read_text(encoding="utf-8"))["sha256"]
    assert _digest(tmp_path) == _digest(SMALL_DIR), (
        "sample_data/small/ drifted from the generator: "
        "run python -m sample_data.generate --scale small --out sample_data/small"
    )


@pytest.mark.parametrize("name", FRENCH_FILES)
def test_files_are_in_the_french_dialect(tiny: Path, name: str) -> None:
    raw = (tiny / name).read_bytes()
    assert b"\r\n" in raw
    text = raw.decode("cp1252")
    header = text.split("\r\n", 1)[0]
    assert ";" in header and "," not in header


def test_small_sample_is_windows_1252_not_latin_1() -> None:
    # Characters only Windows-1252 has (’ œ) make an encoding sniffer's job real.
    raw = (SMALL_DIR / "documents.csv").read_bytes()
    assert b"\x92" in raw or b"\x9c" in raw


def test_small_sample_stays_small() -> None:
    total = sum((SMALL_DIR / name).stat().st_size for name in FILES)
    assert total < 5_500_000


def test_patient_headers_are_french(tiny: Path) -> None:
    header = (tiny / "patients.csv").read_bytes().split(b"\r\n", 1)[0].decode("cp1252")
    assert header == ("IPP;NOM_NAISSANCE;NOM_USAGE;PRENOMS;PRENOM_USAGE;DATE_NAISSANCE;SEXE;"
                      "LIEU_NAISSANCE;INS;STATUT_IDENTITE;ADRESSE;CP;VILLE;TELEPHONE;EMAIL;DATE_CREATION")


def test_keys_are_unique(tiny: Path) -> None:
    for name, key in (("patients.csv", "IPP"), ("documents.csv", "ID_DOCUMENT"),
                      ("audit_events.csv", "ID_EVENEMENT"), ("staff.csv", "UTILISATEUR")):
        values = [row[key] for row in _read(tiny / name, "cp1252")]
        assert len(values) == len(set(values)), name


def test_ground_truth_is_consistent(tiny: Path) -> None:
    patients = {row["IPP"] for row in _read(tiny / "patients.csv", "cp1252")}
    truth = {row["patient_id"]: row for row in _read(tiny / "truth_patients.csv")}
    assert set(truth) == patients
    persons = Counter(row["person_id"] for row in truth.values())
    for row in truth.values():
        if row["kind"] == "duplicate":
            assert persons[row["person_id"]] >= 2, row  # the duplicated person has another record
    pairs = _read(tiny / "truth_pairs.csv")
    seen = set()
    for pair in pairs:
        a, b = pair["patient_id_1"], pair["patient_id_2"]
        assert a < b and (a, b) not in seen
        seen.add((a, b))
        same = truth[a]["person_id"] == truth[b]["person_id"]
        assert pair["same_person"] == ("1" if same else "0"), pair
        if pair["kind"] in ("twin", "namesake", "household"):
            assert not same
    kinds = {p["kind"] for p in pairs}
    assert {"duplicate", "twin", "namesake", "household"} <= kinds


def test_every_duplicate_kind_is_in_the_small_sample() -> None:
    truth = _read(SMALL_DIR / "truth_patients.csv")
    errors = Counter(e for row in truth for e in row["errors"].split("+") if e)
    missing = [kind for kind in MUTATIONS if errors[kind] == 0]
    assert missing == []
    assert {"bad_birth_date", "bad_sex", "bad_ins"} <= set(errors)
    kinds = Counter(row["kind"] for row in truth)
    assert 0.07 <= kinds["duplicate"] / len(truth) <= 0.11


def test_twins_look_alike_but_are_different_people() -> None:
    patients = {row["IPP"]: row for row in _read(SMALL_DIR / "patients.csv", "cp1252")}
    twins = [p for p in _read(SMALL_DIR / "truth_pairs.csv") if p["kind"] == "twin"]
    assert twins
    for pair in twins:
        a, b = patients[pair["patient_id_1"]], patients[pair["patient_id_2"]]
        assert (a["NOM_NAISSANCE"], a["DATE_NAISSANCE"], a["ADRESSE"]) == (b["NOM_NAISSANCE"], b["DATE_NAISSANCE"], b["ADRESSE"])
        assert a["PRENOMS"] != b["PRENOMS"]


def test_ins_keys_are_valid_where_expected() -> None:
    truth = {row["patient_id"]: row for row in _read(SMALL_DIR / "truth_patients.csv")}
    rows = _read(SMALL_DIR / "patients.csv", "cp1252")
    with_ins = [r for r in rows if r["INS"] and "bad_ins" not in truth[r["IPP"]]["errors"]]
    assert len(with_ins) > 500
    assert all(is_valid_nir(r["INS"]) for r in with_ins)
    assert all(r["STATUT_IDENTITE"] in ("RECUP", "QUAL") for r in with_ins)
    bad = [r for r in rows if "bad_ins" in truth[r["IPP"]]["errors"]]
    assert bad and not any(is_valid_nir(r["INS"]) for r in bad)


NIR_CASES = [
    # (description, nir body, expected key)
    ("man born in Rennes", "1850535238123", 97 - 1850535238123 % 97),
    ("Corsica 2A counts as 19", "2900219004005", 97 - 2900219004005 % 97),
]


@pytest.mark.parametrize(("description", "body", "expected"), NIR_CASES, ids=[c[0] for c in NIR_CASES])
def test_nir_key(description: str, body: str, expected: int) -> None:
    assert nir_key(body) == expected


def test_corsican_nir_uses_19_for_2a() -> None:
    nir = make_nir("F", 1990, 2, "2A004", 5)
    assert nir[:13] == "29002" + "2A004" + "005"
    assert int(nir[13:]) == 97 - 2900219004005 % 97
    assert is_valid_nir(nir)


PHONE_CASES = [
    ("spaced pairs", 0, "06 12 34 56 78"),
    ("compact", 1, "0612345678"),
    ("dotted", 2, "06.12.34.56.78"),
    ("international", 3, "+33 6 12 34 56 78"),
]


@pytest.mark.parametrize(("description", "fmt", "expected"), PHONE_CASES, ids=[c[0] for c in PHONE_CASES])
def test_phone_formats(description: str, fmt: int, expected: str) -> None:
    assert format_phone("0612345678", fmt) == expected


def test_document_duplicates_match_their_truth() -> None:
    docs = {row["ID_DOCUMENT"]: row for row in _read(SMALL_DIR / "documents.csv", "cp1252")}
    truth = _read(SMALL_DIR / "truth_documents.csv")
    kinds = Counter(t["kind"] for t in truth)
    assert kinds["exact"] and kinds["near"] and kinds["retyped"]
    for pair in truth:
        a, b = docs[pair["document_id_1"]], docs[pair["document_id_2"]]
        assert a["IPP"] == b["IPP"]
        if pair["kind"] == "exact":
            assert a["EMPREINTE"] == b["EMPREINTE"]
        else:
            assert a["EMPREINTE"] != b["EMPREINTE"]
        if pair["kind"] == "retyped":
            assert a["NDA"] == b["NDA"]
    for row in docs.values():
        assert row["EMPREINTE"] == hashlib.sha1(row["TEXTE"].encode("utf-8")).hexdigest()


def test_backlog_has_old_drafts_and_drafts_of_leavers() -> None:
    docs = _read(SMALL_DIR / "documents.csv", "cp1252")
    staff = {row["UTILISATEUR"]: row for row in _read(SMALL_DIR / "staff.csv", "cp1252")}
    drafts = [d for d in docs if d["STATUT"] == "draft"]
    assert drafts and all(not d["DATE_SIGNATURE"] and not d["SIGNATAIRE"] for d in drafts)
    created = [dt.datetime.strptime(d["DATE_CREATION"], "%d/%m/%Y %H:%M:%S") for d in drafts]
    assert min(created) < dt.datetime(2026, 9, 28)  # forgotten before the activity window
    assert any(staff[d["AUTEUR"]]["ACTIF"] == "non" for d in drafts)


def test_audit_events_show_after_hours_work_and_dst() -> None:
    rows = _read(SMALL_DIR / "audit_events.csv", "cp1252")
    hours = Counter(int(r["HORODATAGE"][11:13]) for r in rows if r["ACTIVITE"] == "documentation")
    assert sum(hours[h] for h in range(19, 24)) > 0.05 * sum(hours.values())
    days = {r["HORODATAGE"][:10] for r in rows}
    assert "25/10/2026" in days  # the night of the DST change is covered
    assert any(r["POSTE"].startswith("VPN-") for r in rows)


CP1252_CASES = [
    ("ascii", "IPP;NOM\r\n"),
    ("latin-1 accents", "Gériatrie; Noël"),
    ("windows-1252 only", "altération de l’état général; œdème; Œ"),
    ("euro sign falls back to the codec", "5 €"),
]


@pytest.mark.parametrize(("description", "text"), CP1252_CASES, ids=[c[0] for c in CP1252_CASES])
def test_to_cp1252_matches_the_codec(description: str, text: str) -> None:
    assert to_cp1252(text) == text.encode("cp1252")


def test_to_cp1252_is_strict() -> None:
    with pytest.raises(UnicodeEncodeError):
        to_cp1252("emoji 🙂")
