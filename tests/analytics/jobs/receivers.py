"""Receivers the delivery tests start on 127.0.0.1: an MLLP listener and a FHIR endpoint.

* :class:`MllpReceiver` is built on the ``hl7`` package's asyncio MLLP server: it validates each
  message with ``hl7apy`` (strict, v2.5) and answers a real ACK made by ``hl7``'s
  ``create_ack`` — AA, or AR with the validation error; ``answer`` forces a code per message type.
* :class:`FhirReceiver` is an HTTP server that validates each transaction with ``fhir.resources``,
  applies it to a :class:`~tests.analytics.jobs.fhir_state.FhirState` and answers a
  transaction-response Bundle, or an OperationOutcome with status 422.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import hl7
from hl7.mllp import start_hl7_server
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from tests.analytics.jobs.fhir_state import FhirError, FhirState


class MllpReceiver:
    def __init__(self, answer: Callable[[hl7.Message], str | None] | None = None) -> None:
        self.received: list[str] = []
        self.answer = answer or (lambda _m: None)
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    async def _client(self, reader, writer) -> None:
        try:
            while not reader.at_eof():
                message = await reader.readmessage()
                text = str(message)
                code = self.answer(message)
                if code is None:
                    try:
                        parse_message(text, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True).validate()
                        code = "AA"
                    except Exception as exc:  # noqa: BLE001 - the reason goes back in the ACK
                        code = "AR"
                        self.received.append(f"REJECTED {exc}")
                self.received.append(text)
                writer.writemessage(message.create_ack(ack_code=code))
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._server = await start_hl7_server(self._client, "127.0.0.1", self.port, encoding="utf-8")
            self.port = self._server.sockets[0].getsockname()[1]
            self._ready.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    def __enter__(self) -> MllpReceiver:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def events(self) -> list[str]:
        """MSH-9 of each message received, in order."""
        return [hl7.parse(m).segment("MSH")[9][0][1][0] if not m.startswith("REJECTED") else m
                for m in self.received]


class FhirReceiver:
    def __init__(self, state: FhirState) -> None:
        self.state = state
        self.posts: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    bundle = json.loads(body)
                    receiver.posts.append(bundle)
                    receiver.state.apply(bundle)
                    status, answer = 200, {"resourceType": "Bundle", "type": "transaction-response", "entry": [
                        {"response": {"status": "200 OK"}} for _ in bundle["entry"]]}
                except Exception as exc:  # noqa: BLE001 - what a server says in an OperationOutcome
                    status = 422
                    answer = {"resourceType": "OperationOutcome", "issue": [
                        {"severity": "error", "code": "processing" if isinstance(exc, FhirError) else "invalid",
                         "diagnostics": str(exc).splitlines()[0]}]}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/fhir"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FhirReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
