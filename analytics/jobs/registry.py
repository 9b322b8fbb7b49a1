"""The registry of cleanup jobs and the change set they compute.

A job is a documented function ``fn(ctx, params) -> ChangeSet`` registered under a unique
name with :func:`job`; its parameters are a frozen dataclass whose typed fields (with
defaults) are what ``hygie jobs list`` shows and ``--param KEY=VALUE`` fills. A job never
writes: it reads the warehouse and returns the rows to change (before → after) and the
files to produce; the engine stores that as a preview and applies exactly it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import duckdb

from analytics.access.roles import Actor
from analytics.errors import InvalidInput, JobError

__all__ = [
    "Change",
    "ChangeSet",
    "JobContext",
    "JobSpec",
    "Output",
    "ParamSpec",
    "canonical_json",
    "get_job",
    "job",
    "list_jobs",
    "parse_params",
]

#: Tables a job may change, with their key columns (an allow-list: identifiers interpolated
#: into SQL come only from here and from ``information_schema``).
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "patients": ("patient_id",),
    "documents": ("document_id",),
    "audit_events": ("event_id",),
    "staff": ("user_id",),
    "document_routing": ("routing_id",),
    # only purge-expired touches it: it deletes the oldest rows, then re-anchors the keyed chain
    "access_log": ("log_id",),
}


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot store a {type(value).__name__} in the change log")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal values give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


@dataclass(frozen=True)
class Change:
    """One row to change. ``before``/``after`` hold the changed columns only for an update,
    the whole row after an insert, the whole row before a delete."""

    table: str
    key: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    origin: str | None = None

    @property
    def op(self) -> str:
        if self.before is None:
            return "insert"
        if self.after is None:
            return "delete"
        return "update"

    @property
    def cols(self) -> str:
        values = self.after if self.after is not None else self.before
        return ",".join(sorted(values or {}))


@dataclass(frozen=True)
class Output:
    """A file the job produces on apply (FHIR bundle, HL7 messages, CSV worklist, extract)."""

    name: str
    content: bytes


@dataclass
class ChangeSet:
    """What a job would do: rows to change, files to write, counts and notes for the user."""

    changes: list[Change] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class JobContext:
    """What a job function gets besides its parameters."""

    con: duckdb.DuckDBPyConnection
    actor: Actor
    now: dt.datetime

    def rows(self, sql: str, params: Iterable[Any] | dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a query and return its rows as dicts."""
        cur = self.con.execute(sql, params if params is not None else [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@dataclass(frozen=True)
class ParamSpec:
    """A job parameter as the CLI and the pages show it.

    Besides its type, a parameter may declare in its field's metadata the values it takes
    (``choices``), that it is a comma list of them (``multiple``, order kept: survivorship is
    an order), its bounds (``min``, ``max``) and a text's ``shape`` (``month``: YYYY-MM); the
    jobs page builds its widget from these.
    """

    name: str
    type_name: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    multiple: bool = False
    minimum: float | None = None
    maximum: float | None = None
    shape: str = ""


@dataclass(frozen=True)
class JobSpec:
    """A registered job."""

    name: str
    fn: Callable[[JobContext, Any], ChangeSet]
    params_type: type
    reads: tuple[str, ...]
    undo_removes_outputs: bool
    undoable: bool
    #: called with the connection and the preview id inside the apply's transaction, after the changes and before
    #: the commit (not on undo): a failure rolls the apply back
    before_commit: Callable[[duckdb.DuckDBPyConnection, str], None] | None = None

    @property
    def summary(self) -> str:
        """First line of the job's docstring."""
        return (self.fn.__doc__ or "").strip().splitlines()[0] if self.fn.__doc__ else ""

    @property
    def doc(self) -> str:
        return (self.fn.__doc__ or "").strip()

    def params(self) -> list[ParamSpec]:
        hints = typing.get_type_hints(self.params_type)
        out = []
        for f in dataclasses.fields(self.params_type):
            default = f.default if f.default is not dataclasses.MISSING else None
            meta = f.metadata
            out.append(ParamSpec(f.name, _type_name(hints[f.name]), default, meta.get("help", ""),
                                 tuple(meta.get("choices", ())), bool(meta.get("multiple", False)),
                                 meta.get("min"), meta.get("max"), meta.get("shape", "")))
        return out


_REGISTRY: dict[str, JobSpec] = {}

#: Analyses a schedule may run besides cleanup jobs (e.g. nightly duplicate detection): they
#: refresh derived tables through their own module, so they have no preview and no undo.
#: name -> (module, function), called as ``function(con, actor=actor)``.
TASKS: dict[str, tuple[str, str]] = {
    "detect-duplicates": ("analytics.identity", "find_duplicates"),
    "detect-duplicate-documents": ("analytics.documents", "find_duplicate_documents"),
    # the time-sinks tables rebuilt with the latest settings when the data changed since
    "recompute-time-sinks": ("analytics.timesinks", "ensure_precomputed"),
}


def job(
    name: str,
    *,
    params: type,
    reads: tuple[str, ...],
    undo_removes_outputs: bool = False,
    undoable: bool = True,
    before_commit: Callable[[duckdb.DuckDBPyConnection, str], None] | None = None,
) -> Callable[[Callable[[JobContext, Any], ChangeSet]], Callable[[JobContext, Any], ChangeSet]]:
    """Register a job under ``name``. ``reads`` are the tables whose contents form the
    preview's fingerprint: if any of them changes before the apply, the apply is refused.
    ``before_commit(con, preview_id)`` runs in the apply's transaction once its changes are made."""

    if not dataclasses.is_dataclass(params):
        raise TypeError(f"job {name}: params must be a dataclass")

    def decorate(fn: Callable[[JobContext, Any], ChangeSet]) -> Callable[[JobContext, Any], ChangeSet]:
        if name in _REGISTRY and _REGISTRY[name].fn is not fn:
            raise ValueError(f"job name '{name}' is already registered")
        if not fn.__doc__:
            raise TypeError(f"job {name}: a job must have a docstring")
        _REGISTRY[name] = JobSpec(name, fn, params, reads, undo_removes_outputs, undoable, before_commit)
        return fn

    return decorate


def _load_builtin_jobs() -> None:
    # Importing the job modules registers them.
    from analytics.jobs import (  # noqa: F401
        archive_duplicate_documents,
        merge_identities,
        monthly_report,
        normalise_identities,
        pseudonymised_extract,
        purge_expired,
        route_unsigned_documents,
        unmerge_identity,
    )


def list_jobs() -> list[JobSpec]:
    """Every registered job, by name."""
    _load_builtin_jobs()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def get_job(name: str) -> JobSpec:
    """The job registered under ``name``; :class:`JobError` naming the known ones otherwise."""
    _load_builtin_jobs()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise JobError("job.unknown", job=name, known=", ".join(sorted(_REGISTRY))) from None


def _type_name(tp: Any) -> str:
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return " | ".join(_type_name(a) for a in inner) + " | None"
    if typing.get_origin(tp) is typing.Literal:
        return "|".join(str(a) for a in args)
    return getattr(tp, "__name__", str(tp))


def _convert(job_name: str, name: str, tp: Any, raw: Any) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("", "none", "null")):
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(job_name, name, inner[0], raw)
    if origin is typing.Literal:
        if raw not in args:
            raise InvalidInput("param.not_one_of", job=job_name, name=name, value=repr(raw),
                               allowed=", ".join(map(str, args)))
        return raw
    try:
        if tp is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on", "oui"):
                return True
            if text in ("0", "false", "no", "off", "non"):
                return False
            raise ValueError(raw)
        if tp is int:
            if isinstance(raw, bool):
                raise ValueError(raw)
            return int(raw)
        if tp is float:
            return float(raw)
        if tp is str:
            return str(raw)
        if tp is dt.date:
            return raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
    except (TypeError, ValueError):
        raise InvalidInput("param.invalid", job=job_name, name=name, value=repr(raw), type=_type_name(tp)) from None
    raise InvalidInput(f"job {job_name}: parameter {name} has an unsupported type {tp!r}")


def parse_params(spec: JobSpec, raw: dict[str, Any] | None) -> Any:
    """Build the job's parameter dataclass from strings (CLI) or typed values (dashboard).

    Unknown names and bad values raise :class:`InvalidInput` naming the job and parameter.
    """
    raw = dict(raw or {})
    hints = typing.get_type_hints(spec.params_type)
    names = {f.name for f in dataclasses.fields(spec.params_type)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise InvalidInput("param.unknown", job=spec.name, name=unknown[0], known=", ".join(sorted(names)) or "none")
    values = {k: _convert(spec.name, k, hints[k], v) for k, v in raw.items()}
    try:
        params = spec.params_type(**values)
    except TypeError as exc:
        raise InvalidInput(f"job {spec.name}: {exc}") from None
    check = getattr(params, "validate", None)
    if check is not None:
        check()
    return params


def params_to_json(params: Any) -> str:
    """The parameters as canonical JSON (stored with previews, runs and schedules)."""
    return canonical_json(dataclasses.asdict(params))
