"""Field comparisons over whole candidate-pair columns, vectorised.

The identity index is loaded once into numpy arrays ordered by ``rid``; strings that are
compared for equality are replaced by integer codes (``pandas.factorize``, shared between the
columns compared across, e.g. birth name vs usage name), so equality over millions of pairs is
integer work. Similarities go through ``rapidfuzz.process.cpdist`` (pairwise, all cores), and
only on the pairs that still need them (not exact, not missing).

Every field gets a level per pair: an integer index into ``FIELDS[field]`` (0 = missing).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, JaroWinkler, Prefix

from analytics.identity import name_variants
from analytics.identity.attributes import attribute_bits, attribute_bits_sql, nir_traits_sql
from analytics.identity.first_names import known_first_names

__all__ = ["FIELDS", "IndexArrays", "compare", "load_index"]

#: Levels per field, weakest evidence first; index 0 is always "missing" (weight 0).
FIELDS: dict[str, tuple[str, ...]] = {
    "birth_name": ("missing", "far", "swapped", "close", "cross", "word", "particle", "inverted", "exact"),
    "first_name": ("missing", "far", "initial", "nickname", "swapped", "gendered", "partial", "compound", "other_name",
                   "close", "reordered", "used", "first_only", "exact"),
    "birth_date": ("missing", "far", "default", "typo", "swap", "exact"),
    "sex": ("missing", "far", "exact"),
    "birth_place": ("missing", "far", "close", "exact"),
    "ins": ("missing", "far_strong", "far", "traits_differ", "exact"),
    "phone": ("missing", "far", "exact"),
    "email": ("missing", "far", "close", "exact"),
    "address": ("missing", "far", "postcode", "street", "close", "exact"),
}
#: What each level means (docs/IDENTITY_RULES.md). Only formatting differences (case, accents,
#: hyphen / space / apostrophe, repeated spaces) are ``exact``: any other difference is a level of
#: its own, with its own m and u, so that the score never counts it as full agreement.
#:
#: birth_name: ``close`` typo or same Soundex2-FR key; ``cross`` the birth name of one is the used
#: name of the other; ``word`` a whole word dropped or added (second surname: MARTIN-DUBOIS /
#: MARTIN); ``particle`` a particle dropped or added (LE GALL / GALL, SAINT-MARTIN / MARTIN,
#: D'ARTAGNAN / ARTAGNAN); ``inverted`` the same words in another order (DE LA FONTAINE / FONTAINE
#: (DE LA), MARTIN DUBOIS / DUBOIS MARTIN).
#: ins: ``traits_differ`` only one record has an INS and what its NIR encodes (sex, birth year,
#: month, département) contradicts the other record's recorded traits (attributes.py).
#: first_name (first first name): ``gendered`` masculine / feminine forms (LOUIS / LOUISE);
#: ``partial`` one list inside the other (PAUL / JEAN PAUL); ``compound`` a compound reduced to its
#: first part (JEAN-PIERRE / JEAN); ``other_name`` a near spelling but both are real first names
#: (LEA / LENA: two people, not a typo); ``close`` a typo (at least one side is not a known first
#: name: LEA / LEAA); ``reordered`` the same list in another order; ``used`` the used first name of
#: one is the first first name of the other; ``first_only`` the same first first name but lists of
#: birth first names that differ beyond it (ALAIN AIME / ALAIN GEORGES; not when one list is the
#: start of the other, LOUISE MARIE / LOUISE); ``exact`` same first first name (or the same list
#: glued: JEAN-PAUL / JEAN PAUL).
#: Both: ``swapped`` birth name and first name swapped (each nearly the other's);
#: first_name: ``nickname`` a diminutive or nickname (WILLIAM / BILL), ``initial`` a single letter,
#: the other's initial (see analytics/identity/name_variants.py).
#: address: ``close`` a similar address in the same postcode; ``street`` a similar address whose
#: postcode differs by one typo (2036 / 2306) or is missing on one side; ``postcode`` only the
#: postcode is shared.

#: Fields whose exact level is adjusted by how frequent the agreeing value is.
TF_FIELDS = ("birth_name", "first_name", "phone", "address")

_STRINGS = ("bn", "bn_key", "bn_np", "un_np", "fn1", "fn_all", "fn_list", "ufn", "email", "address", "postcode")


@dataclass
class IndexArrays:
    """Columns of identity_index as arrays, position = order by rid."""

    rid: np.ndarray
    patient_id: np.ndarray
    s: dict[str, np.ndarray]       # strings ('' for NULL)
    c: dict[str, np.ndarray]       # integer codes (-1 for NULL)
    tf: dict[str, np.ndarray]      # relative frequency of the row's value
    ymd: np.ndarray                # yyyymmdd or -1
    bd_default: np.ndarray
    ins_strong: np.ndarray
    fn_known: np.ndarray | None = None  # first first name is a known first name (first_names.py)
    attrs: np.ndarray | None = None     # identity attribute bits (attributes.py: FICT 1, DOUT 2, HOMD 4, HOMA 8)

    @property
    def n(self) -> int:
        return len(self.rid)

    def positions(self, rids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.rid, rids)


def _codes(*cols: np.ndarray) -> list[np.ndarray]:
    """Factorize columns in one shared code space (None/NaN/'' → -1)."""
    values = np.concatenate(cols) if len(cols) > 1 else np.asarray(cols[0], dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    empty = np.flatnonzero(np.asarray(uniques, dtype=object) == "")
    if len(empty):
        codes[codes == empty[0]] = -1
    out, start = [], 0
    for col in cols:
        out.append(codes[start:start + len(col)])
        start += len(col)
    return out


def _tf(codes: np.ndarray) -> np.ndarray:
    """Relative frequency of each row's code among the valid codes (codes need not be dense)."""
    valid = codes >= 0
    out = np.full(len(codes), np.nan)
    if valid.any():
        _, inverse, counts = np.unique(codes[valid], return_inverse=True, return_counts=True)
        out[valid] = counts[inverse] / int(valid.sum())
    return out


