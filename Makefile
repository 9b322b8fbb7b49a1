# The one task runner: people and CI call the same targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HYGIE_DB ?= data/hygie.duckdb
# make run PORT=8600 serves the dashboard on another port.
PORT ?= 8501

.PHONY: run test lint audit bench demo clean browser java lock screenshots

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test,spark]'
	touch $(STAMP)

## run: set up, build the sample warehouse if missing, serve the dashboard (PORT=8501)
run: $(STAMP)
	@test -f $(HYGIE_DB) || $(BIN)/hygie --db $(HYGIE_DB) demo
	$(BIN)/hygie --db $(HYGIE_DB) serve --port $(PORT)

## demo: (re)build the demo warehouse from the shipped sample hospital
demo: $(STAMP)
	$(BIN)/hygie --db $(HYGIE_DB) demo --force

## test: set up, audit the pinned dependencies, run the whole test suite (browser and Spark tests included)
test: $(STAMP) browser java audit
	$(BIN)/python -m pytest -n 2 --dist loadgroup

## screenshots: the browser tests, saving every page they visit under artifacts/screenshots/
screenshots: $(STAMP) browser
	HYGIE_SCREENSHOTS=1 $(BIN)/python -m pytest -m browser

## browser: make sure a headless Chromium is installed for the end-to-end tests
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: browser tests will be skipped (sudo apt-get install chromium)"; fi; }

## java: make sure a Java runtime is installed for the Spark engine's tests (pyspark ships Spark)
java:
	@command -v java >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	  else echo "java missing: the Spark tests will fail (sudo apt-get install openjdk-17-jre-headless)"; fi; }

## lint: ruff, then the dependency audit
lint: $(STAMP) audit
	$(BIN)/ruff check analytics dashboard tests sample_data benchmarks

## audit: known vulnerabilities in requirements.lock (pip-audit, PyPI's advisory data).
## A reported vulnerability fails. Packages the service cannot audit (a PyPI mirror without the
## per-version JSON API) only warn, unless AUDIT_STRICT=1; see docs/RELIABILITY.md.
AUDIT_STRICT ?=
audit: $(STAMP)
	@log=$$(mktemp); \
	$(BIN)/pip-audit -r requirements.lock --no-deps --disable-pip --vulnerability-service pypi \
	  --progress-spinner off --desc on >$$log 2>&1; rc=$$?; \
	skipped=$$(grep -c 'could not be audited' $$log); \
	if grep -Eq 'Found [0-9]+ known vulnerabilit' $$log; then cat $$log; rm -f $$log; exit 1; fi; \
	if [ $$rc -ne 0 ]; then cat $$log; echo "pip-audit: the audit itself failed (exit $$rc)"; \
	  rm -f $$log; [ -z "$(AUDIT_STRICT)" ] || exit 1; exit 0; fi; \
	rm -f $$log; \
	if [ $$skipped -gt 0 ]; then \
	  echo "pip-audit: WARNING: $$skipped pinned package(s) could not be audited (no per-version data from the package index)"; \
	  [ -z "$(AUDIT_STRICT)" ] || exit 1; \
	else echo "pip-audit: no known vulnerabilities in requirements.lock"; fi

## bench: large-scale speed, memory and match-quality benchmarks (minutes)
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test,spark,bench]'
	$(BIN)/python -m benchmarks.run_all

## lock: re-pin the dependency versions after changing pyproject.toml
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,spark,bench]'
	{ echo "# Pinned versions used by make (pip -c). Regenerate with: make lock"; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e'; } > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
