# The verbs a newcomer needs. Every target installs what it uses first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP := $(VENV)/.installed

export LABEL_OVERVIEW_HOME ?= $(CURDIR)/data

# Lineage events go to a file beside Airflow's (README, "Operating it": pointing them at Marquez).
AIRFLOW_ENV := AIRFLOW_HOME=$(CURDIR)/airflow_home AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__OPENLINEAGE__NAMESPACE=label_overview \
	AIRFLOW__OPENLINEAGE__TRANSPORT='{"type": "file", "log_file_path": "$(CURDIR)/airflow_home/openlineage-events.jsonl", "append": true}'

.PHONY: install lock browser demo test lint bench airflow docs clean sql

install: $(STAMP)

# The dev lock: the runtime's packages plus the tests' and the emulator's; then the pipeline
# and the emulator (include/dynamo_emulator, the tests' and the demo's) from this repository.
$(STAMP): pyproject.toml requirements-dev.lock include/dynamo_emulator/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -r requirements-dev.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode --no-deps \
		-e . -e include/dynamo_emulator
	touch $@

# Two locks with hashes: the runtime's (the image installs it) and the dev one (make install).
lock:
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes \
		-o requirements-dev.lock

demo: install
	$(BIN)/python -m dynamo_emulator.demo

# The label trend report's test opens it in Debian's chromium (installed here as root; as
# another user: sudo apt-get install chromium).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }

test: install browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

# Airflow's UI with the project's DAGs; Ctrl-C (SIGINT) stops every component cleanly.
# A SQL shell on the analysts' read copy, from the data root so its views find the landing.
sql: install
	cd $(LABEL_OVERVIEW_HOME) && $(CURDIR)/$(BIN)/duckdb -readonly warehouse.read.duckdb

airflow: install
	$(AIRFLOW_ENV) $(BIN)/airflow db migrate
	$(AIRFLOW_ENV) $(BIN)/airflow pools set dynamo_api 8 "Concurrent Dynamo API pulls"
	$(AIRFLOW_ENV) $(BIN)/airflow pools set duckdb_writer 1 "DuckDB has a single writer"
	$(AIRFLOW_ENV) exec $(BIN)/airflow standalone

# dbt's docs for the marts (descriptions, columns, lineage) from the warehouse `make demo` built.
# dbt runs in the data root, where profiles.yml finds warehouse.duckdb.
DBT_DOCS := --project-dir $(CURDIR)/dbt_project --profiles-dir $(CURDIR)/dbt_project --target-path $(LABEL_OVERVIEW_HOME)/dbt/docs
docs: install
	cd $(LABEL_OVERVIEW_HOME) && $(CURDIR)/$(BIN)/dbt docs generate $(DBT_DOCS)
	cd $(LABEL_OVERVIEW_HOME) && $(CURDIR)/$(BIN)/dbt docs serve $(DBT_DOCS) --port 8081

bench: install browser
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) data airflow_home .pytest_cache dbt_project/target dbt_project/logs
