"""HL7 v2.5 ADT messages per IHE PAM, French national extension (PAM France 2.11).

Sources (read 2026-12): IHE PAM France "National Extension" v2.11.2 (Interop'Santé,
github.com/Interop-Sante/ihe.iti.pam.fr) and its annex "IHE France Constraints on HL7 data
types for ITI" v1.8.2. What each field carries:

* MSH-12 ``2.5^FRA^2.11``, MSH-17 ``FRA``, MSH-18 ``UNICODE UTF-8``, MSH-19 ``FR``, MSH-21
  ``2.11^IHE_FRANCE-2.11-PAM`` (PAM FR §6.5); MSH-10 at most 20 characters (ST, v2.5).
* EVN-1 empty (deprecated in IHE), EVN-2 recorded time, EVN-5 operator, EVN-6 occurred.
* PID-3: the IPP ``id^^^NS&OID&ISO^PI``; the INS ``matricule^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.8&ISO^INS``
  only for a qualified identity (RNIV: only QUAL shares the INS; PAM FR §6.6.1).
* PID-5: the birth name (type L) with the first birth first name in XPN-2 and the whole list of
  birth first names in XPN-3; the used name (type D) only when defined (annex N, XPN).
* PID-11: the home address (type H) and the birth place, type BDL, its INSEE (COG) code in
  XAD-9 (annex N, XAD-9).
* PID-32: identity reliability (table 0445 as specialised by PAM FR §6.6.15): the status,
  then identity attributes (DOUT, FICT, ...) as further repetitions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from analytics.errors import InvalidInput
from analytics.messaging.settings import INS_NIA_OID, MessagingSettings

__all__ = ["PAM_FR_VERSION", "adt_a28", "adt_a31", "adt_a40", "control_id", "hl7_escape", "reliability_codes"]

PAM_FR_VERSION = "2.11"

#: RNIV status -> PID-32 code of PAM FR table 0445. PAM FR transmits the INS only with PID-32 =
#: VALI, so a qualified identity (QUAL) is VALI; a retrieved one (RECUP) is PROV (PAM FR §4.4.4:
#: QUAL -> RECUP is sent as PROV); a validated one without INS (RNIV VALI) is not qualified
#: either, so PROV; no status: VIDE.
RELIABILITY = {"QUAL": "VALI", "VALI": "PROV", "RECUP": "PROV", "PROV": "PROV"}
#: Identity attributes PAM FR allows as further PID-32 repetitions.
ATTRIBUTES = ("DOUB", "DESA", "DPOT", "DOUA", "COLP", "COLV", "FILI", "CACH", "ANOM", "IDVER",
              "RECD", "IDRA", "USUR", "HOMD", "HOMA", "INVA", "FICT", "DOUT")
_SEX = {"M": "M", "F": "F"}
_MAX_CONTROL_ID = 20


def hl7_escape(value: object) -> str:
    """Escape HL7 v2 delimiters inside a field value (line breaks become spaces, ends trimmed)."""
    text = "" if value is None else str(value).strip()
    return (text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
            .replace("&", "\\T\\").replace("~", "\\R\\").replace("\r", " ").replace("\n", " "))


def control_id(token: str, seq: int) -> str:
    """MSH-10: ``token`` (unique per run) + a sequence number, within the 20 characters of v2.5."""
    value = f"{token}{seq:08X}"
    if len(value) > _MAX_CONTROL_ID or not value.isalnum():
        raise InvalidInput(f"MSH-10 control id {value!r}: at most {_MAX_CONTROL_ID} letters or digits")
    return value


def _ts(now: dt.datetime) -> str:
    return now.strftime("%Y%m%d%H%M%S%z")


def _hd_field(name: str, value: str) -> str:
    if len(value) > 20 or any(c in value for c in "|^~\\&\r\n"):
        raise InvalidInput(f"{name}={value!r}: at most 20 characters and no HL7 delimiter (HD.1 is an IS of 20)")
    return value


def ipp_cx(patient_id: str, s: MessagingSettings) -> str:
    """An IPP as CX: id^^^namespace&OID&ISO^PI (namespace only when no OID is configured)."""
    authority = f"{s.ipp_namespace}&{s.ipp_oid}&ISO" if s.ipp_oid else s.ipp_namespace
    return f"{hl7_escape(patient_id)}^^^{authority}^PI"


def ins_cx(ins: str, s: MessagingSettings) -> str:
    """An INS as CX with its ANS authority: INS-NIA when the matricule starts with 7 or 8."""
    if ins[:1] in ("7", "8"):
        return f"{hl7_escape(ins)}^^^ASIP-SANTE-INS-NIA&{INS_NIA_OID}&ISO^INS"
    return f"{hl7_escape(ins)}^^^ASIP-SANTE-INS-NIR&{s.ins_nir_oid}&ISO^INS"


def reliability_codes(p: dict[str, Any]) -> list[str]:
    """PID-32 repetitions: the status code, then the identity's attributes PAM FR allows."""
    codes = [RELIABILITY.get((p.get("identity_status") or "").upper(), "VIDE")]
    raw = p.get("identity_attributes") or ""
    for code in str(raw).replace(",", " ").split():
        if code.upper() in ATTRIBUTES and code.upper() not in codes:
            codes.append(code.upper())
    return codes


