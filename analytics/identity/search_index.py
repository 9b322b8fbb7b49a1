"""In-process search index: what search-before-create needs, kept in memory once built.

A DuckDB scan of a million-row index per keystroke is too slow for the identity desk, so the
first search after a matching run loads the identity index, the originals shown in results,
the blocking keys (DuckDB ``hash`` of the same rules as :mod:`blocking`, sorted for binary
search) and the term frequencies. Later searches only normalise the typed traits (one SQL
statement), look their keys up with ``numpy.searchsorted`` and score a few hundred candidates.
The cache is keyed by database file, latest matching run and index size: a full run rebuilds
it; identities matched on arrival (incremental runs, which only append rows) are loaded and
merged alone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from analytics.identity.blocking import _key_selects
from analytics.identity.normalise import INDEX_COLUMNS

__all__ = ["SearchIndex", "get_search_index"]

_ORIGINALS = ("birth_name", "used_name", "first_names", "birth_date", "sex", "birth_place_code")
_TF_COLUMNS = {"birth_name": "bn_np", "first_name": "fn1", "phone": "phone", "address": "address"}


@dataclass
class SearchIndex:
    key: tuple
    rows: pd.DataFrame            # INDEX_COLUMNS, ordered by rid (position = row number)
    originals: pd.DataFrame       # patient values shown in results, same order
    keys: np.ndarray              # sorted blocking-key hashes
    key_pos: np.ndarray           # row position of each key
    tf_counts: dict[str, pd.Series]
    tf_total: dict[str, int]
    model: object                 # analytics.identity.model.Model of the latest run
    thresholds: tuple[float, float]
    name_keys: tuple[np.ndarray, np.ndarray] | None = None  # sorted name+first-name hashes, row positions
    table: pa.Table | None = None           # ``rows`` in Arrow: taking a few rows is ~100× faster
    originals_table: pa.Table | None = None  # ``originals`` in Arrow, same order
    _tf_maps: dict[str, dict[object, int]] | None = None

    def __post_init__(self) -> None:
        if self.table is None:
            self.table = pa.Table.from_pandas(self.rows, preserve_index=False)
        if self.originals_table is None:
            self.originals_table = pa.Table.from_pandas(self.originals, preserve_index=False)

    def candidates(self, hashes: np.ndarray, limit: int) -> np.ndarray:
        """Row positions sharing at least one key with the query, most shared keys first."""
        lo = np.searchsorted(self.keys, hashes, side="left")
        hi = np.searchsorted(self.keys, hashes, side="right")
        hits = np.concatenate([self.key_pos[a:b] for a, b in zip(lo, hi, strict=True)]) if len(hashes) else []
        if len(hits) == 0:
            return np.zeros(0, dtype=np.int64)
        pos, counts = np.unique(hits, return_counts=True)
        return pos[np.argsort(-counts, kind="stable")[:limit]]

    def with_names(self, found: np.ndarray, query: dict, limit: int) -> np.ndarray:
        """``found`` plus, for a query without a birth date (the blocking keys all need one),
        the rows whose name (birth or used) and first first name agree with the query's,
        exactly or by Soundex2-FR. The name keys are built on the first such search."""
        if query.get("birth_date") is not None or not query.get("fn1"):
            return found
        if self.name_keys is None:
            with _LOCK:
                if self.name_keys is None:
                    self.name_keys = _name_keys(self.rows)
        hashes, positions = self.name_keys
        wanted = _hash([f"{kind}|{query[n]}|{query[f]}" for kind, n, f in _NAME_PAIRS
                        if query.get(n) and query.get(f)])
        lo = np.searchsorted(hashes, wanted, side="left")
        hi = np.searchsorted(hashes, wanted, side="right")
        hits = [positions[a:b] for a, b in zip(lo, hi, strict=True)]
        extra = np.unique(np.concatenate(hits)) if hits else np.zeros(0, dtype=np.int64)
        extra = extra[~np.isin(extra, found)]
        return np.concatenate([found, extra[: max(limit - len(found), 0)]]).astype(np.int64)

    def tf(self, field: str, values: pd.Series) -> np.ndarray:
        """Each value's share of the index (a value absent from it counts once; NaN when missing)."""
        if self._tf_maps is None:
            self._tf_maps = {f: counts.to_dict() for f, counts in self.tf_counts.items()}
        counts, total = self._tf_maps[field], max(self.tf_total[field], 1)
        return np.array([np.nan if pd.isna(v) else counts.get(v, 1) / total for v in values], dtype=float)


#: (kind, name column, first-name column): a name, birth or used, with the first first name.
_NAME_PAIRS = (("n", "bn_np", "fn1"), ("n", "un_np", "fn1"), ("s", "bn_sdx", "fn_sdx"), ("s", "un_sdx", "fn_sdx"))


def _hash(texts: list[str]) -> np.ndarray:
    return pd.util.hash_array(np.asarray(texts, dtype=object)) if texts else np.zeros(0, dtype=np.uint64)


