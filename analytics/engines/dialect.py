"""One SQL definition, two dialects: Hygie's DuckDB SQL transpiled to Spark SQL with SQLGlot.

The pipelines are written once, in DuckDB's dialect (the default engine runs them as they
are). For Spark, SQLGlot parses them and writes Spark SQL, as Splink does for its backends;
:func:`to_spark` adds the few rewrites SQLGlot does not make (or makes for another meaning):

* ``epoch_us(t)`` → ``unix_micros(t)``; ``epoch(t)`` → ``unix_micros(t) / 1e6`` (SQLGlot's
  ``unix_timestamp`` drops the fraction of a second); ``to_timestamp(s)`` →
  ``timestamp_seconds(s)`` (SQLGlot's ``from_unixtime`` formats to whole seconds);
* ``isodow(d)`` → ``weekday(d) + 1`` (Monday 1 … Sunday 7);
* ``hash(…)`` → ``xxhash64(…)``: 64-bit on both engines (Spark's ``hash`` is 32-bit). Hash
  values differ between engines, so the pipelines use them only as join or grouping keys
  computed on one engine, never to order rows;
* ``list(x ORDER BY …)`` → ``array_sort(collect_list(x))`` (the definitions order by the
  first field of a struct, which ``array_sort`` compares first);
* ``list_sum(l)`` → ``aggregate(l, 0L, …)``, ``list_slice(l, a, b)`` → ``slice(l, a, b - a + 1)``;
* a window call inside arithmetic is parenthesised (Spark reads ``lead(t) OVER w - t`` as a
  window named ``w-t``);
* ``$name`` parameters become literals (Spark SQL has no bound parameters for these
  statements): numbers, strings, booleans, ``datetime.timedelta`` (an interval in seconds),
  ``datetime.time`` (the same, from midnight).

DuckDB's ``TIMESTAMP`` is naive local time and ``TIMESTAMPTZ`` an instant; SQLGlot writes them
as Spark's ``TIMESTAMP_NTZ`` and ``TIMESTAMP`` (an instant shown in the session time zone), so
the Spark session must use the same time zone as DuckDB's (``spark.sql.session.timeZone``,
set by :func:`analytics.engines.spark_session.build_session`).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping

__all__ = ["render_params", "to_spark"]

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.timedelta):
        return f"INTERVAL '{int(value.total_seconds())}' SECOND"
    if isinstance(value, dt.time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return f"INTERVAL '{seconds}' SECOND"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"SQL parameter of type {type(value).__name__} cannot be written as a literal")


def render_params(sql: str, params: Mapping[str, object] | None) -> str:
    """``sql`` with every ``$name`` replaced by the literal of ``params[name]``."""
    if not params:
        return sql

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise KeyError(f"SQL parameter ${name} has no value")
        return _literal(params[name])

    return _PARAM.sub(one, sql)


@functools.lru_cache(maxsize=256)
def _transpile(sql: str) -> str:
    import sqlglot
    from sqlglot import exp

    def rewrite(node: exp.Expression) -> exp.Expression:
        new = rewrite_one(node)
        # SQLGlot does not visit a replaced node's children: rewrite them too
        return node if new is node else new.transform(rewrite, copy=False)

    def rewrite_one(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Window) and isinstance(node.parent, exp.Binary):
            # Spark reads "lead(t) OVER w - t" as a window named "w-t"
            return exp.Paren(this=node.copy())
        if isinstance(node, exp.TimeToUnix):  # duckdb epoch(t): seconds with their fraction
            return exp.Div(this=exp.func("unix_micros", node.this), expression=exp.Literal.number("1e6"))
        if isinstance(node, exp.UnixToTime):
            return exp.func("timestamp_seconds", node.this)
        if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
            return exp.func("array_sort", exp.func("collect_list", node.this.this))
        if isinstance(node, exp.DayOfWeekIso):
            return exp.Add(this=exp.func("weekday", node.this), expression=exp.Literal.number(1))
        if isinstance(node, exp.Anonymous | exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            args = node.expressions if isinstance(node, exp.Anonymous) else None
            if name == "epoch_us":
                return exp.func("unix_micros", *args)
            if name == "hash" and args is not None:
                return exp.func("xxhash64", *args)
            if name == "list_sum":
                return exp.func(
                    "aggregate", args[0], exp.Literal.number("0L").copy(),
                    exp.Lambda(
                        this=exp.Add(this=exp.column("acc"), expression=exp.column("v")),
                        expressions=[exp.to_identifier("acc"), exp.to_identifier("v")],
                    ),
                )
            if name == "list_slice":
                start, end = args[1], args[2]
                length = exp.Add(this=exp.Sub(this=end, expression=start.copy()), expression=exp.Literal.number(1))
                return exp.func("slice", args[0], start, length)
        return node

    tree = sqlglot.parse_one(sql, read="duckdb")
    return tree.transform(rewrite).sql(dialect="spark")


def to_spark(sql: str, params: Mapping[str, object] | None = None) -> str:
    """Spark SQL for one DuckDB statement (``$name`` parameters written as literals)."""
    return _transpile(render_params(sql, params))