def _names(p: dict[str, Any]) -> str:
    e = hl7_escape
    first_names = " ".join((p.get("first_names") or "").split())
    first = first_names.split(" ")[0] if first_names else ""
    names = [f"{e(p.get('birth_name'))}^{e(first)}^{e(first_names)}^^^^L"]
    if p.get("used_name") or p.get("used_first_name"):
        names.append(f"{e(p.get('used_name'))}^{e(p.get('used_first_name'))}^^^^^D")
    return "~".join(names)


def _addresses(p: dict[str, Any]) -> str:
    e = hl7_escape
    out = []
    if p.get("address") or p.get("city") or p.get("postcode"):
        out.append(f"{e(p.get('address'))}^^{e(p.get('city'))}^^{e(p.get('postcode'))}^FRA^H")
    code = (p.get("birth_place_code") or "").strip()
    if code:  # COG code of the birth town, or of the country (99xxx) for people born abroad
        out.append(f"^^^^^{'' if code.startswith('99') else 'FRA'}^BDL^^{e(code)}")
    return "~".join(out)


def pid(p: dict[str, Any], s: MessagingSettings) -> str:
    """The PID segment of ``p`` (a patients row)."""
    ids = [ipp_cx(p["patient_id"], s)]
    if (p.get("identity_status") or "").upper() == "QUAL" and p.get("ins"):
        ids.append(ins_cx(str(p["ins"]).strip(), s))
    fields = [""] * 33
    fields[0] = "PID"
    fields[1] = "1"
    fields[3] = "~".join(ids)
    fields[5] = _names(p)
    fields[7] = p["birth_date"].strftime("%Y%m%d") if p.get("birth_date") else ""
    fields[8] = _SEX.get((p.get("sex") or "").upper(), "U")
    fields[11] = _addresses(p)
    fields[32] = "~".join(reliability_codes(p))
    return "|".join(fields)


def _msh(event: str, structure: str, *, now: dt.datetime, control: str, s: MessagingSettings,
         sending_facility: str, receiving_application: str, receiving_facility: str) -> str:
    e = hl7_escape
    return (f"MSH|^~\\&|{_hd_field('sending_application', s.sending_application)}|"
            f"{_hd_field('sending_facility', sending_facility)}|"
            f"{_hd_field('receiving_application', receiving_application)}|"
            f"{_hd_field('receiving_facility', receiving_facility)}|{_ts(now)}||"
            f"ADT^{event}^{structure}|{e(control)}|P|2.5^FRA^{PAM_FR_VERSION}|||||FRA|UNICODE UTF-8|FR||"
            f"{PAM_FR_VERSION}^IHE_FRANCE-{PAM_FR_VERSION}-PAM")


def _evn(now: dt.datetime, operator: str) -> str:
    return f"EVN||{_ts(now)}|||{hl7_escape(str(operator)[:15])}|{_ts(now)}"


def _message(segments: Iterable[str]) -> bytes:
    return ("\r".join(segments) + "\r").encode("utf-8")


def adt_a40(survivor: dict[str, Any], loser: dict[str, Any], s: MessagingSettings, *, now: dt.datetime,
            control: str, operator: str, sending_facility: str = "", receiving_application: str = "",
            receiving_facility: str = "") -> bytes:
    """ADT^A40^ADT_A39 (ITI-30 merge): PID = the survivor, MRG-1 = the loser's IPP."""
    return _message([
        _msh("A40", "ADT_A39", now=now, control=control, s=s, sending_facility=sending_facility,
             receiving_application=receiving_application, receiving_facility=receiving_facility),
        _evn(now, operator),
        pid(survivor, s),
        f"MRG|{ipp_cx(loser['patient_id'], s)}",
    ])


def _a05(event: str, p: dict[str, Any], s: MessagingSettings, *, now: dt.datetime, control: str,
         operator: str, sending_facility: str, receiving_application: str, receiving_facility: str) -> bytes:
    return _message([
        _msh(event, "ADT_A05", now=now, control=control, s=s, sending_facility=sending_facility,
             receiving_application=receiving_application, receiving_facility=receiving_facility),
        _evn(now, operator),
        pid(p, s),
        "PV1|1|N",  # ITI-30 carries no encounter: patient class N (not applicable)
    ])


def adt_a28(p: dict[str, Any], s: MessagingSettings, *, now: dt.datetime, control: str, operator: str,
            sending_facility: str = "", receiving_application: str = "", receiving_facility: str = "") -> bytes:
    """ADT^A28^ADT_A05 (ITI-30 create patient): re-creates an identity a merge had absorbed."""
    return _a05("A28", p, s, now=now, control=control, operator=operator, sending_facility=sending_facility,
                receiving_application=receiving_application, receiving_facility=receiving_facility)


def adt_a31(p: dict[str, Any], s: MessagingSettings, *, now: dt.datetime, control: str, operator: str,
            sending_facility: str = "", receiving_application: str = "", receiving_facility: str = "") -> bytes:
    """ADT^A31^ADT_A05 (ITI-30 update patient): restores an identity's traits."""
    return _a05("A31", p, s, now=now, control=control, operator=operator, sending_facility=sending_facility,
                receiving_application=receiving_application, receiving_facility=receiving_facility)
