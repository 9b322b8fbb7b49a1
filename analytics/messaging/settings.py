"""Messaging settings: who assigns the IPPs, which INS authority, where to deliver.

Values come from (highest first) the environment (``HYGIE_MESSAGING_*``), the warehouse's
``settings`` table (keys ``messaging.*``), then the defaults below. Every value is checked
here, once, with a message naming the variable or setting.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields
from typing import Any

import duckdb

from analytics.errors import InvalidInput

__all__ = ["INS_OIDS", "MessagingSettings", "messaging_settings"]

#: INS assigning authorities (ANS; IHE France annex N "Constraints on HL7 data types for ITI"
#: v1.8.2, N.1): production INS-NIR, test and demonstration INS-NIR, INS-NIA.
INS_OIDS = {
    "production": "1.2.250.1.213.1.4.8",
    "test": "1.2.250.1.213.1.4.10",
    "demo": "1.2.250.1.213.1.4.11",
}
INS_NIA_OID = "1.2.250.1.213.1.4.9"

_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
_NAMESPACE = re.compile(r"^[A-Za-z0-9_.-]{1,20}$")


@dataclass(frozen=True)
class MessagingSettings:
    """What the ADT and FHIR builders and the senders need to know about the hospital."""

    #: HD.1 of the IPP assigning authority (namespace, at most 20 characters).
    ipp_namespace: str = "HYGIE"
    #: HD.2 of the IPP assigning authority: the establishment's (or GHT's) OID; HD.3 = ISO.
    ipp_oid: str = ""
    #: Which INS-NIR authority the INS of this warehouse belong to: production, test or demo.
    ins_environment: str = "production"
    #: MSH-3 sending application.
    sending_application: str = "HYGIE"
    #: MLLP endpoint (host:port); empty: files only.
    mllp_endpoint: str = ""
    mllp_timeout_s: float = 10.0
    delivery_retries: int = 3
    #: FHIR server base URL the transaction is POSTed to; empty: files only.
    fhir_endpoint: str = ""
    fhir_timeout_s: float = 30.0

    @property
    def ipp_system(self) -> str:
        """FHIR identifier system of the IPPs (``urn:oid:`` of the authority when configured)."""
        return f"urn:oid:{self.ipp_oid}" if self.ipp_oid else f"urn:hygie:ipp:{self.ipp_namespace}"

    @property
    def ins_nir_oid(self) -> str:
        return INS_OIDS[self.ins_environment]

    def mllp_address(self) -> tuple[str, int] | None:
        if not self.mllp_endpoint:
            return None
        host, _, port = self.mllp_endpoint.rpartition(":")
        return host.strip("[]"), int(port)

    def describe(self) -> list[str]:
        """Lines for ``hygie info``."""
        authority = (f"{self.ipp_namespace}&{self.ipp_oid}&ISO" if self.ipp_oid
                     else f"{self.ipp_namespace} (no OID configured: set messaging.ipp_oid)")
        return [
            f"IPP assigning authority (PID-3 CX-4): {authority}",
            f"INS-NIR authority: {self.ins_nir_oid} ({self.ins_environment}); INS-NIA: {INS_NIA_OID}",
            f"FHIR identifier system of IPPs: {self.ipp_system} (merges as FHIRPath Patches of link/active)",
            f"MLLP delivery: {self.mllp_endpoint or 'off (files only)'}; "
            f"FHIR delivery: {self.fhir_endpoint or 'off (files only)'}",
        ]


def _check(s: MessagingSettings, source: dict[str, str]) -> None:
    def bad(name: str, why: str) -> InvalidInput:
        return InvalidInput(f"{source.get(name, name)}={getattr(s, name)!r}: {why}")

    if not _NAMESPACE.match(s.ipp_namespace):
        raise bad("ipp_namespace", "expected 1 to 20 letters, digits, '_', '.' or '-' (HD.1 is an IS of 20)")
    if s.ipp_oid and not _OID.match(s.ipp_oid):
        raise bad("ipp_oid", "not an OID (digits separated by dots, e.g. 1.2.250.1.71.4.2.2)")
    if s.ins_environment not in INS_OIDS:
        raise bad("ins_environment", f"expected one of {', '.join(INS_OIDS)}")
    if not _NAMESPACE.match(s.sending_application):
        raise bad("sending_application", "expected 1 to 20 letters, digits, '_', '.' or '-'")
    if s.mllp_endpoint and not re.match(r"^[^:\s]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$", s.mllp_endpoint):
        raise bad("mllp_endpoint", "expected host:port")
    if s.fhir_endpoint and not re.match(r"^https?://[^\s]+$", s.fhir_endpoint):
        raise bad("fhir_endpoint", "expected an http:// or https:// base URL")
    if s.mllp_timeout_s <= 0 or s.fhir_timeout_s <= 0:
        raise InvalidInput("messaging timeouts must be positive numbers of seconds")
    if not 0 <= s.delivery_retries <= 20:
        raise bad("delivery_retries", "expected 0 to 20")


def messaging_settings(con: duckdb.DuckDBPyConnection | None = None,
                       overrides: dict[str, Any] | None = None) -> MessagingSettings:
    """The settings from ``overrides``, ``HYGIE_MESSAGING_<NAME>``, ``messaging.<name>``, defaults."""
    values: dict[str, Any] = {}
    source: dict[str, str] = {}
    stored: dict[str, str] = {}
    if con is not None:
        stored = dict(con.execute("SELECT key, value FROM settings WHERE key LIKE 'messaging.%'").fetchall())
    for f in fields(MessagingSettings):
        env = f"HYGIE_MESSAGING_{f.name.upper()}"
        raw: Any = None
        if overrides and f.name in overrides:
            raw, source[f.name] = overrides[f.name], f.name
        elif os.environ.get(env) is not None:
            raw, source[f.name] = os.environ[env], env
        elif stored.get(f"messaging.{f.name}") is not None:
            raw, source[f.name] = stored[f"messaging.{f.name}"], f"setting messaging.{f.name}"
        if raw is None:
            continue
        try:
            values[f.name] = type(f.default)(raw) if not isinstance(raw, type(f.default)) else raw
        except (TypeError, ValueError):
            raise InvalidInput(f"{source[f.name]}={raw!r}: expected a {type(f.default).__name__}") from None
    settings = MessagingSettings(**values)
    _check(settings, source)
    return settings
