import os
import stat

import pandas as pd
import pytest

from analytics.errors import InvalidInput
from analytics.pseudonymise import (
    COLUMN_POLICY,
    departement,
    k_anonymity,
    load_secret,
    pseudonym,
    pseudonymise_frame,
    secret_for,
)
from analytics.warehouse import connect

KEY = b"k" * 32
OTHER = b"o" * 32


def test_pseudonym_is_keyed_and_stable():
    first = pseudonym("IPP000123", KEY)
    assert first == pseudonym("IPP000123", KEY) == pseudonym(" IPP000123 ", KEY)
    assert first != pseudonym("IPP000123", OTHER)
    assert first != pseudonym("IPP000124", KEY)
    assert first.startswith("pat_") and len(first) == 4 + 16
    assert pseudonym("IPP000123", KEY, "ins") != first.replace("pat_", "ins_")
    assert pseudonym(None, KEY) is None and pseudonym(float("nan"), KEY) is None


DEPARTEMENTS = [
    # (description, code, expected)
    ("Paris postcode", "75012", "75"),
    ("Ain postcode that lost its leading zero", "1000", "01"),
    ("Guadeloupe postcode", "97110", "971"),
    ("Corse-du-Sud postcode", "20000", "2A"),
    ("Haute-Corse postcode", "20200", "2B"),
    ("Corsica INSEE code", "2B033", "2B"),
    ("born abroad (INSEE 99xxx)", "99134", "99"),
    ("Monaco postcode", "98000", "980"),
    ("garbage", "ABCDE", None),
    ("empty", "", None),
    ("missing", None, None),
]


@pytest.mark.parametrize(("description", "code", "expected"), DEPARTEMENTS, ids=[d[0] for d in DEPARTEMENTS])
def test_departement(description, code, expected):
    assert departement(code) == expected


def _patients():
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P1", None],
            "birth_name": ["DUPONT", "MARTIN", "DUPONT", "X"],
            "first_names": ["Jean Paul", "Marie", "Jean", "Y"],
            "birth_date": pd.to_datetime(["1980-05-01", "1990-01-31", None, "2001-12-31"]),
            "sex": ["M", "F", "M", "F"],
            "postcode": ["75012", "97110", "20100", None],
            "birth_place_code": ["75112", "2A004", "99134", None],
            "ins": ["180057511200112", None, None, None],
            "phone": ["0601020304"] * 4,
            "email": ["a@b.fr"] * 4,
            "address": ["1 rue X"] * 4,
            "merged_into": [None, "P1", None, None],
            "score": [0.5, 1.0, 2.0, 3.0],
        }
    )


def test_pseudonymise_frame_applies_the_policy():
    out = pseudonymise_frame(_patients(), KEY)
    assert list(out.columns) == ["patient_id", "birth_year", "sex", "departement", "birth_departement",
                                 "ins", "merged_into", "score"]
    assert list(out["birth_year"].astype(object).where(out["birth_year"].notna(), None)) == [1980, 1990, None, 2001]
    assert list(out["departement"]) == ["75", "971", "2A", None]
    assert list(out["birth_departement"]) == ["75", "2A", "99", None]
    p1 = pseudonym("P1", KEY)
    assert list(out["patient_id"].where(out["patient_id"].notna(), None)) == [p1, pseudonym("P2", KEY), p1, None]
    assert out["merged_into"][1] == p1  # joins across columns survive
    assert out["ins"][0] == pseudonym("180057511200112", KEY, "ins")
    assert list(out["score"]) == [0.5, 1.0, 2.0, 3.0]
    text = out.astype(str).to_string()
    for secret_value in ("DUPONT", "Marie", "0601020304", "a@b.fr", "rue", "P2", "180057511200112"):
        assert secret_value not in text


def test_staff_ids_kept_by_default_and_hashed_on_request():
    frame = pd.DataFrame({"user_id": ["dr.house"], "display_name": ["Gregory House"], "hours": [3.5]})
    assert pseudonymise_frame(frame, KEY).to_dict("list") == frame.to_dict("list")
    hashed = pseudonymise_frame(frame, KEY, staff="pseudonymise")
    assert list(hashed.columns) == ["user_id", "hours"]
    assert hashed["user_id"][0] == pseudonym("dr.house", KEY, "staff")


def test_unknown_text_column_refused_unless_declared():
    frame = pd.DataFrame({"Nom": ["DUPONT"], "n": [1], "note": [None]})
    with pytest.raises(InvalidInput) as err:
        pseudonymise_frame(frame, KEY)
    assert str(err.value) == (
        "no pseudonymisation rule for column(s) 'Nom': declare them in columns_policy "
        "(keep, drop or hash) or export canonical column names"
    )
    assert list(pseudonymise_frame(frame, KEY, {"Nom": "drop"}).columns) == ["n", "note"]
    assert pseudonymise_frame(frame, KEY, {"Nom": "hash"})["Nom"][0] == pseudonym("DUPONT", KEY, "id")