def _name_keys(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    hashes, positions = [], []
    for kind, name, first in _NAME_PAIRS:
        ok = (rows[name].notna() & rows[first].notna()).to_numpy()
        text = (kind + "|" + rows[name][ok].astype(str) + "|" + rows[first][ok].astype(str)).to_numpy(dtype=object)
        hashes.append(_hash(list(text)))
        positions.append(np.flatnonzero(ok))
    h, pos = np.concatenate(hashes), np.concatenate(positions)
    order = np.argsort(h, kind="stable")
    return h[order], pos[order]


_CACHE: dict[str, SearchIndex] = {}
_LOCK = threading.Lock()


def _cache_key(con: duckdb.DuckDBPyConnection) -> tuple:
    path, run, count, top = con.execute("""
        SELECT (SELECT coalesce(path, database_name) FROM duckdb_databases()
                WHERE database_name = current_database()),
               (SELECT max(started_at::VARCHAR || match_run_id) FROM match_runs),
               count(*), max(rid)
        FROM identity_index""").fetchall()[0]
    return (str(path), run, int(count), top)


def _load(con: duckdb.DuckDBPyConnection, after_rid: int | None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Index rows, their originals and their blocking keys (all, or those of rids after one)."""
    where = "rid >= 0" if after_rid is None else f"rid > {int(after_rid)}"
    rows = con.execute(f"SELECT {', '.join(INDEX_COLUMNS)} FROM identity_index WHERE {where} "  # noqa: S608
                       "ORDER BY rid").df()
    originals = con.execute(
        f"SELECT {', '.join('p.' + c for c in _ORIGINALS)} FROM identity_index i "  # noqa: S608
        f"JOIN patients p USING (patient_id) WHERE i.{where} ORDER BY i.rid").df()
    union = " UNION ALL ".join(sql for _name, sql in _key_selects("identity_index", where=where, portable=True))
    k = con.execute(f"SELECT DISTINCT rid, k FROM ({union}) ORDER BY k").fetchnumpy()  # noqa: S608
    return rows, originals, k


def _only_appended(con: duckdb.DuckDBPyConnection, cached: SearchIndex, key: tuple) -> bool:
    """Whether the index only gained rows since ``cached`` (incremental runs: new identities on
    arrival), so that loading the rows after its last rid brings it up to date."""
    if cached.key[0] != key[0] or cached.key[3] is None or key[3] is None or key[3] <= cached.key[3]:
        return False
    later_full_runs = con.execute(
        "SELECT count(*) FROM match_runs WHERE started_at::VARCHAR || match_run_id > ? AND kind <> 'incremental'",
        [cached.key[1] or ""]).fetchone()[0]
    return later_full_runs == 0


def _extend(con: duckdb.DuckDBPyConnection, cached: SearchIndex, key: tuple) -> SearchIndex | None:
    """``cached`` plus the rows after its last rid, or None when that does not give ``key``."""
    from analytics.identity.explain import latest_thresholds
    from analytics.identity.model import default_model
    from analytics.identity.run import latest_model

    rows, originals, k = _load(con, cached.key[3])
    if cached.key[2] + len(rows) != key[2]:  # rows were also removed: rebuild
        return None
    all_rows = pd.concat([cached.rows, rows], ignore_index=True)
    new_pos = np.searchsorted(rows["rid"].to_numpy(dtype=np.int64), np.asarray(k["rid"], dtype=np.int64))
    keys = np.concatenate([cached.keys, np.asarray(k["k"], dtype=np.uint64)])
    key_pos = np.concatenate([cached.key_pos, new_pos + len(cached.rows)])
    order = np.argsort(keys, kind="stable")
    tf_counts = {f: cached.tf_counts[f].add(rows[c].value_counts(), fill_value=0).astype(np.int64)
                 for f, c in _TF_COLUMNS.items()}
    tf_total = {f: cached.tf_total[f] + int(rows[c].notna().sum()) for f, c in _TF_COLUMNS.items()}
    return SearchIndex(
        key=key, rows=all_rows, originals=pd.concat([cached.originals, originals], ignore_index=True),
        keys=keys[order], key_pos=key_pos[order], tf_counts=tf_counts, tf_total=tf_total,
        model=latest_model(con) or default_model(), thresholds=latest_thresholds(con),
        table=pa.concat_tables([cached.table, pa.Table.from_pandas(rows, preserve_index=False)],
                               promote_options="permissive"),
        originals_table=pa.concat_tables([cached.originals_table,
                                          pa.Table.from_pandas(originals, preserve_index=False)],
                                         promote_options="permissive"),
    )


def get_search_index(con: duckdb.DuckDBPyConnection) -> SearchIndex:
    """The cached search index for this warehouse: rebuilt when a full matching run has run
    since, extended with the new rows only when incremental runs (identities matched on
    arrival) have (a few hundred rows instead of a million)."""
    key = _cache_key(con)
    with _LOCK:
        cached = _CACHE.get(key[0])
        if cached is not None and cached.key == key:
            return cached
        if cached is not None and _only_appended(con, cached, key):
            extended = _extend(con, cached, key)
            if extended is not None:
                _CACHE[key[0]] = extended
                return extended
        from analytics.identity.explain import latest_thresholds
        from analytics.identity.model import default_model
        from analytics.identity.run import latest_model

        rows, originals, k = _load(con, None)
        rid = rows["rid"].to_numpy(dtype=np.int64)
        tf_counts = {f: rows[c].value_counts() for f, c in _TF_COLUMNS.items()}
        tf_total = {f: int(rows[c].notna().sum()) for f, c in _TF_COLUMNS.items()}
        index = SearchIndex(
            key=key, rows=rows, originals=originals,
            keys=np.asarray(k["k"], dtype=np.uint64),
            key_pos=np.searchsorted(rid, np.asarray(k["rid"], dtype=np.int64)),
            tf_counts=tf_counts, tf_total=tf_total,
            model=latest_model(con) or default_model(), thresholds=latest_thresholds(con),
        )
        _CACHE[key[0]] = index
        return index
