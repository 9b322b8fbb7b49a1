"""Identity safety (RNIV): identity attributes and automatic-merge eligibility.

* ``patients.identity_attributes``: the identity's RNIV / PAM France attribute codes,
  space-separated (DOUT douteuse, FICT fictive, HOMD homonyme détecté, HOMA homonyme avéré...).
* ``identity_index.attributes``: the same codes, normalised, for matching.
* ``match_pairs.auto_merge``: whether the pair may be merged without a person checking it
  (strict traits equal up to formatting, no guard fired); every other ``match`` needs a
  reviewer's "same person" before the merge job uses it.
"""

import duckdb

SQL = """
ALTER TABLE patients ADD COLUMN identity_attributes VARCHAR;
ALTER TABLE identity_index ADD COLUMN attributes VARCHAR;
ALTER TABLE match_pairs ADD COLUMN auto_merge BOOLEAN;
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SQL)
