"""Send one HL7 v2 message over MLLP and read its acknowledgement (the ``hl7`` package's asyncio MLLP)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import hl7
from hl7.mllp import InvalidBlockError, open_hl7_connection

__all__ = ["Ack", "Unreachable", "send"]


class Unreachable(Exception):
    """No answer: connection refused or reset, timeout, or a frame that is not an ACK."""


@dataclass(frozen=True)
class Ack:
    """MSA-1 (AA/AE/AR or CA/CE/CR), MSA-2 (the control id acknowledged), MSA-3 and ERR text."""

    code: str
    control_id: str
    text: str

    @property
    def accepted(self) -> bool:
        return self.code in ("AA", "CA")


async def _exchange(host: str, port: int, message: bytes, timeout: float) -> hl7.Message:
    reader, writer = await asyncio.wait_for(open_hl7_connection(host, port, encoding="utf-8"), timeout)
    try:
        writer.writeblock(message)
        await asyncio.wait_for(writer.drain(), timeout)
        return await asyncio.wait_for(reader.readmessage(), timeout)
    finally:
        writer.close()


def send(host: str, port: int, message: bytes, timeout: float) -> Ack:
    """Send ``message`` and return its ACK; :class:`Unreachable` when none comes back in time."""
    try:
        answer = asyncio.run(_exchange(host, port, message, timeout))
    except (OSError, TimeoutError, asyncio.IncompleteReadError, InvalidBlockError, ValueError) as exc:
        raise Unreachable(f"{host}:{port}: {type(exc).__name__} {exc}".strip()) from None
    try:
        msa = answer.segment("MSA")
    except KeyError:
        raise Unreachable(f"{host}:{port}: the answer has no MSA segment") from None
    text = str(msa[3]) if len(msa) > 3 else ""
    try:
        err = answer.segment("ERR")
        text = "; ".join(t for t in (text, str(err)) if t)
    except KeyError:
        pass
    return Ack(str(msa[1]), str(msa[2]) if len(msa) > 2 else "", text)
