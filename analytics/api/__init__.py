"""Hygie's local HTTP API, served by the process that owns the warehouse.

DuckDB lets one process write a file: ``hygie serve`` (or ``hygie jobs worker``) holds it and
serves, in a thread, a small Starlette app on uvicorn (:mod:`server`), bound to loopback
(port 8502 by default). Everything goes through :mod:`gate` (rate, token, size, access log).

- :mod:`fhir` — ``POST /fhir/Patient/$match`` (search before create for the admission
  software), ``GET /fhir/metadata``; French OperationOutcomes.
- :mod:`cli_bridge` — ``POST /cli``: the CLI's commands, run by the owner when it holds the
  warehouse (:mod:`analytics.cli.forward` is the client side; :mod:`runtime` says where).
- :mod:`analytics.access.tokens` — the per-account bearer tokens.

Nothing here is imported by the CLI unless the warehouse is held (no web stack on the way).
"""