def test_every_exportable_column_has_a_rule(con):
    from analytics.exports import EXPORTABLE_TABLES, TABLE_POLICIES

    missing = []
    for table, column, data_type in con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'main'"
    ).fetchall():
        if table in EXPORTABLE_TABLES and column not in COLUMN_POLICY \
                and column not in TABLE_POLICIES.get(table, {}) \
                and data_type not in ("BIGINT", "INTEGER", "DOUBLE", "BOOLEAN"):
            missing.append(f"{table}.{column}")
    assert missing == []


def test_k_anonymity():
    out = pseudonymise_frame(_patients(), KEY)
    assert k_anonymity(out) == 1
    frame = pd.DataFrame({"birth_year": [1980, 1980, 1990, 1990], "sex": ["M", "M", "F", "F"]})
    assert k_anonymity(frame) == 2
    assert k_anonymity(pd.DataFrame({"n": [1]})) is None


def test_load_secret_creates_a_private_file_outside_the_warehouse_folder(tmp_path, monkeypatch):
    """Moved from beside the warehouse (issue 14): tests/analytics/privacy/test_keys.py has the rest."""
    monkeypatch.delenv("HYGIE_SECRET_FILE", raising=False)
    monkeypatch.setenv("HYGIE_SECRET_DIR", str(tmp_path / "keys"))
    db = tmp_path / "w" / "hygie.duckdb"
    key = load_secret(db)
    [path] = list((tmp_path / "keys").iterdir())
    assert len(key) == 32 and path.read_bytes() == key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_secret(db) == key and not (tmp_path / "w" / "hygie.duckdb.secret").exists()


def test_load_secret_from_env_and_too_short(tmp_path, monkeypatch):
    path = tmp_path / "k.secret"
    path.write_bytes(b"short")
    path.chmod(0o600)  # a key readable by others is refused first (tests/analytics/privacy/test_keys.py)
    monkeypatch.setenv("HYGIE_SECRET_FILE", str(path))
    with pytest.raises(InvalidInput, match="the pseudonymisation secret is too short"):
        load_secret()
    path.write_bytes(b"x" * 40)
    assert load_secret("/elsewhere/db.duckdb") == b"x" * 40


def test_secret_is_not_inside_the_warehouse(tmp_path, monkeypatch):
    monkeypatch.delenv("HYGIE_SECRET_FILE", raising=False)
    db = tmp_path / "hygie.duckdb"
    con = connect(db)
    key = secret_for(con)
    con.close()
    assert key == load_secret(db)
    assert key not in db.read_bytes()


def test_identity_export_frames():
    pairs = pd.DataFrame({"patient_id_1": ["P1"], "patient_id_2": ["P2"], "score": [0.9],
                          "birth_name_level": ["close"], "sex_level": ["exact"], "decision": ["review"]})
    out = pseudonymise_frame(pairs, KEY)
    assert out.to_dict("records") == [{"patient_id_1": pseudonym("P1", KEY), "patient_id_2": pseudonym("P2", KEY),
                                       "score": 0.9, "birth_name_level": "close", "sex_level": "exact",
                                       "decision": "review"}]
    clusters = pseudonymise_frame(pd.DataFrame({"patient_id": ["P2"], "cluster_id": ["P1"]}), KEY)
    assert clusters["cluster_id"][0] == pseudonym("P1", KEY)
    explained = pseudonymise_frame(pd.DataFrame({"field": ["birth_name"], "left": ["DUPONT"], "right": ["DUPOND"],
                                                 "level": ["close"], "weight": [3.2]}), KEY)
    assert list(explained.columns) == ["field", "level", "weight"]


def test_review_queue_side_by_side_columns():
    queue = pd.DataFrame({
        "patient_id_1": ["P1"], "patient_id_2": ["P2"], "score": [0.8], "level_birth_name": ["close"],
        "birth_name_1": ["DUPONT"], "birth_name_2": ["DUPOND"], "used_name_1": [None],
        "first_names_1": ["Jean"], "birth_date_1": pd.to_datetime(["1980-05-01"]),
        "birth_date_2": pd.to_datetime(["1980-01-05"]), "sex_1": ["M"], "birth_place_2": ["75112"],
        "status_1": ["VALI"], "postcode_left": ["97110"],
    })
    out = pseudonymise_frame(queue, KEY)
    assert list(out.columns) == ["patient_id_1", "patient_id_2", "score", "level_birth_name", "birth_year_1",
                                 "birth_year_2", "sex_1", "birth_departement_2", "status_1", "departement_left"]
    assert out.iloc[0].tolist()[4:] == [1980, 1980, "M", "75", "VALI", "971"]


def test_unknown_date_column_refused():
    with pytest.raises(InvalidInput, match="^no pseudonymisation rule for column\\(s\\) 'date_naissance'"):
        pseudonymise_frame(pd.DataFrame({"date_naissance": pd.to_datetime(["1980-05-01"])}), KEY)