_NIR = nir_traits_sql("ins")

#: Columns compared by equality only, as SQL over identity_index: loaded as hash codes (below).
_CODE_EXPRS = {
    "bn_np": "bn_np", "un_np": "un_np", "bn_key": "bn_key",
    "bn_set": "array_to_string(list_sort(string_split(bn, ' ')), ' ')", "fn1": "fn1", "ufn": "ufn", "fn_all": "fn_all",
    "fn_set": "array_to_string(list_sort(string_split(fn_list, ' ')), ' ')", "bn_sdx": "bn_sdx",
    "fn_sdx": "fn_sdx", "sex": "sex", "birth_place": "birth_place", "bp_dept": "left(birth_place, 2)",
    "ins": "ins", "phone": "phone", "postcode": "postcode", "email": "email", "address": "address",
    # What the INS encodes, compared with the other record's traits (hash codes shared with sex and
    # the département; Corsica's 2A/2B and the old NIRs' 20 compare equal).
    "nir_sex": _NIR["nir_sex"],
    "nir_dept": f"CASE WHEN {_NIR['nir_dept']} IN ('2A', '2B') THEN '20' ELSE {_NIR['nir_dept']} END",
    "bp_dept20": "CASE WHEN left(birth_place, 2) IN ('2A', '2B') THEN '20' ELSE left(birth_place, 2) END",
}


def _hash_code_sql(expr: str) -> str:
    """SQL: a non-negative 63-bit hash of the value (-1 for NULL or ''). Equal strings get equal
    codes in every column (birth name vs usage name need no shared factorisation), and the
    strings of equality-only columns never cross into Python: at 1M patients, fetching them as
    objects and factorising them cost ~15 s."""
    return f"CASE WHEN nullif({expr}, '') IS NULL THEN -1 ELSE (hash({expr}) >> 1)::BIGINT END"


_TF_COLUMNS = {"birth_name": "bn_np", "first_name": "fn1", "phone": "phone", "address": "address"}


