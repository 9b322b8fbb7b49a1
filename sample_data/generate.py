"""Generate the sample hospital: ``python -m sample_data.generate --scale small --out DIR``.

Deterministic: the same seed gives byte-identical files (numpy, ``random.Random`` and Faker
are all seeded from it; nothing depends on today's date). Writes staff.csv, schedules.csv,
patients.csv, documents.csv and audit_events.csv in the French dialect (``;``, Windows-1252,
CRLF, dd/mm/yyyy dates, local times) and UTF-8 ground truth: truth_patients.csv,
truth_pairs.csv, truth_documents.csv.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np
import pyarrow as pa

from sample_data.activity import (
    ACTIVITY_BY_ROLE,
    ROLE_INTENSITY,
    Bursts,
    after_hours_bursts,
    generate_documents,
    in_hours_bursts,
)
from sample_data.events import (
    ACTIONS,
    ACTIVITIES,
    UNDOCUMENTED_TYPES,
    build_events,
    mean_events_per_burst,
)
from sample_data.identities import generate_patients
from sample_data.staff import SESSION_TYPES, generate_schedules, generate_staff
from sample_data.writer import seconds_to_timestamps, write_csv


@dataclass(frozen=True)
class Scale:
    patients: int
    staff: int
    events: int


SCALES: dict[str, Scale] = {
    "tiny": Scale(patients=400, staff=30, events=4_000),  # for tests
    "small": Scale(patients=2_500, staff=60, events=40_000),
    "medium": Scale(patients=100_000, staff=600, events=1_000_000),
    "large": Scale(patients=1_000_000, staff=3_000, events=10_000_000),
}

PATIENT_HEADERS = {
    "patient_id": "IPP", "birth_name": "NOM_NAISSANCE", "used_name": "NOM_USAGE",
    "first_names": "PRENOMS", "used_first_name": "PRENOM_USAGE", "birth_date": "DATE_NAISSANCE",
    "sex": "SEXE", "birth_place_code": "LIEU_NAISSANCE", "ins": "INS",
    "identity_status": "STATUT_IDENTITE", "address": "ADRESSE", "postcode": "CP", "city": "VILLE",
    "phone": "TELEPHONE", "email": "EMAIL", "created_at": "DATE_CREATION",
}
STAFF_HEADERS = {
    "user_id": "UTILISATEUR", "display_name": "NOM", "role": "FONCTION", "service": "SERVICE",
    "active": "ACTIF", "is_service_head": "CHEF_DE_SERVICE",
}
SCHEDULE_HEADERS = {"user_id": "UTILISATEUR", "start": "DEBUT", "end": "FIN", "session_type": "TYPE_SEANCE"}
DOCUMENT_HEADERS = {
    "document_id": "ID_DOCUMENT", "patient_id": "IPP", "document_type": "TYPE_DOCUMENT",
    "title": "TITRE", "author_id": "AUTEUR", "service": "SERVICE", "created_at": "DATE_CREATION",
    "signed_at": "DATE_SIGNATURE", "signed_by": "SIGNATAIRE", "status": "STATUT",
    "content_hash": "EMPREINTE", "text": "TEXTE", "stay_id": "NDA",
}
EVENT_HEADERS = {
    "event_id": "ID_EVENEMENT", "user_id": "UTILISATEUR", "timestamp": "HORODATAGE",
    "action": "ACTION", "activity": "ACTIVITE", "patient_id": "IPP", "document_id": "ID_DOCUMENT",
    "document_type": "TYPE_DOCUMENT", "service": "SERVICE", "workstation": "POSTE",
}
#: Share of bursts after hours (evenings, weekends): with the schedules' denominators, about
#: a quarter of physicians' EHR time is outside scheduled time (Arndt et al. 2017: 1.4 of 5.9 h).
AFTER_HOURS_SHARE = 0.17


def _dict_column(codes: np.ndarray, values, missing: np.ndarray | None = None) -> pa.Array:  # noqa: ANN001
    dictionary = pa.array(list(values), type=pa.string())
    indices = pa.array(codes.astype(np.int32), mask=missing)
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def _yes_no(flags: np.ndarray) -> list[str]:
    return ["oui" if flag else "non" for flag in flags]


def generate(out_dir: Path | str, scale: str = "small", seed: int = 42) -> dict[str, object]:
    """Write the sample hospital of ``scale`` into ``out_dir``; return counts, sizes and timings."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale '{scale}' (choose from {', '.join(SCALES)})")
    size = SCALES[scale]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 2)
        clock = now

    rng = np.random.default_rng([seed, 2])
    rnd = random.Random(seed * 1000 + 2)
    patients = generate_patients(size.patients, seed)
    lap("patients")
    staff = generate_staff(size.staff, rng)
    sessions = generate_schedules(staff, rng)
    share = np.average([ACTIVITY_BY_ROLE[r] for r in staff.role], axis=0,
                       weights=[ROLE_INTENSITY[r] for r in staff.role])
    per_burst = mean_events_per_burst(share) + 0.9 * share[0]  # + signature events
    n_bursts = int(size.events / per_burst)
    inside = in_hours_bursts(staff, sessions, int(n_bursts * (1 - AFTER_HOURS_SHARE)), rng)
    outside = after_hours_bursts(staff, int(n_bursts * AFTER_HOURS_SHARE), rng)
    bursts = Bursts(*(np.concatenate([getattr(inside, f), getattr(outside, f)])
                      for f in ("user", "start_utc", "activity", "after_hours")))
    docs = generate_documents(staff, patients, bursts, rng, rnd)
    lap("staff_documents")
    events = build_events(bursts, docs, rng)
    lap("events")

    sizes: dict[str, int] = {}
    pcols = dict(patients.columns)
    pcols["created_at"] = seconds_to_timestamps(pcols.pop("created_s"))
    sizes["patients.csv"] = write_csv(out / "patients.csv", pa.table(pcols), PATIENT_HEADERS)
    sizes["staff.csv"] = write_csv(out / "staff.csv", pa.table({
        "user_id": staff.user_id.tolist(), "display_name": staff.display_name.tolist(),
        "role": staff.role.tolist(), "service": staff.service.tolist(),
        "active": _yes_no(staff.active), "is_service_head": _yes_no(staff.is_service_head),
    }), STAFF_HEADERS)
    users, starts, ends, types = sessions
    sizes["schedules.csv"] = write_csv(out / "schedules.csv", pa.table({
        "user_id": _dict_column(users, staff.user_id),
        "start": seconds_to_timestamps(starts), "end": seconds_to_timestamps(ends),
        "session_type": _dict_column(types, SESSION_TYPES),
    }), SCHEDULE_HEADERS)
    dcols = docs.columns
    sizes["documents.csv"] = write_csv(out / "documents.csv", pa.table({
        "document_id": dcols["document_id"], "patient_id": dcols["patient_id"],
        "document_type": dcols["document_type"], "title": dcols["title"],
        "author_id": dcols["author_id"], "service": dcols["service"],
        "created_at": seconds_to_timestamps(dcols["created_s"]),
        "signed_at": seconds_to_timestamps([v if v != "" else None for v in dcols["signed_s"]]),
        "signed_by": dcols["signed_by"], "status": dcols["status"],
        "content_hash": dcols["content_hash"], "text": dcols["text"], "stay_id": dcols["stay_id"],
    }), DOCUMENT_HEADERS)
    no_patient = events.patient < 0
    no_doc = events.document < 0
    n_staff = len(staff.user_id)
    width = max(6, len(str(len(events.user))))
    remote_names = np.asarray([f"VPN-{u}" for u in staff.user_id], dtype=object)
    sizes["audit_events.csv"] = write_csv(out / "audit_events.csv", pa.table({
        "event_id": pa.array(np.arange(1, len(events.user) + 1, dtype=np.int64)),
        "user_id": _dict_column(events.user, staff.user_id),
        "timestamp": seconds_to_timestamps(events.local_s),
        "action": _dict_column(events.action, ACTIONS),
        "activity": _dict_column(events.activity, ACTIVITIES),
        "patient_id": _dict_column(np.where(no_patient, 0, events.patient), patients.columns["patient_id"], no_patient),
        "document_id": _dict_column(np.where(no_doc, 0, events.document), dcols["document_id"], no_doc),
        # every event typed: its document's type, else what its activity is about
        "document_type": _dict_column(
            np.where(no_doc, len(dcols["document_type"]) + events.activity, events.document),
            list(dcols["document_type"]) + list(UNDOCUMENTED_TYPES)),
        "service": _dict_column(events.user, staff.service),
        "workstation": _dict_column(events.user + np.where(events.remote, n_staff, 0),
                                    np.concatenate([staff.workstation, remote_names])),
    }), EVENT_HEADERS, sql={"event_id": f"printf('EV%0{width}d', {{column}})"})
    lap("write_files")
    sizes["truth_patients.csv"] = write_csv(out / "truth_patients.csv", pa.table(
        dict(zip(("patient_id", "person_id", "kind", "errors"), zip(*patients.truth_patients, strict=True), strict=True))
    ), {c: c for c in ("patient_id", "person_id", "kind", "errors")}, french=False)
    pair_cols = ("patient_id_1", "patient_id_2", "same_person", "kind", "errors")
    sizes["truth_pairs.csv"] = write_csv(out / "truth_pairs.csv", pa.table(
        {c: list(v) for c, v in zip(pair_cols, zip(*patients.truth_pairs, strict=True), strict=True)}
    ), {c: c for c in pair_cols}, french=False)
    doc_cols = ("document_id_1", "document_id_2", "kind")
    sizes["truth_documents.csv"] = write_csv(out / "truth_documents.csv", pa.table(
        {c: list(v) for c, v in zip(doc_cols, zip(*docs.truth, strict=True), strict=True)}
    ), {c: c for c in doc_cols}, french=False)
    lap("write_truth")
    _write_manifest(out, scale, seed, sizes)
    return {
        "scale": scale, "seed": seed, "patients": size.patients, "staff": n_staff,
        "schedules": len(users), "documents": len(dcols["document_id"]),
        "audit_events": len(events.user), "bytes": sizes, "seconds": timings,
    }


