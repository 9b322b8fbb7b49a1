"""Coded messages: every sentence the engine shows a person, under a stable code.

The engine raises ``InvalidInput("hours.start_after_end", start="18:00", end="08:00")`` (see
:mod:`analytics.errors`) or writes a note with :func:`english`; both give the English sentence
of :data:`ENGLISH` for the CLI and the logs. The dashboard shows ``t("error.<code>", **params)``
from ``dashboard/i18n.py`` instead: from the exception's ``code`` and ``params`` when it has the
exception, and from :func:`decode` when only the stored English text is left (a job run's
message, a preview note, an import finding in ``data_quality_findings``). :func:`decode` is built
from the same templates, so a coded sentence always reads back to its code; a test requires a
French text for every code and that every code the engine uses is here.

A parameter named in :data:`NESTED` holds another coded sentence (a refusal inside a failure)
and is translated in turn. Parameters are plain values (text, whole numbers), formatted by the
caller the way a person reads them (``18:00``, not ``18:00:00``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping

__all__ = ["ENGLISH", "NESTED", "NESTED_LISTS", "coded", "decode", "english", "placeholders", "render", "translate"]

#: code -> English template (``str.format`` fields, the same names in the French text).
ENGLISH: dict[str, str] = {
    # --- jobs: outcomes and refusals ---------------------------------------------------------
    "job.failed": "job {job} failed and was rolled back (run {run}): {message}",
    "job.failed_run": "{error_class}: {message}",
    "job.unknown": "unknown job '{job}' (known: {known})",
    "preview.stale_data": "preview {preview} is stale: the data read by {job} changed since the preview; "
                          "preview again",
    "preview.stale_not_confirmed": "preview {preview} is stale: it is not the preview that was confirmed; "
                                   "preview again",
    "preview.stale": "preview {preview} is stale: {message}; preview again",
    "preview.of_undo": "preview {preview} belongs to an undo; it cannot be applied on its own",
    "preview.unknown": "unknown preview {preview}",
    "change.row_changed": "{table} {key} no longer holds the values it had",
    "change.row_exists": "{table} {key} already exists",
    "change.count_mismatch": "{table}: {done} row(s) matched {n} change(s)",
    "run.unknown": "unknown run {run}",
    "run.interrupted": "interrupted: the process stopped before the run finished; nothing was applied",
    "worker.stopped": "the job worker stopped while running this request; see `hygie jobs history` "
                      "(the run is shown as interrupted)",
    "request.apply_incomplete": "apply request: preview_id and fingerprint are required",
    "undo.analysis": "run {run} is an analysis ({job}), not a cleanup change; nothing to undo",
    "undo.of_undo": "run {run} is itself an undo (of run {of}); preview the job again instead",
    "undo.already": "run {run} was already undone by run {by}",
    "undo.not_succeeded": "run {run} did not succeed (status {status}); nothing to undo",
    "undo.not_undoable": "runs of {job} cannot be undone",
    "undo.later_run": "cannot undo run {run}: run {later} ({job}) changed the same rows later; undo it first",
    "undo.output_modified": "cannot undo run {run}: output file {path} was modified since the run",
    "undo.changed_outside": "cannot undo run {run}: {message} (changed after the run, outside the jobs)",
    "undo.done": "undo of run {run}",
    "undo.removed_files": "undo of run {run}; removed {n} file(s)",
    "undo.sent_kept": "undo of run {run}; files it sent are kept: {n}",
    "undo.sent_kept_compensated": "undo of run {run}; files it sent are kept: {n}; "
                                  "compensating messages written: {m}",
    # --- access ----------------------------------------------------------------------------------
    "access.denied": "{user} (role {role}) may not {action}",
    "access.aggregates_only": "{user} (role {role}) may export aggregate tables only; '{table}' holds "
                              "patient-level rows",
    "permission.view_aggregates": "view aggregates",
    "permission.view_patient_data": "view patient-level data",
    "permission.view_identities": "see patients' identities (names, birth date and place, INS, contact details)",
    "permission.export_pseudonymised": "export pseudonymised data",
    "permission.export_identified": "export identified (non-pseudonymised) data",
    "permission.review_pairs": "review duplicate pairs",
    "permission.job_preview": "preview cleanup jobs",
    "permission.job_apply": "apply or undo cleanup jobs",
    "permission.import_data": "import data",
    "permission.manage_users": "manage accounts",
    "permission.view_access_log": "read the access log",
    "permission.change_settings": "change settings",
    "permission.view_clinician_times": "view per-clinician time figures",
    "privacy.lower_k": "lower k below the setting privacy.k={k}",
    "privacy.choose_domain": "choose a pseudonym domain",
    "privacy.keep_staff": "keep clinicians' identifiers in an extract",
    "export.reason_required": "{table} holds per-clinician time figures: state the reason for exporting them "
                              "(purpose: organising work, not evaluating people)",
    # --- jobs: parameters ------------------------------------------------------------------------
    "param.unknown": "job {job}: unknown parameter {name} (known: {known})",
    "param.not_one_of": "job {job}: parameter {name}={value} must be one of {allowed}",
    "param.invalid": "job {job}: parameter {name}={value} is not a valid {type}",
    "param.required": "job {job}: parameter {name} is required",
    "param.kinds": "job archive-duplicate-documents: kinds={value}: use {allowed}",
    "param.survivorship": "job merge-identities: survivorship={value}: use a comma list of {allowed}",
    "param.auto_merge_threshold": "job merge-identities: auto_merge_threshold={value} must be between 0.95 "
                                  "and 1 (auto-merge needs a strict threshold)",
    "param.extract_tables": "job pseudonymised-extract: tables={value}: use {allowed}",
    "param.extract_k": "job pseudonymised-extract: k={k} must be at least 2",
    "param.extract_column": "job pseudonymised-extract: column {column} must be table.column with a table "
                            "in tables",
    "param.extract_no_column": "job pseudonymised-extract: {table} has no column {column}",
    "param.route_days": "job route-unsigned-documents: days={days} must be 0 or more",
    "param.purge_tables": "job purge-expired: tables={value}: use {allowed}",
    "extract.small_groups": "pseudonymised-extract refused: some combinations of {columns} are shared by "
                            "only {n} patient(s), fewer than k={k}; use on_small_groups=generalise, "
                            "birth_date=age_band or fewer columns",
    "extract.refused": "pseudonymised-extract refused: {message}",
    "unmerge.no_patient": "unmerge-identity: no patient {patient}",
    "unmerge.not_merged": "unmerge-identity: patient {patient} is not merged into another identity",
    "unmerge.no_merge_run": "unmerge-identity: patient {patient} was not merged by a merge-identities run "
                            "that is still in effect",
    "unmerge.not_that_run": "unmerge-identity: patient {patient} was not merged by a merge-identities run "
                            "{run} that is still in effect",
    "unmerge.changed": "cannot unmerge {patient}: {table} {key} changed since merge run {run}; undo the "
                       "later change first",
    "schedule.bad_cron": "schedule: '{cron}' is not a valid cron expression (e.g. '0 2 * * *' for 02:00 daily)",
    "schedule.no_params": "schedule: {job} takes no parameters",
    "schedule.unknown": "unknown schedule {schedule}",
    "schedule.owner_unknown": "schedule owner {user} is not an account of this warehouse",
    "schedule.owner_disabled": "schedule owner {user} is disabled",
    "report.bad_month": "report: month '{month}' is not of the form YYYY-MM (e.g. 2026-11)",
    "report.nothing": "monthly-report: nothing to report for {month}",
    "retention.not_whole": "setting retention.{table}_days={value} is not a whole number of days",
    "retention.out_of_bounds": "setting retention.{table}_days={days} must lie within {low}–{high} days",
    # --- jobs: preview notes ---------------------------------------------------------------------
    "note.phones_unchanged": "phone numbers left unchanged (not understood): {phones}",
    "note.no_duplicate_documents": "no duplicate documents found yet",
    "note.report_written": "report for {month}: {file}",
    "note.documents_missing": "documents not in the warehouse, ignored: {documents}",
    "note.pair_not_same": "pair {a}/{b} not merged: reviewers marked them as not the same person",
    "note.pair_unknown": "pair {a}/{b} names an unknown patient; skipped",
    "note.group_not_same": "group {group} skipped: reviewers marked {a} and {b} as not the same person",
    "note.group_inactive": "group {group} skipped: an identity is inactive without being merged",
    "note.group_not_qualified": "group {group} skipped by auto-merge: not every identity is QUAL or VALI",
    "note.no_match_run": "no match run yet: only reviewer-approved pairs considered",
    "note.unroutable": "no active author nor service head for: {documents}",
    "note.unmerge_from": "from merge run {run} (survivor {survivor})",
    "note.strict_not_filled": "{survivor}: {fields} not filled from {loser} ({loser_status}): a strict trait of a "
                              "{kept} identity comes only from a validated one",
    "note.retention": "{table}: kept {days} days, removing what is older than {day}",
    "note.access_log_purged": "access_log: removing log ids {first}–{last}, the last with hash {hash}",
    "note.access_log_anchored": "access_log: chain anchored at log_id {id}",
    "purge.no_anchor_row": "purge-expired: no access-log row would be left to anchor the chain at",
    # --- privacy: k-anonymity --------------------------------------------------------------------
    "kanon.refused": "k-anonymity: {file} cannot reach k={k} on {columns}: even generalised to the last rung "
                     "({tried}), {small} of {total} rows ({share}%) are in groups smaller than k, more than the "
                     "{max_share}% that may be suppressed; export fewer columns or rows, or ask an administrator",
    "kanon.enforced": "k-anonymity enforced: k={k}, smallest group {smallest} on the joined view",
    "kanon.generalised": "generalised: {step}",
    "kanon.suppressed": "suppressed {n} of {total} row(s) of {file} (groups smaller than k={k})",
    "kanon.dropped_unique": "dropped from {file} (unique per row): {columns}",
    "step.birth_year": "birth date → year",
    "step.birth_band": "birth date → {n}-year band",
    "step.postcode": "postcode → département",
    "step.time_date": "time stamps → date",
    "step.time_week": "time stamps → week",
    "step.time_month": "time stamps → month",
    "step.time_year": "time stamps → year",
    "step.time_dropped": "time stamps dropped",
    "step.free_text_dropped": "free text dropped",
    "step.column_dropped": "{column} dropped",
    # --- imports: value findings (data_quality_findings.problem) ---------------------------------
    "finding.not_loaded": "{message}; row not loaded",
    "finding.end_before_start": "end before start",
    "finding.bad_date": "not a valid date (expected dd/mm/yyyy or yyyy-mm-dd)",
    "finding.birth_date_range": "birth date outside 1880-01-01..today",
    "finding.bad_timestamp": "not a valid timestamp (expected dd/mm/yyyy HH:MM[:SS] or ISO 8601)",
    "finding.bad_sex": "unknown sex code (expected M/F/U, H, 1/2, homme/femme, inconnu)",
    "finding.bad_identity_status": "unknown identity status (expected PROV, RECUP, VALI or QUAL)",
    "finding.bad_activity": "unknown activity (expected documentation, chart_review, orders, inbox or other)",
    "finding.bad_doc_status": "unknown document status (expected draft, signed, sent or archived)",
    "finding.bad_bool": "not a yes/no value (expected oui/non, 1/0, true/false)",
    "finding.bad_birth_place": "not an INSEE place code (5 characters, e.g. 75056 or 2A004)",
    "finding.bad_postcode": "not a French postcode (5 digits)",
    "finding.bad_email": "not an e-mail address",
    "finding.ins_length": "malformed INS: {n} characters, expected 15 (13-character NIR + 2-digit key)",
    "finding.ins_not_nir": "malformed INS: not a NIR/NIA (sex digit, year, month, departement, commune, order, key)",
    "finding.ins_key": "malformed INS: key {found} does not match the expected {expected}",
    "finding.mojibake": "looks like mojibake (UTF-8 text read as Windows-1252); value kept as is",
    "finding.no_attribute_code": "no identity attribute code (expected codes such as DOUT, FICT, HOMD, HOMA)",
    "finding.unknown_attributes": "unknown identity attribute code(s) {codes} (known: {known}); value kept as is",
    "finding.ins_mismatch": "INS does not match the recorded {traits} (the NIR encodes sex, birth year and month, "
                            "birth place); value kept",
    "trait.sex": "sex",
    "trait.birth_year": "birth year",
    "trait.birth_month": "birth month",
    "trait.birth_place": "birth place",
    # --- imports: files refused (nothing loaded) -------------------------------------------------
    "import.at_line": "{file}: line {line}: {message}",
    "import.somewhere": "{file}: somewhere in the file: {message}",
    "import.empty": "the file is empty (no header, no rows)",
    "import.empty_fhir": "the file is empty (no resources)",
    "import.no_rows": "the file has a header but no data rows",
    "import.required_empty": "column {column} is empty (required)",
    "import.repeated_key": "repeated key {key} (first on line {first}; {n} rows in all)",
    "import.header_twice": "column '{column}' appears twice in the header",
    "import.missing_column": "missing required column {column} (accepted headers: {accepted}; or use --map)",
    "import.both_map": "columns '{first}' and '{second}' both map to {target}; choose one with --map",
    "import.undecodable_byte": "undecodable byte {byte} (not UTF-8, not Windows-1252); re-export the file as UTF-8",
    "import.mixed_encoding": "undecodable bytes {bytes} (the file is UTF-8 elsewhere: mixed encodings); "
                             "re-export the file as UTF-8",
    "import.undecodable": "undecodable bytes (not UTF-8)",
    "import.ragged": "{n} fields where the header has {m} (ragged row)",
    "import.unclosed_quote": "unclosed quote (a field opens '\"' and never closes it)",
    # --- imports: report notices -----------------------------------------------------------------
    "notice.delimiter": "delimiter detected: {delimiter}",
    "delimiter.semicolon": "semicolon",
    "delimiter.comma": "comma",
    "delimiter.tab": "tab",
    "delimiter.pipe": "pipe",
    "notice.map_missing": "--map {source}=...: no column '{column}' in the file",
    "notice.unknown_columns": "ignored {n} unknown column(s): {columns}",
    "notice.unknown_columns_more": "ignored {n} unknown column(s): {columns} and {more} more",
    # --- duplicates: search before create, reviews -----------------------------------------------
    "search.not_enough": "search: give an INS, or a name and first names, or a birth date with the first letters "
                         "of a name or first name",
    "search.bad_date": "{field}: '{value}' is not a date (expected dd/mm/yyyy)",
    "review.four_eyes": "four-eyes review: {user} already said 'same person' on {pair}; another reviewer must "
                        "confirm",
    # --- accounts --------------------------------------------------------------------------------
    "account.exists": "an account named '{user}' already exists",
    "account.unknown": "no account named '{user}'",
    "account.last_admin": "'{user}' is the last active admin; make another admin first",
    "account.bad_role": "role '{role}': expected one of {roles}",
    "account.bad_username": "username '{user}': use 2 to 64 characters among a-z, 0-9, '.', '_' and '-', "
                            "starting with a letter or digit",
    "password.refused": "password refused: {problems}",
    "password.too_short": "the password must have at least {n} characters",
    "password.too_long": "the password must have at most {n} characters",
    "password.has_username": "the password must not contain the username",
    "password.common": "the password is too common",
    "password.classes": "the password must mix at least 3 of: lower case, upper case, digits, other characters "
                        "(or be a passphrase of at least {n} characters)",
    "password.guessable": "the password is too easy to guess (repeated or common words, keyboard sequences, dates); "
                          "add unrelated words",
    # --- time sinks: settings --------------------------------------------------------------------
    "hours.start_after_end": "working hours: start {start} is not before end {end}",
    "hours.idle_not_whole": "idle threshold: expected a whole number of seconds, got {value}",
    "hours.idle_range": "idle threshold: {value} s is outside 1–{high} s",
}

#: Parameters that hold another coded sentence, translated in turn; and those that hold a list of
#: them, with their separator.
NESTED = frozenset({"message", "action", "step", "delimiter"})
NESTED_LISTS = {"traits": ", ", "tried": ", ", "problems": "; "}

#: The shape of some parameters, so that :func:`decode` cuts a sentence where its writer did.
_SHAPES: dict[str, str] = {
    "error_class": r"(?:HygieError|InvalidInput|FileRefused|KAnonymityRefused|AccessDenied|AuthenticationError"
                   r"|JobError|StalePreview|WarehouseError)",
    "run": r"\S+", "preview": r"\S+", "job": r"\S+", "of": r"\S+", "by": r"\S+", "later": r"\S+",
    "table": r"\w+", "key": r"\{.*?\}", "status": r"\w+", "role": r"\w+", "user": r"\S+",
    "n": r"-?\d+", "m": r"\d+", "k": r"-?\d+", "done": r"\d+", "more": r"\d+", "line": r"\d+",
    "a": r"[^/\s]+", "b": r"\S+", "file": r"[^:\n]+", "month": r".*?",
}

_FORMATTER = string.Formatter()


def placeholders(template: str) -> set[str]:
    """The field names of a ``str.format`` template."""
    return {name for _text, name, _spec, _conv in _FORMATTER.parse(template) if name}


def english(code: str, /, **params: object) -> str:
    """The English sentence of ``code`` with ``params`` (KeyError on an unknown code)."""
    return ENGLISH[code].format(**params)


def _pattern(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    seen: set[str] = set()
    for text, name, _spec, _conv in _FORMATTER.parse(template):
        parts.append(re.escape(text))
        if name is None:
            continue
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>{_SHAPES.get(name, '.+?')})")
        seen.add(name)
    return re.compile("".join(parts), re.DOTALL)


def _literal_length(template: str) -> int:
    return sum(len(text) for text, _name, _spec, _conv in _FORMATTER.parse(template))


#: Most specific templates first: "undo of run {run}; removed {n} file(s)" before "undo of run {run}".
_DECODERS: list[tuple[str, re.Pattern[str]]] = [
    (code, _pattern(ENGLISH[code])) for code in sorted(ENGLISH, key=lambda c: -_literal_length(ENGLISH[c]))
]


def decode(text: str) -> tuple[str, dict[str, str]] | None:
    """The code and parameters of an English sentence written from :data:`ENGLISH`; None if none
    of the templates wrote it (a sentence the engine has not coded is shown as it is)."""
    for code, pattern in _DECODERS:
        found = pattern.fullmatch(text)
        if found:
            return code, found.groupdict()
    return None


def render(code: str, params: Mapping[str, object], template_of: Callable[[str], str | None]) -> str:
    """``code`` with ``params`` in another language: ``template_of(code)`` gives its template
    (English when it has none); nested sentences are translated in turn."""
    values = {
        k: translate(str(v), template_of) if k in NESTED
        else NESTED_LISTS[k].join(translate(part, template_of) for part in str(v).split(NESTED_LISTS[k]))
        if k in NESTED_LISTS
        else v
        for k, v in params.items()
    }
    template = template_of(code)
    return template.format(**values) if template else english(code, **params)


def translate(text: str, template_of: Callable[[str], str | None]) -> str:
    """An English engine sentence in another language (see :func:`render`); as it is if uncoded."""
    found = decode(text)
    return render(*found, template_of) if found else text


def coded(error: BaseException) -> tuple[str, Mapping[str, object]] | None:
    """The code and parameters of ``error`` if it carries them, else decoded from its text."""
    code = getattr(error, "code", None)
    if isinstance(code, str) and code in ENGLISH:
        return code, getattr(error, "params", {})
    return decode(str(error))
