"""The outcome of one import: what was read, loaded, and what looked wrong."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["SHOWN_FINDINGS", "Finding", "ImportReport"]

SHOWN_FINDINGS = 20


@dataclass(frozen=True)
class Finding:
    """A value problem: the row was loaded (or, for a required field, skipped) and the raw value kept."""

    line: int | None
    column: str
    raw_value: str | None
    problem: str
    record_key: str | None = None


@dataclass
class ImportReport:
    """Counts and findings of one import; ``findings`` holds the first few, ``findings_count`` all."""

    import_id: str
    table: str
    file: str
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    rows_in_file: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_skipped: int = 0
    findings: list[Finding] = field(default_factory=list)
    findings_count: int = 0
    notices: list[str] = field(default_factory=list)
    status: str = "running"
    message: str | None = None

    def summary_lines(self) -> list[str]:
        """A plain-English report for the command line."""
        delim = {";": "';'", ",": "','", "\t": "tab", "|": "'|'"}.get(self.delimiter or "", self.delimiter)
        lines = [f"File:      {self.file}", f"Table:     {self.table}", f"Format:    {self.format}"]
        if self.encoding:
            lines.append(f"Encoding:  {self.encoding}")
        if delim:
            lines.append(f"Delimiter: {delim}")
        if self.status == "refused":
            lines.append(f"Status:    refused, nothing loaded: {self.message}")
        else:
            lines.append(f"Status:    {self.status}")
            lines.append(f"Rows:      {self.rows_in_file} in file, {self.rows_inserted} inserted, "
                         f"{self.rows_updated} updated, {self.rows_skipped} skipped")
        lines.append(f"Import id: {self.import_id}")
        lines.extend(f"Notice:    {notice}" for notice in self.notices)
        if self.findings_count:
            lines.append(f"Findings:  {self.findings_count} value problem(s) (raw values kept in data_quality_findings)")
            for f in self.findings[:SHOWN_FINDINGS]:
                where = f"line {f.line}" if f.line is not None else "record"
                key = f" [{f.record_key}]" if f.record_key else ""
                lines.append(f"  {where}, column {f.column}{key}: {f.raw_value!r}: {f.problem}")
            if self.findings_count > SHOWN_FINDINGS:
                lines.append(f"  ... and {self.findings_count - SHOWN_FINDINGS} more")
        elif self.status != "refused":
            lines.append("Findings:  none")
        return lines
