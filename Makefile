# The gateway's two set-up commands are `make run` and `make test` (see README.md).
# The production deployment on this machine: `make deploy-local` / `deploy-stop` / `test-deploy`
# (README.md, "Production deployment"; docs/deployment.md). Everything else here is a helper or a benchmark.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
export PYTHONPATH := $(CURDIR)
export AIRFLOW_HOME := $(CURDIR)/var/airflow
export AIRFLOW_CONFIG := $(CURDIR)/airflow.cfg
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
# Arrow's allocator: glibc's, not the bundled mimalloc — routing 1 M records runs ~1.7x faster with it (its many
# takes of fresh, large buffers; README "Benchmarks"); the image and the local deployment set the same.
export ARROW_DEFAULT_MEMORY_POOL ?= system

.PHONY: run console test venv lint bench-extract bench-validate bench-route bench-deliver bench-reconcile bench-audit bench-fieldcrypt bench-purge bench-console bench-scale clean deploy-local deploy-stop deploy-status deploy-clean test-deploy

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

## make console: the web console standalone on the demo's ledger (README.md, "The web console"); `make run` first.
console: $(STAMP)
	$(PY) -m console

## make test: install the test tools and run the whole suite (unit, dags, integration), one worker per core
## (pytest-xdist; every test has its own databases, schemas, folders and ports). One test: $(PY) -m pytest PATH.
test: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n auto

## make deploy-local: the gateway on a real multi-process Airflow (CeleryExecutor, two workers, PostgreSQL,
## Redis, OpenSSH drop host, receiver simulators) under supervisord; idempotent. docs/deployment.md.
## Needs root, PostgreSQL on 127.0.0.1:5432 (trust), Redis on 127.0.0.1:6379, Debian's openssh-server.
deploy-local: $(STAMP)
	$(PY) -m tools.deploy up

## make deploy-stop: stop everything deploy-local started (supervisorctl shutdown; fails if a process is left).
deploy-stop:
	$(PY) -m tools.deploy down

deploy-status:
	$(PY) -m tools.deploy status

## make deploy-clean: deploy-stop, then drop the deployment's databases, Redis db, var/deploy and drop-host account.
deploy-clean:
	$(PY) -m tools.deploy clean

## make test-deploy: start a deployment of its own, run the DAGs together and a backfill beside a normal run,
## check every task green on the first try, the balance and the receivers' truth, stop it. Not part of
## `make test` (about 15 minutes on two cores). SCREENSHOTS=docs/screenshots refreshes the UI screenshots.
test-deploy: $(STAMP)
	$(PY) -m tools.deploy_check $(if $(SCREENSHOTS),--screenshots $(SCREENSHOTS))

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

bench-audit: $(STAMP)
	$(PY) bench/bench_audit.py

bench-fieldcrypt: $(STAMP)
	$(PY) bench/bench_fieldcrypt.py

## make bench-purge: the retention purge on BENCH_PURGE_RECORDS (default 20,000) records against the lifetime balance (docs/security.md)
bench-purge: $(STAMP)
	$(PY) bench/bench_purge.py

## make bench-console: the console's pages and the trace on BENCH_ORDERS (default 5,000,000) work orders, p50/p95 against a
## plain indexed SELECT of the same rows; its own database gateway_bench_console on BENCH_PG_URL's server (docs/sizing.md).
bench-console: $(STAMP)
	$(PY) bench/bench_console.py

bench-reconcile: $(STAMP)
	$(PY) bench/bench_reconcile.py

## make bench-scale: the daily pipeline end to end (extract → validate → route → deliver to the in-memory channels →
## results → reconcile) at BENCH_SCALE_SIZES (default 10000,100000,1000000) records, each stage in a fresh process: wall
## time and peak RSS per stage; last line JSON with growth_100x and peak_rss_mb_1m. Its own databases
## gateway_bench_scale_src / _ledger (BENCH_SCALE_DB) on BENCH_PG_URL's server. README "Benchmarks".
bench-scale: $(STAMP)
	$(PY) bench/bench_scale.py

# Stops the local deployments first (their processes use var/deploy*), then removes var/.
clean:
	if [ -x $(PY) ]; then $(PY) -m tools.deploy down; DEPLOY_HOME=var/deploy-test $(PY) -m tools.deploy down; fi
	rm -rf var .pytest_cache
