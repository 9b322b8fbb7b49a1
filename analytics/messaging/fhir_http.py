"""POST a FHIR transaction to a server's base URL and read its answer (OperationOutcome on error)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

__all__ = ["FhirAnswer", "Unreachable", "post_transaction"]


class Unreachable(Exception):
    """No HTTP answer: connection refused or reset, timeout."""


@dataclass(frozen=True)
class FhirAnswer:
    status: int
    detail: str

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


def _outcome_text(body: bytes) -> str:
    """The diagnostics of an OperationOutcome (or the start of whatever came back)."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body[:300].decode("utf-8", "replace")
    if isinstance(doc, dict) and doc.get("resourceType") == "OperationOutcome":
        return "; ".join(f"{i.get('severity', '?')} {i.get('code', '?')}: {i.get('diagnostics') or ''}".strip()
                         for i in doc.get("issue", []))
    if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
        return f"{doc.get('type')} of {len(doc.get('entry', []))} entries"
    return str(doc)[:300]


def post_transaction(base_url: str, bundle: bytes, timeout: float) -> FhirAnswer:
    """POST ``bundle`` to ``base_url`` (a transaction is posted at the base)."""
    request = urllib.request.Request(base_url.rstrip("/"), data=bundle, method="POST", headers={
        "Content-Type": "application/fhir+json", "Accept": "application/fhir+json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - configured http(s) URL
            return FhirAnswer(answer.status, _outcome_text(answer.read()))
    except urllib.error.HTTPError as exc:
        return FhirAnswer(exc.code, _outcome_text(exc.read()))
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise Unreachable(f"{base_url}: {getattr(exc, 'reason', exc)}") from None
