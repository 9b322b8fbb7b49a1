"""Import hospital files (CSV as hospitals write them, Parquet, FHIR NDJSON) into the warehouse.

    report = import_file(con, "patients", "export_ipp.csv", actor=system_actor())
    print("\\n".join(report.summary_lines()))

Structural faults refuse the whole file (:class:`~analytics.errors.FileRefused`, nothing
changed); value faults load the row with the field empty and are kept as findings.
"""

from analytics.importing.history import (
           import_count,
           import_findings,
           import_findings_count,
           imports_page,
)
from analytics.importing.load import TABLE_ALIASES, import_file, mark_interrupted_imports
from analytics.importing.report import Finding, ImportReport
from analytics.importing.validate import ins_is_valid, ins_key

__all__ = ["TABLE_ALIASES", "Finding", "ImportReport", "import_count", "import_file", "import_findings",
           "import_findings_count", "imports_page", "ins_is_valid", "ins_key", "mark_interrupted_imports"]
