"""Blocking: which pairs of identities are worth comparing.

Several rules, each an equality on a key computed in DuckDB, are unioned into one
deduplicated candidate-pair table ``_hy_pairs(r1, r2)`` (integer ``rid`` of identity_index,
``r1 < r2``). Names are used both ways (birth name and usage name) so that swapped or mixed
names block.

Two families of rules, so that no single trait's error loses a duplicate:

* keys carrying at least two of the three birth-date parts (or a near-unique trait: INS,
  phone, e-mail + year): a typo in one date part is caught by the rules keyed on the other two;
* keys that do not rest on the birth date (birth name + first name in either order, phonetic
  names + postcode, first name + postcode, birth name + initial + year): a date with day and
  month swapped, one digit wrong, the year off by one or missing still meets its duplicate
  through them.

A rule stays only if some data set needs it: on the project's medium sample, FEBRL3 and the
second generator (benchmarks/), the rules whose true pairs every other rule also found (names +
year + month, names + year + day, birth date + postcode + first name[:2], first name + year +
postcode) were removed (FEBRL3 lost 1 true pair of 6,538 from the blocking ceiling, the second
generator 9 of 29,514, the sample none of 9,614).

**Pairs grow linearly with the index.** A block (identities sharing a key) of at most
``max_block`` identities gives all its pairs. A larger block (MARTIN JEAN, a postcode shared
by a town, a switchboard phone) is not skipped: its identities are sorted by the rule's
``order`` (the traits the key does not hold, e.g. the birth date for a names-only key) and
each is paired with its ``window`` next neighbours (sorted neighbourhood), so a large block
gives at most ``window`` pairs per identity. The report counts, per rule, its pairs, its
capped blocks and their identities; :func:`recall_ceiling` measures, on labelled data, the
share of true pairs each rule and their union reach.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import duckdb
import pandas as pd

__all__ = ["RULES", "BlockingRule", "candidate_pairs", "recall_ceiling"]


@dataclass(frozen=True)
class BlockingRule:
    name: str
    description: str
    keys: tuple[str, ...]          # SQL expressions over identity_index columns
    names: bool = False            # expand {name} / {sdx} over birth and usage names
    default_date_only: bool = False  # only pairs where one birth date is a possible 01/01 default
    order: str = "concat_ws('|', bn_np, fn1, birth_date)"  # sort of a capped block's identities
    max_block: int | None = None   # this rule's cap and window (None: candidate_pairs' arguments)
    window: int | None = None


_BY_DATE = "concat_ws('|', birth_date, postcode, bn_np, fn1)"
_BY_FIRST_NAME = "concat_ws('|', fn1, birth_date, bn_np)"
#: Keys without two birth-date parts are looser (a hospital's patients share few postcodes):
#: smaller blocks give all their pairs, larger ones a narrower window.
_LOOSE = {"max_block": 8, "window": 2}
_POSTCODE = {"max_block": 5, "window": 1}  # a town's patients share one postcode


RULES: tuple[BlockingRule, ...] = (
    BlockingRule("date_first3", "birth date + first 3 letters of the first name",
                 ("birth_date", "left(fn1, 3)")),
    BlockingRule("swapped_date_name3", "birth date with day/month in either order + name[:3]",
                 ("year(birth_date)", "least(month(birth_date), day(birth_date))",
                  "greatest(month(birth_date), day(birth_date))", "left({name}, 3)"), names=True),
    BlockingRule("phonetic_month", "Soundex2-FR of a name and of the first name + birth year and month",
                 ("left({sdx}, 4)", "left(fn_sdx, 4)", "year(birth_date)", "month(birth_date)"), names=True),
    BlockingRule("phonetic_day", "Soundex2-FR of a name and of the first name + birth year and day",
                 ("left({sdx}, 4)", "left(fn_sdx, 4)", "year(birth_date)", "day(birth_date)"), names=True),
    BlockingRule("phonetic_default", "Soundex2-FR of a name and of the first name + birth year, "
                 "where one date is a possible 01/01 default",
                 ("left({sdx}, 4)", "left(fn_sdx, 4)", "year(birth_date)"), names=True, default_date_only=True),
    BlockingRule("names_month_day", "name + first name + birth month and day (typo in the year)",
                 ("{name}", "fn1", "month(birth_date)", "day(birth_date)"), names=True),
    BlockingRule("ins", "INS matricule", ("ins",)),
    BlockingRule("phone", "phone number (E.164)", ("phone",)),
    BlockingRule("email_year", "e-mail address + birth year", ("email", "year(birth_date)")),
    BlockingRule("email_month_day", "e-mail address + birth month and day",
                 ("email", "month(birth_date)", "day(birth_date)")),
    # Rules that do not rest on the birth date (day/month swapped, year or digit wrong, missing).
    BlockingRule("names_any_order", "name + first name, in either order (first and last names swapped)",
                 ("least({name}, fn1)", "greatest({name}, fn1)"), names=True, order=_BY_DATE, **_LOOSE),
    BlockingRule("name_initial_year", "name + initial of the first name + birth year (initials, nicknames)",
                 ("{name}", "left(fn1, 1)", "year(birth_date)"), names=True, order=_BY_DATE, **_LOOSE),
    BlockingRule("phonetic_postcode", "Soundex2-FR of a name + postcode",
                 ("left({sdx}, 4)", "postcode"), names=True, order=_BY_FIRST_NAME, **_POSTCODE),
    BlockingRule("phonetic_names", "Soundex2-FR of a name and of the first name, in either order",
                 ("least({sdx}, fn_sdx)", "greatest({sdx}, fn_sdx)"), names=True, order=_BY_DATE, **_LOOSE),
    BlockingRule("date_postcode", "birth date + postcode (names swapped, changed or misspelt)",
                 ("birth_date", "postcode"), order=_BY_FIRST_NAME, **_LOOSE),
    BlockingRule("first_postcode", "first name + postcode (birth name changed, birth date wrong)",
                 ("fn1", "postcode"), order=_BY_DATE, **_POSTCODE),
)

_NAME_VARIANTS = (("bn_np", "bn_sdx"), ("un_np", "un_sdx"))
_LEAST = re.compile(r"^(least|greatest)\((\w+), (\w+)\)$")


def _key_selects(table: str, where: str = "TRUE", portable: bool = False) -> list[tuple[str, str]]:
    """One SELECT (rid, k) per rule and name variant (plus, unless ``portable``, the rule's index
    ``rule`` and the 01/01 flag ``d``). ``portable``: k is the low 64 bits of the MD5 of the
    '|'-joined key values, which :func:`python_key_hashes` reproduces in Python."""
    selects = []
    for i, rule in enumerate(RULES):
        variants = _NAME_VARIANTS if rule.names else ((None, None),)
        for name, sdx in variants:
            exprs = [k.format(name=name, sdx=sdx) for k in rule.keys]
            # least()/greatest() skip NULLs in DuckDB: each argument must be present
            args = [a for e in exprs if (m := _LEAST.match(e)) for a in m.groups()[1:]]
            not_null = " AND ".join(f"({e}) IS NOT NULL" for e in [*exprs, *args])
            key = (f"md5_number_lower(concat_ws('|', {i}, {', '.join(exprs)}))" if portable
                   else f"hash({i}, {', '.join(exprs)})")
            flag = "" if portable else f", {i}::UTINYINT AS rule, coalesce(bd_default, FALSE) AS d"
            selects.append((rule.name, f"SELECT rid, {key} AS k{flag} "  # noqa: S608 - internal identifiers only
                                        f"FROM {table} WHERE {not_null} AND {where}"))
    return selects


def _py_value(expr: str, row: dict) -> object:
    """Python value of one key expression of RULES, formatted as DuckDB's concat_ws does."""
    date = row.get("birth_date")
    m = re.fullmatch(r"left\((\w+), (\d)\)", expr)
    if m:
        value = row.get(m.group(1))
        return value[: int(m.group(2))] if value else None
    m = _LEAST.match(expr)
    if m:
        pair = (row.get(m.group(2)), row.get(m.group(3)))
        if any(v is None for v in pair):
            return None
        return min(pair) if m.group(1) == "least" else max(pair)
    if expr == "birth_date":
        return date.isoformat() if date else None
    if date is None and "birth_date" in expr:
        return None
    derived = {
        "year(birth_date)": lambda: date.year, "month(birth_date)": lambda: date.month,
        "day(birth_date)": lambda: date.day,
        "least(month(birth_date), day(birth_date))": lambda: min(date.month, date.day),
        "greatest(month(birth_date), day(birth_date))": lambda: max(date.month, date.day),
    }
    if expr in derived:
        return derived[expr]()
    if re.fullmatch(r"\w+", expr):
        return row.get(expr)
    raise KeyError(f"no Python form for blocking key expression {expr!r}")


