"""Output file names that cannot collide, whatever the patient id contains."""

from __future__ import annotations

import hashlib
import re

__all__ = ["message_file_name"]

_PLAIN = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def message_file_name(prefix: str, patient_id: str, ext: str) -> str:
    """``<prefix>_<id>.<ext>`` for a plain id (letters, digits, '-'), else an escaped id plus a hash.

    A plain id never contains '_', an escaped one always ends in ``_<hash>``: two different ids
    cannot give the same name (``a/dup`` and ``b/dup`` both used to give ``dup.hl7``).
    """
    if _PLAIN.match(patient_id):
        return f"{prefix}_{patient_id}.{ext}"
    digest = hashlib.sha256(patient_id.encode("utf-8")).hexdigest()[:16]
    safe = re.sub(r"[^A-Za-z0-9-]+", "-", patient_id).strip("-")[:40]
    return f"{prefix}_{safe}_{digest}.{ext}" if safe else f"{prefix}__{digest}.{ext}"