def _external_tf(con: duckdb.DuckDBPyConnection, table: str, source: str) -> dict[str, np.ndarray]:
    """Frequencies of ``table``'s values measured in ``source`` (a few rows vs the whole index).

    One grouped scan per field with the values as a list: it costs the same for one pair and for
    a page of 25 (a filtered count per value in one scan took 7 s for 50 patients at 1M)."""
    cols = list(_TF_COLUMNS.values())
    small = con.execute(f"SELECT rid, {', '.join(cols)} FROM {table} ORDER BY rid").df()  # noqa: S608 - internal identifiers only
    params = {f"v{i}": [v for v in small[c].dropna().unique().tolist()] for i, c in enumerate(cols)}
    parts = [f"SELECT {i} AS f, {c} AS v, count(*) AS n FROM {source} WHERE list_contains($v{i}, {c}) GROUP BY ALL"  # noqa: S608
             for i, c in enumerate(cols)]
    # each field's count of values (the denominator) rides in the same statement, as field -1-i
    parts += [f"SELECT {-1 - i} AS f, NULL AS v, count({c}) AS n FROM {source}" for i, c in enumerate(cols)]  # noqa: S608
    counts = con.execute(" UNION ALL ".join(parts), params).fetchall()  # noqa: S608 - internal identifiers only
    lookup = {(f, v): n for f, v, n in counts}
    total = [lookup[(-1 - i, None)] for i in range(len(cols))]
    out = {}
    for i, (field, c) in enumerate(_TF_COLUMNS.items()):
        n_total = max(int(total[i]), 1)
        out[field] = np.array([lookup.get((i, v), 1) / n_total if isinstance(v, str) else np.nan
                               for v in small[c]], dtype=float)
    return out


def load_index(con: duckdb.DuckDBPyConnection, table: str = "identity_index",
               tf_from: str | None = None) -> IndexArrays:
    """Load ``table`` (an identity_index-shaped table) into arrays ordered by rid; term
    frequencies are measured in ``tf_from`` when given (default: the table itself)."""
    hashed = ", ".join(f"{_hash_code_sql(e)} AS h_{name}" for name, e in _CODE_EXPRS.items())
    d = con.execute(f"""
        SELECT rid, patient_id, {', '.join(_STRINGS)}, {hashed},
               coalesce(year(birth_date) * 10000 + month(birth_date) * 100 + day(birth_date), -1) AS ymd,
               bd_default, ins_strong, coalesce(length(fn1), 0) AS fn1_len,
               coalesce({_NIR["nir_yy"]}, -1) AS nir_yy, coalesce({_NIR["nir_mm"]}, -1) AS nir_mm,
               {attribute_bits_sql("attributes")} AS attr_bits,
               coalesce(len(string_split(fn_list, ' ')), 0) AS n_names
        FROM {table} ORDER BY rid
    """).fetchnumpy()  # noqa: S608 - internal identifiers only
    ix = arrays_from_columns(d)
    if tf_from is not None:
        ix.tf = _external_tf(con, table, tf_from)
    return ix


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def arrays_from_rows(rows: list[dict]) -> IndexArrays:
    """IndexArrays for a few identity_index-shaped rows held in Python (search before create),
    with the derived columns computed as :func:`load_index` computes them in SQL."""
    d: dict[str, list] = {k: [] for k in (*_STRINGS, "rid", "patient_id", "bn_sdx", "fn_sdx", "sex",
                                            "birth_place", "bp_dept", "ins", "phone", "postcode", "fn_set",
                                            "bn_set", "ymd", "bd_default", "ins_strong", "fn1_len", "n_names",
                                            "nir_sex", "nir_dept", "bp_dept20", "nir_yy", "nir_mm", "attr_bits")}
    for r in sorted(rows, key=lambda r: r["rid"]):
        for k in d:
            if k in r:
                d[k].append(r[k])
        date = r.get("birth_date")
        # rows of a DataFrame carry NaN for NULL: anything but a string is missing
        fn_list, bp = _text(r.get("fn_list")), _text(r.get("birth_place"))
        d["bp_dept"].append(bp[:2] if bp else None)
        d["fn_set"].append(" ".join(sorted(fn_list.split(" "))) if fn_list else None)
        bn = _text(r.get("bn"))
        d["bn_set"].append(" ".join(sorted(bn.split(" "))) if bn else None)
        d["ymd"].append(date.year * 10000 + date.month * 100 + date.day if date is not None and date == date else -1)
        d["fn1_len"].append(len(r["fn1"]) if r.get("fn1") else 0)
        d["n_names"].append(len(fn_list.split(" ")) if fn_list else 0)
        nir = _text(r.get("ins")) or ""
        d["nir_sex"].append({"1": "M", "3": "M", "7": "M", "2": "F", "4": "F", "8": "F"}.get(nir[:1]))
        dept = nir[5:7] or None
        d["nir_dept"].append("20" if dept in ("2A", "2B") else dept)
        d["bp_dept20"].append("20" if bp and bp[:2] in ("2A", "2B") else (bp[:2] if bp else None))
        d["nir_yy"].append(int(nir[1:3]) if nir[1:3].isdigit() else -1)
        d["nir_mm"].append(int(nir[3:5]) if nir[3:5].isdigit() and 1 <= int(nir[3:5]) <= 12 else -1)
        d["attr_bits"].append(int(attribute_bits(np.array([_text(r.get("attributes"))], dtype=object))[0]))
    return arrays_from_columns({k: np.asarray(v, dtype=object) for k, v in d.items()})


