"""Messages that carry merges to other systems: HL7 v2.5 ADT (IHE PAM France) and FHIR R4.

* :mod:`~analytics.messaging.settings` — assigning authorities and endpoints (``hygie info``).
* :mod:`~analytics.messaging.hl7v2` — ADT^A40 / A28 / A31 builders.
* :mod:`~analytics.messaging.fhir` — transactions of FHIRPath Patches on ``link``/``active``.
* :mod:`~analytics.messaging.files` — output file names that cannot collide.
* :mod:`~analytics.messaging.outbox` — delivery (MLLP, FHIR HTTP) with a status per message.
"""

from analytics.messaging.settings import MessagingSettings, messaging_settings

__all__ = ["MessagingSettings", "messaging_settings"]
