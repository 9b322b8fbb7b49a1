"""Structural faults: the whole file is refused, nothing changes, the attempt is recorded."""

from __future__ import annotations

import pytest

from analytics.access.roles import system_actor
from analytics.errors import FileRefused
from analytics.importing import import_file
from tests.analytics.importing.helpers import snapshot, write_text

SYSTEM = system_actor()

GOOD = "IPP;NOM;DATE_NAISSANCE\nP1;DUPONT;01/02/1980\nP2;MARTIN;03/04/1990\n"

BAD_FILES = [
    # description, table, file name, bytes, expected message
    ("empty file", "patients", "p.csv", b"", "p.csv: line 1: the file is empty (no header, no rows)"),
    ("only a BOM and blank lines", "patients", "p.csv", b"\xef\xbb\xbf\n\n",
     "p.csv: line 1: the file is empty (no header, no rows)"),
    ("header without rows", "patients", "p.csv", b"IPP;NOM\n", "p.csv: line 2: the file has a header but no data rows"),
    ("missing required column", "patients", "p.csv", b"NOM;PRENOM\nDUPONT;Jean\n",
     "p.csv: line 1: missing required column patient_id (accepted headers: patient_id, ID_PATIENT, IPP, MRN, "
     "NO_IPP, NUM_IPP; or use --map)"),
    ("audit without timestamp", "audit_events", "a.csv", b"event_id;user_id\nE1;u1\n",
     "a.csv: line 1: missing required column timestamp (accepted headers: timestamp, DATEHEURE, DATETIME, "
     "DATE_EVENEMENT, DATE_HEURE, HORODATAGE; or use --map)"),
    ("empty key", "patients", "p.csv", b"IPP;NOM\nP1;DUPONT\n;MARTIN\n", "p.csv: line 3: column patient_id is empty (required)"),
    ("repeated key", "patients", "p.csv", b"IPP;NOM\nP1;DUPONT\nP2;MARTIN\nP1;DURAND\n",
     "p.csv: line 4: repeated key patient_id 'P1' (first on line 2; 2 rows in all)"),
    ("repeated schedule key", "schedules", "s.csv",
     b"user_id;start;end\nu1;02/01/2024 08:00;02/01/2024 12:00\nu1;2024-01-02 08:00:00;02/01/2024 13:00\n",
     "s.csv: line 3: repeated key user_id 'u1', start '2024-01-02 08:00:00+01:00' (first on line 2; 2 rows in all)"),
    ("empty schedule start", "schedules", "s.csv",
     b"user_id;start;end\nu1;02/01/2024 08:00;02/01/2024 12:00\nu2;;02/01/2024 13:00\n",
     "s.csv: line 3: column start is empty (required)"),
    ("ragged row", "patients", "p.csv", b"IPP;NOM\nP1;DUPONT\nP2;MARTIN;extra\nP3;DURAND\n",
     "p.csv: line 3: 3 fields where the header has 2 (ragged row)"),
    ("short row", "patients", "p.csv", b"IPP;NOM;PRENOM\nP1;DUPONT;Jean\nP2;MARTIN\n",
     "p.csv: line 3: 2 fields where the header has 3 (ragged row)"),
    ("unclosed quote", "patients", "p.csv", b'IPP;NOM\nP1;DUPONT\nP2;"MARTIN\nP3;DURAND\n',
     "p.csv: line 3: unclosed quote (a field opens '\"' and never closes it)"),
    ("byte undefined in Windows-1252", "patients", "p.csv", b"IPP;NOM\nP1;DUPONT\nP2;MAR\x81TIN\n",
     "p.csv: line 3: undecodable byte 0x81 (not UTF-8, not Windows-1252); re-export the file as UTF-8"),
    ("UTF-8 file with a stray Latin-1 byte", "patients", "p.csv",
     "IPP;NOM\nP1;LÉON\n".encode() + b"P2;H\xc9LO\xefSE\n",
     "p.csv: line 3: undecodable bytes C9 4C (the file is UTF-8 elsewhere: mixed encodings); re-export the file as UTF-8"),
    ("two columns for one field", "patients", "p.csv", b"IPP;NOM;NOM_NAISSANCE\nP1;A;B\n",
     "p.csv: line 1: columns 'NOM' and 'NOM_NAISSANCE' both map to patients.birth_name; choose one with --map"),
    ("truncated NDJSON line", "patients", "p.ndjson",
     b'{"resourceType":"Patient","id":"P1"}\n{"resourceType":"Patient","id":"P2","name":[{"fam\n',
     "p.ndjson: line 2: not valid JSON at column 46 (Unterminated string starting at); truncated line?"),
    ("FHIR resource of the wrong type", "patients", "p.ndjson",
     b'{"resourceType":"Patient","id":"P1"}\n{"resourceType":"Observation","id":"O1"}\n',
     "p.ndjson: line 2: resourceType 'Observation' where Patient is expected (one resource type per file)"),
    ("empty NDJSON", "documents", "d.ndjson", b"\n", "d.ndjson: line 1: the file is empty (no resources)"),
]


@pytest.mark.parametrize(("description", "table", "name", "data", "message"), BAD_FILES,
                         ids=[b[0] for b in BAD_FILES])
def test_structural_fault_refuses_the_whole_file(con, tmp_path, description, table, name, data, message):
    import_file(con, "patients", write_text(tmp_path, "good.csv", GOOD), actor=SYSTEM)
    before = snapshot(con)
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(FileRefused) as caught:
        import_file(con, table, path, actor=SYSTEM)
    assert str(caught.value) == message
    assert caught.value.report.status == "refused"
    assert snapshot(con) == before
    assert con.execute(
        "SELECT status, message, file_name FROM imports WHERE import_id = ?", [caught.value.report.import_id]
    ).fetchone() == ("refused", message, str(path))
    assert "refused, nothing loaded" in "\n".join(caught.value.report.summary_lines())


def test_interrupted_import_is_flagged(con):
    from analytics.importing import mark_interrupted_imports

    con.execute("INSERT INTO imports (import_id, table_name, file_name, status, started_at) "
                "VALUES ('x', 'patients', 'p.csv', 'running', now())")
    assert mark_interrupted_imports(con) == 1
    assert con.execute("SELECT status FROM imports").fetchone()[0] == "interrupted"
    assert mark_interrupted_imports(con) == 0