def library_versions() -> dict[str, str]:
    """Versions whose random streams or word lists shape the output."""
    import duckdb
    import faker

    return {"faker": faker.VERSION, "numpy": np.__version__, "duckdb": duckdb.__version__,
            "python": ".".join(map(str, sys.version_info[:2]))}


def _write_manifest(out: Path, scale: str, seed: int, sizes: dict[str, int]) -> None:
    """manifest.json: what produced the files and their SHA-256 (to detect drift)."""
    digests = {}
    for name in sorted(sizes):
        digest = hashlib.sha256()
        with (out / name).open("rb") as handle:
            while chunk := handle.read(1 << 24):
                digest.update(chunk)
        digests[name] = digest.hexdigest()
    manifest = {"scale": scale, "seed": seed, "versions": library_versions(), "sha256": digests}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


@click.command()
@click.option("--scale", type=click.Choice(list(SCALES)), default="small", show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output folder.")
@click.option("--seed", type=int, default=42, show_default=True)
def main(scale: str, out_dir: str, seed: int) -> None:
    """Generate the fictional sample hospital (CSV files plus ground truth)."""
    started = time.perf_counter()
    result = generate(out_dir, scale, seed)
    click.echo(f"{scale} sample (seed {seed}) written to {out_dir} in {time.perf_counter() - started:.1f} s")
    for key in ("patients", "staff", "schedules", "documents", "audit_events"):
        click.echo(f"  {key}: {result[key]:,}")
    for name, size_bytes in result["bytes"].items():  # type: ignore[union-attr]
        click.echo(f"  {name}: {size_bytes / 1e6:.2f} MB")
    click.echo(f"  seconds by step: {result['seconds']}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
