"""A second synthetic person generator, written apart from ``sample_data`` with its own errors.

``sample_data.identities`` models a French hospital (its names, its INS, its households and
its error patterns). This one models a mixed European register without any national
identifier, sex, phone or e-mail — only names, birth date and address — and corrupts the
duplicates with errors that the sample generator does not make:

* names: keyboard slips (a neighbouring key), spelling by ear (PH/F, CK/K, Y/I, double
  letters), a nickname or diminutive in place of the first name (``nicknames`` package),
  an initial instead of the first name, first and last names swapped, a second surname added
  or dropped (double-barrelled names), OCR confusions (RN/M, CL/D);
* birth dates: day and month swapped, year off by one, one digit wrong, missing;
* addresses: the person moved (another street, postcode and city), or the address missing.

Each duplicate record gets one to three errors (50 / 35 / 15 %). About 1 % of the people
have a twin (same surname, birth date and address, another first name): hard negatives.
Names and places come from Faker pools (several Latin-script locales), sampled with Faker's
own frequencies.

    python -m benchmarks.other_generator --n 1000 --out /tmp/other.csv
"""

from __future__ import annotations

import argparse
import random
from datetime import date, timedelta

import pandas as pd

__all__ = ["generate"]

_LOCALES = ("en_GB", "en_US", "de_DE", "it_IT", "es_ES", "nl_NL", "fr_FR", "pt_PT")
_KEYBOARD = {
    "A": "QSZ", "B": "VNG", "C": "XVD", "D": "SFE", "E": "WRD", "F": "DGR", "G": "FHT", "H": "GJY",
    "I": "UOK", "J": "HKU", "K": "JLI", "L": "KO", "M": "N", "N": "BM", "O": "IPL", "P": "O",
    "Q": "WA", "R": "ETF", "S": "ADW", "T": "RYG", "U": "YIJ", "V": "CB", "W": "QES", "X": "ZC",
    "Y": "TUH", "Z": "XA",
}
_BY_EAR = [("PH", "F"), ("F", "PH"), ("CK", "K"), ("K", "C"), ("Y", "I"), ("I", "Y"), ("EI", "IE"),
           ("IE", "EI"), ("OU", "OW"), ("SCH", "SH"), ("TH", "T"), ("Z", "S"), ("S", "Z"), ("W", "V")]
_OCR = [("RN", "M"), ("M", "RN"), ("CL", "D"), ("O", "Q"), ("LI", "U"), ("VV", "W")]