def arrays_from_columns(d: dict[str, np.ndarray]) -> IndexArrays:
    """IndexArrays from column arrays (as fetched by :func:`load_index`)."""

    def col(name: str) -> np.ndarray:
        v = d[name]
        if isinstance(v, np.ma.MaskedArray):
            out = np.asarray(v.data, dtype=object)
            out[np.ma.getmaskarray(v)] = None
            return out
        return np.asarray(v, dtype=object)

    s = {k: np.where(pd.isna(col(k)), "", col(k)).astype(object) for k in _STRINGS}
    s["address_ns"] = pd.Series(s["address"], dtype=object).str.replace(" ", "", regex=False).to_numpy(dtype=object)
    c: dict[str, np.ndarray] = {}
    if all(f"h_{k}" in d for k in _CODE_EXPRS):  # hash codes computed in SQL (load_index)
        c = {k: np.asarray(d[f"h_{k}"], dtype=np.int64) for k in _CODE_EXPRS}
    else:  # rows held in Python (search before create): factorise
        c["bn_np"], c["un_np"] = _codes(col("bn_np"), col("un_np"))
        c["bn_key"], = _codes(col("bn_key"))
        c["bn_set"], = _codes(col("bn_set"))
        c["fn1"], c["ufn"] = _codes(col("fn1"), col("ufn"))
        c["sex"], c["nir_sex"] = _codes(col("sex"), col("nir_sex"))
        c["bp_dept20"], c["nir_dept"] = _codes(col("bp_dept20"), col("nir_dept"))
        for k in ("fn_all", "fn_set", "bn_sdx", "fn_sdx", "birth_place", "bp_dept", "ins",
                  "phone", "postcode", "email", "address"):
            c[k], = _codes(col(k) if k != "address" else s["address"])
    c["fn1_len"] = np.asarray(d["fn1_len"], dtype=np.int64)
    c["n_names"] = np.asarray(d["n_names"], dtype=np.int64)
    c["nir_yy"] = np.asarray(d["nir_yy"], dtype=np.int64)
    c["nir_mm"] = np.asarray(d["nir_mm"], dtype=np.int64)
    c["bn_words"] = np.fromiter((x.count(" ") + 1 if x else 0 for x in s["bn"]), dtype=np.int64, count=len(s["bn"]))
    tf = {"birth_name": _tf(c["bn_np"]), "first_name": _tf(c["fn1"]), "phone": _tf(c["phone"]),
          "address": _tf(c["address"])}
    ymd = np.asarray(d["ymd"], dtype=np.int64)
    return IndexArrays(
        rid=np.asarray(d["rid"], dtype=np.int64), patient_id=col("patient_id"), s=s, c=c, tf=tf,
        ymd=ymd, bd_default=np.asarray(d["bd_default"]).astype(bool),
        ins_strong=np.asarray(d["ins_strong"]).astype(bool), fn_known=known_first_names(s["fn1"]),
        attrs=np.asarray(d["attr_bits"], dtype=np.int64),
    )