def python_key_hashes(row: dict) -> list[int]:
    """The portable key hashes of one identity (a dict of identity_index columns)."""
    out = []
    for i, rule in enumerate(RULES):
        variants = _NAME_VARIANTS if rule.names else ((None, None),)
        for name, sdx in variants:
            values = [_py_value(k.format(name=name, sdx=sdx), row) for k in rule.keys]
            if any(v is None for v in values):
                continue
            text = "|".join(str(v) for v in (i, *values))
            out.append(int.from_bytes(hashlib.md5(text.encode()).digest()[8:], "little"))  # noqa: S324 - a key, not security
    return out


def candidate_pairs(
    con: duckdb.DuckDBPyConnection,
    table: str = "identity_index",
    *,
    max_block: int = 50,
    window: int = 8,
    new_from_rid: int | None = None,
) -> dict:
    """Fill temp tables ``_hy_rule_pairs(rule, r1, r2)`` and ``_hy_pairs(r1, r2)``; return the
    blocking report.

    Blocks of at most ``max_block`` identities give all their pairs; larger blocks give each
    identity's ``window`` next neighbours in the rule's order (see the module docstring).
    With ``new_from_rid``, only pairs involving an identity whose rid is at least that value
    are produced (incremental matching); blocks still count every identity.
    """
    if max_block < 2 or window < 1:
        raise ValueError(f"max_block must be at least 2 and window at least 1 (got {max_block}, {window})")
    # Narrow rows (rule index, rid, key hash, 01/01 flag): at 1M identities the rules give ~25M
    # keys, which must fit a 2 GB DuckDB budget; the sort value of a capped block is read after,
    # for the identities of capped blocks only.
    union = " UNION ALL ".join(sql for _name, sql in _key_selects(table))
    caps = [(i, r.name, min(r.max_block or max_block, max_block), min(r.window or window, window),
             r.order.format(name=None, sdx=None)) for i, r in enumerate(RULES)]
    con.execute("CREATE OR REPLACE TEMP TABLE _hy_caps (rule UTINYINT, name VARCHAR, cap INTEGER, win INTEGER)")
    con.executemany("INSERT INTO _hy_caps VALUES (?, ?, ?, ?)", [c[:4] for c in caps])
    orders = sorted({c[4] for c in caps})
    order_sql = "CASE " + " ".join(
        f"WHEN q.rule IN ({', '.join(str(c[0]) for c in caps if c[4] == o)}) THEN {o}" for o in orders) + " END"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _hy_keys AS SELECT DISTINCT rule, rid, k, d FROM ({union})")  # noqa: S608 - internal identifiers only
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _hy_blocks AS
        SELECT k, count(*) AS n FROM _hy_keys GROUP BY k HAVING count(*) > 1
    """)  # (rid, k) is unique in _hy_keys (the rule's index is hashed into k): no count(DISTINCT)
    capped = {rule: (int(blocks), int(ids)) for rule, blocks, ids in con.execute(
        "SELECT c.name, count(DISTINCT k), count(*) FROM _hy_keys JOIN _hy_blocks b USING (k) "
        "JOIN _hy_caps c USING (rule) WHERE b.n > c.cap GROUP BY c.name").fetchall()}
    new_filter = "" if new_from_rid is None else f"AND greatest(a.rid, b.rid) >= {int(new_from_rid)}"
    default_rules = ", ".join(str(i) for i, r in enumerate(RULES) if r.default_date_only) or "-1"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _hy_big AS
        SELECT q.rule, q.rid, q.k, q.d, c.win,
               row_number() OVER (PARTITION BY q.k ORDER BY {order_sql}, q.rid) AS pos
        FROM _hy_keys q JOIN _hy_blocks b USING (k) JOIN _hy_caps c ON c.rule = q.rule
        JOIN {table} x ON x.rid = q.rid WHERE b.n > c.cap
    """)  # noqa: S608 - internal identifiers only
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _hy_rule_pairs AS
        WITH good AS (
            SELECT q.rule, q.rid, q.k, q.d FROM _hy_keys q JOIN _hy_blocks b USING (k)
            JOIN _hy_caps c ON c.rule = q.rule WHERE b.n <= c.cap
        ), near AS (
            SELECT rule, rid, k, d, pos + unnest(range(1, win + 1)) AS target FROM _hy_big
        ), found AS (
            SELECT DISTINCT a.rule, a.rid AS r1, b.rid AS r2
            FROM good a JOIN good b ON a.k = b.k AND a.rid < b.rid {new_filter}
            WHERE a.rule NOT IN ({default_rules}) OR a.d OR b.d
            UNION
            SELECT a.rule, least(a.rid, b.rid) AS r1, greatest(a.rid, b.rid) AS r2
            FROM near a JOIN _hy_big b ON a.k = b.k AND b.pos = a.target {new_filter}
            WHERE a.rule NOT IN ({default_rules}) OR a.d OR b.d
        )
        SELECT c.name AS rule, f.r1, f.r2 FROM found f JOIN _hy_caps c ON c.rule = f.rule
    """)  # noqa: S608 - internal identifiers only
    per_rule = dict(con.execute("SELECT rule, count(*) FROM _hy_rule_pairs GROUP BY rule").fetchall())
    con.execute("CREATE OR REPLACE TEMP TABLE _hy_pairs AS SELECT DISTINCT r1, r2 FROM _hy_rule_pairs ORDER BY r1, r2")
    con.execute("DROP TABLE _hy_big; DROP TABLE _hy_caps")
    total = con.execute("SELECT count(*) FROM _hy_pairs").fetchall()[0][0]
    return {
        "max_block": max_block,
        "window": window,
        "rules": [
            {"rule": r.name, "description": r.description, "pairs": int(per_rule.get(r.name, 0)),
             "max_block": cap, "window": win,
             "capped_blocks": capped.get(r.name, (0, 0))[0],
             "capped_blocks_identities": capped.get(r.name, (0, 0))[1]}
            for r, (_i, _name, cap, win, _order) in zip(RULES, caps, strict=True)
        ],
        "candidate_pairs": int(total),
    }


def recall_ceiling(con: duckdb.DuckDBPyConnection, truth: pd.DataFrame, table: str = "identity_index") -> dict:
    """Share of true pairs (``patient_id_1``, ``patient_id_2``) present in ``_hy_rule_pairs``,
    per rule and overall: the best recall any scoring could reach."""
    con.register("_hy_truth_df", truth[["patient_id_1", "patient_id_2"]])
    rows = con.execute(f"""
        WITH t AS (
            SELECT least(a.rid, b.rid) AS r1, greatest(a.rid, b.rid) AS r2
            FROM _hy_truth_df t JOIN {table} a ON a.patient_id = t.patient_id_1
            JOIN {table} b ON b.patient_id = t.patient_id_2
        )
        SELECT coalesce(p.rule, '(all rules)') AS rule, count(DISTINCT (t.r1, t.r2)) AS found,
               (SELECT count(*) FROM t) AS total
        FROM t JOIN _hy_rule_pairs p USING (r1, r2) GROUP BY ROLLUP (p.rule)
    """).fetchall()  # noqa: S608 - internal identifiers only
    con.unregister("_hy_truth_df")
    return {rule: (found / total if total else 1.0) for rule, found, total in rows}