def _pools(rnd: random.Random, size: int) -> dict[str, list]:
    from faker import Faker

    fakers = [Faker(loc) for loc in _LOCALES]
    for i, f in enumerate(fakers):
        f.seed_instance(rnd.randrange(2**31) + i)
    per = max(size // len(fakers), 50)
    pools: dict[str, list] = {"male": [], "female": [], "last": [], "street": [], "place": []}
    for f in fakers:
        pools["male"] += [f.first_name_male() for _ in range(per)]
        pools["female"] += [f.first_name_female() for _ in range(per)]
        pools["last"] += [f.last_name() for _ in range(per)]
        pools["street"] += [f.street_name() for _ in range(per // 4)]
        pools["place"] += [(f.postcode(), f.city()) for _ in range(per // 2)]
    return pools


def _nicknames() -> dict[str, list[str]]:
    from nicknames import NickNamer

    nn = NickNamer()
    cache: dict[str, list[str]] = {}

    def lookup(name: str) -> list[str]:
        key = name.lower()
        if key not in cache:
            cache[key] = sorted(nn.nicknames_of(key))
        return cache[key]

    return lookup  # type: ignore[return-value]


def _sub(text: str, pairs: list[tuple[str, str]], rnd: random.Random) -> str | None:
    hits = [(a, b) for a, b in pairs if a in text[1:]]
    if not hits:
        return None
    a, b = rnd.choice(hits)
    starts = [i for i in range(1, len(text)) if text.startswith(a, i)]
    i = rnd.choice(starts)
    return text[:i] + b + text[i + len(a):]


def _keyboard(text: str, rnd: random.Random) -> str:
    letters = [i for i, ch in enumerate(text) if ch.upper() in _KEYBOARD and i > 0]
    if not letters:
        return text
    i = rnd.choice(letters)
    ch = rnd.choice(_KEYBOARD[text[i].upper()])
    return text[:i] + (ch if text[i].isupper() else ch.lower()) + text[i + 1:]


def _name_error(name: str, rnd: random.Random) -> str:
    if not name:
        return name
    kind = rnd.random()
    upper = name.upper()
    if kind < 0.4:
        return _keyboard(name, rnd)
    if kind < 0.75:
        return _sub(upper, _BY_EAR, rnd) or _keyboard(name, rnd)
    if kind < 0.85:
        return _sub(upper, _OCR, rnd) or _keyboard(name, rnd)
    if kind < 0.93 and len(name) > 4:  # a letter dropped
        i = rnd.randrange(1, len(name))
        return name[:i] + name[i + 1:]
    if len(name) > 3:  # two neighbouring letters swapped
        i = rnd.randrange(1, len(name) - 1)
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    return name


def _date_error(d: date | None, rnd: random.Random) -> date | None:
    if d is None:
        return None
    kind = rnd.random()
    if kind < 0.3 and d.day <= 12 and d.day != d.month:
        return date(d.year, d.day, d.month)
    if kind < 0.55:
        try:
            return d.replace(year=d.year + rnd.choice((-1, 1)))
        except ValueError:
            return d - timedelta(days=1)
    if kind < 0.85:
        text = d.strftime("%Y%m%d")
        for _ in range(20):
            i = rnd.randrange(2, 8)
            new = text[:i] + str(rnd.randrange(10)) + text[i + 1:]
            if new != text:
                try:
                    return date(int(new[:4]), int(new[4:6]), int(new[6:]))
                except ValueError:
                    continue
        return d
    return None


def generate(n: int = 100_000, seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` records (patients frame in the benchmark's shape, truth frame)."""
    rnd = random.Random(seed)
    pools = _pools(rnd, max(2_000, n // 10))
    nick = _nicknames()
    start = date(1925, 1, 1).toordinal()
    span = date(2022, 12, 31).toordinal() - start
    people = []
    n_people = int(n / 1.35)
    for pid in range(n_people):
        female = rnd.random() < 0.5
        first = rnd.choice(pools["female" if female else "male"])
        last = rnd.choice(pools["last"])
        postcode, city = rnd.choice(pools["place"])
        person = {"person_id": f"p{pid}", "first": first, "last": last,
                  "dob": date.fromordinal(start + rnd.randrange(span)),
                  "address": f"{rnd.randrange(1, 200)} {rnd.choice(pools['street'])}",
                  "postcode": postcode, "city": city}
        people.append(person)
        if rnd.random() < 0.01:  # a twin: same surname, date and home, another first name
            twin = dict(person, person_id=f"p{pid}t",
                        first=rnd.choice(pools["female" if rnd.random() < 0.5 else "male"]))
            if twin["first"] != first:
                people.append(twin)
    records = []
    for person in people:
        records.append(dict(person))
    while len(records) < n:
        person = rnd.choice(people)
        rec = dict(person)
        k = rnd.choices((1, 2, 3), weights=(50, 35, 15))[0]
        for kind in rnd.sample(["first", "last", "nickname", "initial", "swap", "double", "date", "date",
                                "moved", "missing_address"], k):
            if kind in ("first", "last"):
                rec[kind] = _name_error(rec[kind], rnd)
            elif kind == "nickname":
                options = nick(rec["first"].split(" ")[0])
                rec["first"] = rnd.choice(options).title() if options else _name_error(rec["first"], rnd)
            elif kind == "initial":
                rec["first"] = rec["first"][0]
            elif kind == "swap":
                rec["first"], rec["last"] = rec["last"], rec["first"]
            elif kind == "double":
                parts = rec["last"].split(" ")
                rec["last"] = (" ".join(parts[:-1]) if len(parts) > 1
                               else f"{rec['last']}-{rnd.choice(pools['last'])}")
            elif kind == "date":
                rec["dob"] = _date_error(rec["dob"], rnd)
            elif kind == "moved":
                rec["postcode"], rec["city"] = rnd.choice(pools["place"])
                rec["address"] = f"{rnd.randrange(1, 200)} {rnd.choice(pools['street'])}"
            else:
                rec["address"] = rec["postcode"] = None
        records.append(rec)
    rnd.shuffle(records)
    patients = pd.DataFrame({
        "patient_id": [f"o{i:07d}" for i in range(len(records))],
        "source": "default",
        "birth_name": [r["last"] for r in records],
        "first_names": [r["first"] for r in records],
        "birth_date": [r["dob"] for r in records],
        "address": [r["address"] for r in records],
        "postcode": [r["postcode"] for r in records],
        "city": [r["city"] for r in records],
        "street_number": [r["address"].split(" ", 1)[0] if r["address"] else None for r in records],
        "address_1": [r["address"].split(" ", 1)[1] if r["address"] else None for r in records],
        "state": None,
    })
    truth = pd.DataFrame({"patient_id": patients["patient_id"], "person_id": [r["person_id"] for r in records]})
    return patients, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    patients, truth = generate(args.n, args.seed)
    patients.merge(truth, on="patient_id").to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