def _eq(code: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x, y = code[a], code[b]
    return (x == y) & (x >= 0)


def _present(code: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (code[a] >= 0) & (code[b] >= 0)


def _sim(scorer, left: np.ndarray, right: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``scorer`` over the masked pairs only (0 elsewhere), multi-threaded."""
    out = np.zeros(len(mask))
    idx = np.flatnonzero(mask)
    if len(idx):
        out[idx] = process.cpdist(left[idx], right[idx], scorer=scorer, workers=-1)
    return out


_FEMININE_ENDINGS = ("E", "NE", "LE", "TE", "TTE", "INE", "ETTE", "IE")


def _gendered(left: np.ndarray, right: np.ndarray, mask: np.ndarray, lengths: tuple[np.ndarray, np.ndarray]
              ) -> np.ndarray:
    """One first name is the other plus a French feminine ending (only the masked pairs whose
    lengths, ``lengths`` per pair, allow it)."""
    out = np.zeros(len(mask), dtype=bool)
    short, extra = np.minimum(*lengths), np.abs(lengths[0] - lengths[1])
    idx = np.flatnonzero(mask & (short >= 3) & (extra >= 1) & (extra <= max(map(len, _FEMININE_ENDINGS))))
    if len(idx):
        prefix = process.cpdist(left[idx], right[idx], scorer=Prefix.similarity, workers=-1)
        cand = idx[prefix == short[idx]]
        out[cand] = [
            (lambda lo, hi: hi[len(lo):] in _FEMININE_ENDINGS)(*sorted((left[i], right[i]), key=len))
            for i in cand
        ]
    return out


def _compound(left: np.ndarray, right: np.ndarray, mask: np.ndarray, lengths: tuple[np.ndarray, np.ndarray]
              ) -> np.ndarray:
    """One first name is the first part of the other, the rest a first name of its own of three
    letters or more (JEANPIERRE / JEAN, MARIELOUISE / MARIE); only the masked pairs
    (``lengths``: the two first names' lengths per pair)."""
    out = np.zeros(len(mask), dtype=bool)
    short = np.minimum(*lengths)
    idx = np.flatnonzero(mask & (short >= 3) & (np.maximum(*lengths) - short >= 3))
    if len(idx):
        prefix = process.cpdist(left[idx], right[idx], scorer=Prefix.similarity, workers=-1)
        cand = idx[prefix == short[idx]]
        if len(cand):
            rest = np.array([max(left[i], right[i], key=len)[len(min(left[i], right[i], key=len)):] for i in cand],
                            dtype=object)
            out[cand] = known_first_names(rest)
    return out


def _nir_contradicts(ix: IndexArrays, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Only one record of the pair has an INS, and what its NIR encodes contradicts the other
    record's sex, birth year, birth month (either of day/month, a swap is a typo; not for a 01/01
    default date) or birth département."""
    c = ix.c
    has_a, has_b = c["ins"][a] >= 0, c["ins"][b] >= 0
    one = has_a ^ has_b
    owner, other = np.where(has_a, a, b), np.where(has_a, b, a)

    def differ(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (x >= 0) & (y >= 0) & (x != y)

    ymd = ix.ymd[other]
    known = ymd >= 0
    yy, mm, dd = np.where(known, (ymd // 10000) % 100, -1), np.where(known, (ymd // 100) % 100, -1), ymd % 100
    month_bad = differ(c["nir_mm"][owner], mm) & (c["nir_mm"][owner] != dd) & ~ix.bd_default[other]
    bad = (differ(c["nir_sex"][owner], c["sex"][other]) | differ(c["nir_yy"][owner], yy) | month_bad
           | differ(c["nir_dept"][owner], c["bp_dept20"][other]))
    return one & bad


def _address_similarity(address: np.ndarray, spaceless: np.ndarray, a: np.ndarray, b: np.ndarray,
                        mask: np.ndarray) -> np.ndarray:
    """0-100 per pair (masked pairs only): the better of the word-order-free ratio and the ratio
    with spaces removed (FEBRL-style splits: NARRANYSTREET / NARRAN STREET)."""
    out = _sim(fuzz.token_sort_ratio, address[a], address[b], mask)
    return np.maximum(out, _sim(fuzz.ratio, spaceless[a], spaceless[b], mask & (out < 100)))


def _lengths(values: np.ndarray, pos: np.ndarray) -> np.ndarray:
    return np.fromiter((len(values[i]) for i in pos), dtype=np.int64, count=len(pos))


def _levels(field: str, present: np.ndarray, conditions: list[tuple[str, np.ndarray]]) -> np.ndarray:
    """Level index per pair: the first condition that holds, by level name ("far" otherwise,
    "missing" when either side is absent). Names, not bare numbers, so that adding a level
    cannot shift another."""
    names = FIELDS[field]
    return np.select([~present, *(cond for _, cond in conditions)],
                     [0, *(names.index(name) for name, _ in conditions)], names.index("far")).astype(np.int8)


def _date_levels(ix: IndexArrays, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    v1, v2 = ix.ymd[a], ix.ymd[b]
    present = (v1 >= 0) & (v2 >= 0)
    lvl = np.where(present, 1, 0).astype(np.int8)
    d1 = np.stack([(v1 // 10**k) % 10 for k in range(8)])
    d2 = np.stack([(v2 // 10**k) % 10 for k in range(8)])
    diff = d1 != d2
    ndiff = diff.sum(axis=0)
    transposed = np.zeros(len(a), dtype=bool)
    for k in range(7):
        transposed |= diff[k] & diff[k + 1] & (d1[k] == d2[k + 1]) & (d1[k + 1] == d2[k])
    typo = (ndiff == 1) | ((ndiff == 2) & transposed)
    y1, y2 = v1 // 10000, v2 // 10000
    m1, m2, dd1, dd2 = (v1 // 100) % 100, (v2 // 100) % 100, v1 % 100, v2 % 100
    default = (y1 == y2) & (ix.bd_default[a] | ix.bd_default[b])
    swap = (y1 == y2) & (m1 == dd2) & (dd1 == m2)
    lvl[present & default] = 2
    lvl[present & typo] = 3
    lvl[present & swap] = 4
    lvl[present & (v1 == v2)] = 5
    return lvl


def compare(ix: IndexArrays, a: np.ndarray, b: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Levels per field (int8 arrays) and the term frequency of agreeing values, for the pairs
    of positions (``a[i]``, ``b[i]``)."""
    c, s = ix.c, ix.s
    L: dict[str, np.ndarray] = {}

    # Birth name: exact only on the spaceless key (formatting differences); particles, words and
    # order are levels of their own.
    present = _present(c["bn_np"], a, b)
    exact = _eq(c["bn_key"], a, b)
    inverted = ~exact & _eq(c["bn_set"], a, b)
    particle = ~exact & ~inverted & _eq(c["bn_np"], a, b)
    cross = ((c["bn_np"][a] == c["un_np"][b]) & (c["bn_np"][a] >= 0)) | (
        (c["un_np"][a] == c["bn_np"][b]) & (c["un_np"][a] >= 0))
    todo = present & ~exact & ~inverted & ~particle
    # Only names of several words can lose or gain one: few pairs reach the token comparison.
    spaced = todo & ~cross & ((c["bn_words"][a] > 1) | (c["bn_words"][b] > 1))
    word = spaced & (_sim(fuzz.token_set_ratio, s["bn"][a], s["bn"][b], spaced) >= 100)
    jw = _sim(JaroWinkler.normalized_similarity, s["bn_np"][a], s["bn_np"][b], todo)
    close = todo & ((jw >= 0.9) | _eq(c["bn_sdx"], a, b))
    # Birth name and first name swapped (SMITH JOHN / JOHN SMITH): a level of both fields.
    swapped = name_variants.swapped(s["bn_np"], s["fn1"], a, b, todo & ~cross & ~word & (jw < 0.9))
    L["birth_name"] = _levels("birth_name", present, [
        ("exact", exact), ("inverted", inverted), ("particle", particle), ("cross", cross), ("word", word),
        ("swapped", swapped), ("close", close)])

    # First name: the first of the list, compared so that only formatting is exact.
    present = _present(c["fn1"], a, b)
    exact = _eq(c["fn1"], a, b) | _eq(c["fn_all"], a, b)
    reordered = ~exact & _eq(c["fn_set"], a, b)
    used = ~exact & ~reordered & (((c["ufn"][a] == c["fn1"][b]) & (c["ufn"][a] >= 0))
                                  | ((c["fn1"][a] == c["ufn"][b]) & (c["fn1"][a] >= 0)))
    todo = present & ~exact & ~used & ~reordered
    osa = _sim(OSA.distance, s["fn1"][a], s["fn1"][b], todo)
    osa = np.where(todo, osa, 99)
    # The glued list only differs from fn1 for lists of several names or compound names.
    several = todo & ((c["n_names"][a] > 1) | (c["n_names"][b] > 1))
    osa_all = _sim(OSA.distance, s["fn_all"][a], s["fn_all"][b], several)
    osa = np.where(several, np.minimum(osa, osa_all), osa)
    jw = _sim(JaroWinkler.normalized_similarity, s["fn1"][a], s["fn1"][b], todo & (osa > 1))
    lens = np.minimum(c["fn1_len"][a], c["fn1_len"][b])
    similar = todo & (((osa <= 1) & (lens >= 3)) | (_eq(c["fn_sdx"], a, b) & (jw >= 0.9))
                      | (_sim(fuzz.token_sort_ratio, s["fn_list"][a], s["fn_list"][b], several) >= 90))
    # A near spelling of two real first names (LEA / LENA) is two names, not a typo.
    known = ix.fn_known if ix.fn_known is not None else np.zeros(ix.n, dtype=bool)
    other_name = similar & known[a] & known[b]
    close = similar & ~other_name
    # One list contained in the other (PAUL / JEAN PAUL): maybe the same person, maybe a twin.
    partial = several & ~similar & (
        _sim(fuzz.token_set_ratio, s["fn_list"][a], s["fn_list"][b], several & ~similar) >= 100)
    # Masculine / feminine forms of one name (LOUIS / LOUISE, JEAN / JEANNE): twins, not a typo.
    longer = todo & (c["fn1_len"][a] != c["fn1_len"][b])
    fn_lengths = (c["fn1_len"][a], c["fn1_len"][b])
    gendered = _gendered(s["fn1"][a], s["fn1"][b], longer, fn_lengths)
    # A compound first name reduced to its first part (JEANPIERRE / JEAN: hyphens are joined).
    compound = _compound(s["fn1"][a], s["fn1"][b], longer & ~gendered, fn_lengths)
    # The RNIV's strict traits include the list of birth first names: two lists that share the first
    # name and differ after it are not formatting-only agreement (no automatic merge).
    lists = _eq(c["fn1"], a, b) & ~_eq(c["fn_all"], a, b) & (c["n_names"][a] > 1) & (c["n_names"][b] > 1)
    lists_prefix = _sim(Prefix.similarity, s["fn_list"][a], s["fn_list"][b], lists)
    first_only = np.zeros(len(a), dtype=bool)
    at = np.flatnonzero(lists)  # few pairs: lengths only where both lists have several names
    first_only[at] = lists_prefix[at] < np.minimum(_lengths(s["fn_list"], a[at]), _lengths(s["fn_list"], b[at]))
    rest = todo & ~similar & ~partial & ~gendered & ~compound
    L["first_name"] = _levels("first_name", present, [
        ("first_only", first_only), ("exact", exact), ("reordered", reordered), ("used", used), ("gendered", gendered),
        ("compound", compound), ("other_name", other_name), ("close", close), ("partial", partial),
        ("swapped", swapped & todo), ("nickname", name_variants.nickname(s["fn1"][a], s["fn1"][b], rest)),
        ("initial", name_variants.initial(s["fn1"][a], s["fn1"][b], rest & (np.minimum(*fn_lengths) == 1)))])

    L["birth_date"] = _date_levels(ix, a, b)

    L["sex"] = _levels("sex", _present(c["sex"], a, b), [("exact", _eq(c["sex"], a, b))])
    L["birth_place"] = _levels("birth_place", _present(c["birth_place"], a, b), [
        ("exact", _eq(c["birth_place"], a, b)), ("close", _eq(c["bp_dept"], a, b))])
    strong = ix.ins_strong[a] & ix.ins_strong[b]
    present = _present(c["ins"], a, b)
    L["ins"] = _levels("ins", present | _nir_contradicts(ix, a, b), [
        ("exact", _eq(c["ins"], a, b)), ("far_strong", present & strong), ("far", present),
        ("traits_differ", ~present)])
    L["phone"] = _levels("phone", _present(c["phone"], a, b), [("exact", _eq(c["phone"], a, b))])

    present = _present(c["email"], a, b)
    exact = _eq(c["email"], a, b)
    jw = _sim(JaroWinkler.normalized_similarity, s["email"][a], s["email"][b], present & ~exact)
    L["email"] = _levels("email", present, [("exact", exact), ("close", jw >= 0.92)])

    pc_present = _present(c["postcode"], a, b)
    ad_present = _present(c["address"], a, b)
    same_pc = _eq(c["postcode"], a, b)
    ad_exact = _eq(c["address"], a, b) & (same_pc | ~pc_present)
    # A postcode one typo away (or absent on one side): the same street, a postcode mistyped.
    pc_other = ad_present & ~ad_exact & ~same_pc
    pc_typo = pc_other & (~pc_present | (_sim(OSA.distance, s["postcode"][a], s["postcode"][b], pc_other & pc_present)
                                         <= 1))
    similar = _address_similarity(s["address"], s["address_ns"], a, b, ad_present & ~ad_exact & (same_pc | pc_typo))
    L["address"] = _levels("address", pc_present | ad_present, [
        ("exact", ad_exact), ("close", same_pc & (similar >= 85)), ("street", pc_typo & (similar >= 85)),
        ("postcode", same_pc)])

    tf = {f: np.where(L[f] == len(FIELDS[f]) - 1, ix.tf[f][a], np.nan) for f in TF_FIELDS}
    return L, tf
