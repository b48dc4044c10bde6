# Fix2Go Spatial: the two commands are `make demo` and `make test` (see README.md).
.PHONY: setup setup-test demo test lint format db-start clean

VENV := .venv
FIX2GO := $(VENV)/bin/fix2go
# modules whose docstring examples run as tests (dashboard pages need a running app: AppTest)
DOCTESTS := spatial ingest fix2go dashboard/maps.py dashboard/i18n.py dashboard/assets.py

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh --with-browser

## demo: set up, start the embedded PostGIS, load the Bahrain sample, run the pipeline, serve
## the dashboard at http://localhost:8501
demo: setup
	$(FIX2GO) demo

## test: the same set-up (plus chromium), then lint, types and the whole test suite
test: setup-test
	$(FIX2GO) db start
	$(MAKE) --no-print-directory lint
	$(VENV)/bin/python -m pytest -p no:cacheprovider tests --doctest-modules $(DOCTESTS)

lint:
	$(VENV)/bin/ruff check fix2go ingest spatial dashboard benchmarks tests
	$(VENV)/bin/ruff check --extend-ignore B018 notebooks
	$(VENV)/bin/ruff format --check fix2go ingest spatial dashboard benchmarks tests notebooks
	$(VENV)/bin/mypy

format:
	$(VENV)/bin/ruff format fix2go ingest spatial dashboard benchmarks tests
	$(VENV)/bin/ruff check --fix fix2go ingest spatial dashboard benchmarks tests

db-start: setup
	$(FIX2GO) db start

clean:
	-$(FIX2GO) db stop
	rm -rf .fix2go test-artifacts
