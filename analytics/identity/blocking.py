"""Blocking: which pairs of identities are worth comparing.

Several rules, each an equality on a key computed in DuckDB, are unioned into one
deduplicated candidate-pair table ``_hy_pairs(r1, r2)`` (integer ``rid`` of identity_index,
``r1 < r2``). Keys shared by more than ``max_block`` identities (a switchboard phone number,
MARTIN JEAN...) are skipped and counted in the report: they would add many pairs and little
recall, and the other rules still see those identities.

Names are used both ways (birth name and usage name) so that swapped or mixed names block.

The cap bounds the pairs per identity, not their growth with the index: a key shared by 3
identities at 100k patients is shared by ~30 at 1M, so a loose key's pairs grow with the
square of the index size. Every key therefore carries at least two of the three birth-date
parts (or a near-unique trait: INS, phone, e-mail + year); a typo in one date part is caught
by the rules keyed on the other two. The one looser key (phonetic names + birth year) yields
pairs only where one date is a possible 01/01 default, whose day and month mean nothing.
Measured at 1M patients: 1.67M candidate pairs instead of 11M, recall ceiling unchanged.
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
    BlockingRule("names_year_month", "name + first name + birth year and month (typo in the day)",
                 ("{name}", "fn1", "year(birth_date)", "month(birth_date)"), names=True),
    BlockingRule("names_year_day", "name + first name + birth year and day (typo in the month)",
                 ("{name}", "fn1", "year(birth_date)", "day(birth_date)"), names=True),
    BlockingRule("ins", "INS matricule", ("ins",)),
    BlockingRule("phone", "phone number (E.164)", ("phone",)),
    BlockingRule("email_year", "e-mail address + birth year", ("email", "year(birth_date)")),
    BlockingRule("email_month_day", "e-mail address + birth month and day",
                 ("email", "month(birth_date)", "day(birth_date)")),
    BlockingRule("date_postcode_first2",
                 "birth date + postcode + first 2 letters of the first name (names changed)",
                 ("birth_date", "postcode", "left(fn1, 2)")),
)

_NAME_VARIANTS = (("bn_np", "bn_sdx"), ("un_np", "un_sdx"))


def _key_selects(table: str, where: str = "TRUE", portable: bool = False) -> list[tuple[str, str]]:
    """One SELECT (rid, k) per rule and name variant. ``portable``: k is the low 64 bits of the
    MD5 of the '|'-joined key values, which :func:`python_key_hashes` reproduces in Python."""
    selects = []
    for i, rule in enumerate(RULES):
        variants = _NAME_VARIANTS if rule.names else ((None, None),)
        for name, sdx in variants:
            exprs = [k.format(name=name, sdx=sdx) for k in rule.keys]
            not_null = " AND ".join(f"({e}) IS NOT NULL" for e in exprs)
            key = (f"md5_number_lower(concat_ws('|', {i}, {', '.join(exprs)}))" if portable
                   else f"hash({i}, {', '.join(exprs)})")
            flag = "" if portable else ", bd_default AS d"
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
    new_from_rid: int | None = None,
) -> dict:
    """Fill temp table ``_hy_pairs(r1, r2)``; return the blocking report.

    With ``new_from_rid``, only pairs involving an identity whose rid is at least that value
    are produced (incremental matching); block sizes still count every identity.
    """
    union = " UNION ALL ".join(f"SELECT '{name}' AS rule, * FROM ({sql})" for name, sql in _key_selects(table))  # noqa: S608 - internal identifiers only
    con.execute(f"CREATE OR REPLACE TEMP TABLE _hy_keys AS SELECT DISTINCT rule, rid, k, coalesce(d, FALSE) AS d FROM ({union})")  # noqa: S608 - internal identifiers only
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _hy_blocks AS
        SELECT k, count(*) AS n FROM _hy_keys GROUP BY k HAVING count(*) > 1
    """)  # (rid, k) is unique in _hy_keys (the rule's index is hashed into k): no count(DISTINCT)
    skipped = con.execute(
        "SELECT rule, count(*), count(*) FROM _hy_keys JOIN _hy_blocks b USING (k) "
        "WHERE b.n > ? GROUP BY rule", [max_block]).fetchall()
    new_filter = "" if new_from_rid is None else f"AND b.rid >= {int(new_from_rid)}"
    default_rules = ", ".join(f"'{r.name}'" for r in RULES if r.default_date_only) or "''"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _hy_rule_pairs AS
        WITH good AS (
            SELECT q.rule, q.rid, q.k, q.d FROM _hy_keys q JOIN _hy_blocks USING (k) WHERE n <= {int(max_block)}
        )
        SELECT DISTINCT a.rule, a.rid AS r1, b.rid AS r2
        FROM good a JOIN good b ON a.k = b.k AND a.rid < b.rid {new_filter}
        WHERE a.rule NOT IN ({default_rules}) OR a.d OR b.d
    """)  # noqa: S608 - internal identifiers only
    per_rule = dict(con.execute("SELECT rule, count(*) FROM _hy_rule_pairs GROUP BY rule").fetchall())
    con.execute("CREATE OR REPLACE TEMP TABLE _hy_pairs AS SELECT DISTINCT r1, r2 FROM _hy_rule_pairs ORDER BY r1, r2")
    total = con.execute("SELECT count(*) FROM _hy_pairs").fetchone()[0]
    return {
        "max_block": max_block,
        "rules": [
            {"rule": r.name, "description": r.description, "pairs": int(per_rule.get(r.name, 0)),
             "skipped_blocks_identities": int(next((s[2] for s in skipped if s[0] == r.name), 0) or 0)}
            for r in RULES
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
