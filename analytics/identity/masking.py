"""What a role without identity access sees of a patient's identity: comparison levels, not values.

An analyst works on duplicates as a data-quality question (how many, which fields disagree, how
the score is built) and needs no name, birth date, birth place, INS, phone, e-mail or address:
:func:`mask_identities` empties those values in what the identity engine returns (review queue,
pair explanations, search results) unless the actor holds ``VIEW_IDENTITIES`` (admin, manager,
identitovigilance). Patient ids, scores, decisions, services, statuses and the per-field
comparison levels stay. Applied where results leave the engine, so that every caller — the
duplicates page, a script — gets the same view. Cleanup jobs' change rows (the before/after
JSON of a preview or a run) are masked the same way by :func:`mask_change_values`: an analyst
may preview a merge or a normalisation and sees which fields change, not their values; so are
the raw values an import kept for an identity column (``importing.import_findings``).
"""

from __future__ import annotations

import json
import re

import pandas as pd

from analytics.access.roles import Actor, Permission, allowed

__all__ = ["IDENTITY_FIELDS", "MASKED", "is_identity_field", "mask_change_values", "mask_identities",
           "may_see_identities"]

#: Identity values (with ``_1``/``_2`` sides) a role without VIEW_IDENTITIES never receives.
IDENTITY_FIELDS = frozenset({
    "birth_name", "used_name", "first_names", "used_first_name", "first_name", "birth_date",
    "birth_place", "birth_place_code", "ins", "phone", "email", "address", "postcode", "city",
})
#: Fields of an explanation whose left/right values stay visible (not an identity on their own).
_SHOWN_FIELDS = frozenset({"sex", "prior", "total"})
#: What replaces an identity value in a job's change rows (the field stays: it shows what changes).
MASKED = "***"
_SIDE = re.compile(r"^(?P<base>.+?)(?:_1|_2|_left|_right)$")


def may_see_identities(actor: Actor) -> bool:
    """Whether ``actor``'s role sees identities (names, birth date and place, INS, contacts)."""
    return allowed(actor, Permission.VIEW_IDENTITIES)


def is_identity_field(column: str) -> bool:
    """Whether ``column`` (``birth_name``, ``phone_2``, ``ins_left``...) holds an identity value."""
    side = _SIDE.match(column)
    return column in IDENTITY_FIELDS or bool(side and side["base"] in IDENTITY_FIELDS)


def _masked_entries(entries: object) -> object:
    if not isinstance(entries, list):
        return entries
    return [{**e, "left": None, "right": None} if isinstance(e, dict) and e.get("field") not in _SHOWN_FIELDS
            else e for e in entries]


def mask_identities(frame: pd.DataFrame, actor: Actor) -> pd.DataFrame:
    """``frame`` as ``actor`` may see it: identity values emptied unless the role sees identities.

    Handles the three shapes the engine returns: side-by-side pairs (``birth_name_1``...),
    explanations (``field``/``left``/``right`` rows) and search results (identity columns plus
    an ``explanation`` list per row). Levels, weights, ids and scores are kept.
    """
    if may_see_identities(actor):
        return frame
    out = frame.copy()
    for column in out.columns:
        if is_identity_field(str(column)):
            out[column] = out[column].where(pd.Series(False, index=out.index))  # NaN/NaT, dtype kept
    if {"field", "left", "right"} <= set(out.columns):
        hidden = ~out["field"].isin(_SHOWN_FIELDS)
        out["left"] = out["left"].astype(object).where(~hidden, None)
        out["right"] = out["right"].astype(object).where(~hidden, None)
    if "explanation" in out.columns:
        out["explanation"] = [_masked_entries(e) for e in out["explanation"]]
    out.attrs.update(frame.attrs)
    return out


def _masked_json(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        data = json.loads(value)
    except ValueError:
        return value
    if not isinstance(data, dict):
        return value
    masked = {k: MASKED if is_identity_field(str(k)) and v is not None else v for k, v in data.items()}
    return json.dumps(masked, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def mask_change_values(frame: pd.DataFrame, actor: Actor) -> pd.DataFrame:
    """Job change rows (``before``/``after`` JSON objects) as ``actor`` may see them: the value of
    every identity field replaced by :data:`MASKED` unless the role sees identities. The table,
    operation, key (a patient id), the names of the changed fields and other values stay."""
    if may_see_identities(actor):
        return frame
    out = frame.copy()
    for column in ("before", "after"):
        if column in out.columns:
            out[column] = [_masked_json(v) for v in out[column]]
    out.attrs.update(frame.attrs)
    return out
