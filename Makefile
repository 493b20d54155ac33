# The verbs a newcomer needs. Every target installs what it uses first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP := $(VENV)/.installed

export LABEL_OVERVIEW_HOME ?= $(CURDIR)/data

AIRFLOW_ENV := AIRFLOW_HOME=$(CURDIR)/airflow_home AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False

.PHONY: install lock demo test lint bench airflow clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode --no-deps -e .
	touch $@

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

demo: install
	$(BIN)/python -m label_overview.demo

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

# Airflow's UI with the project's DAGs; Ctrl-C (SIGINT) stops every component cleanly.
airflow: install
	$(AIRFLOW_ENV) $(BIN)/airflow db migrate
	$(AIRFLOW_ENV) $(BIN)/airflow pools set dynamo_api 8 "Concurrent Dynamo API pulls"
	$(AIRFLOW_ENV) $(BIN)/airflow pools set duckdb_writer 1 "DuckDB has a single writer"
	$(AIRFLOW_ENV) exec $(BIN)/airflow standalone

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) data airflow_home .pytest_cache dbt_project/target dbt_project/logs
