# The gateway's two set-up commands are `make run` and `make test` (see README.md).
# Everything else here is a helper they use, or a benchmark.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
export PYTHONPATH := $(CURDIR)
export AIRFLOW_HOME := $(CURDIR)/var/airflow
export AIRFLOW_CONFIG := $(CURDIR)/airflow.cfg
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags

.PHONY: run test venv lint bench-extract bench-validate bench-route bench-deliver clean

# uv (from PyPI) installs the ~160 pinned packages in seconds; pip is the fallback.
$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv || true
	if $(VENV)/bin/uv --version >/dev/null 2>&1; then \
		$(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements.txt; \
	else \
		$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt; \
	fi
	touch $@

$(TEST_STAMP): $(STAMP) requirements-test.txt
	if $(VENV)/bin/uv --version >/dev/null 2>&1; then \
		$(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements-test.txt; \
	else \
		$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt; \
	fi
	touch $@

venv: $(STAMP)

## make run: build the embedded platform database with synthetic data and run the daily job end to end.
run: $(STAMP)
	$(PY) -m tools.demo

## make test: install the test tools and run the whole suite (unit, dags, integration).
test: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .

bench-extract: $(STAMP)
	$(PY) bench/bench_extract.py

bench-validate: $(STAMP)
	$(PY) bench/bench_validate.py

bench-route: $(STAMP)
	$(PY) bench/bench_route.py

bench-deliver: $(STAMP)
	$(PY) bench/bench_deliver.py

clean:
	rm -rf var .pytest_cache
