# The project's image for the distributed topology (docker-compose.yml): Airflow 3 with the
# runtime lock (no test tools, no emulator) and this package.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AIRFLOW_HOME=/opt/airflow \
    LABEL_OVERVIEW_HOME=/data \
    LABEL_OVERVIEW_DBT_PROJECT_DIR=/opt/label-overview/dbt_project

RUN apt-get update \
    && apt-get install --yes --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 50000 --gid 0 airflow \
    && mkdir -p /opt/airflow /data \
    && chown -R airflow:0 /opt/airflow /data

WORKDIR /opt/label-overview
COPY requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir uv==0.13.8 \
    && uv pip install --system --compile-bytecode --no-cache -r requirements.lock
# The pipeline's package only: the emulator beside it is for the tests and the demo.
COPY include/label_overview ./include/label_overview
COPY dbt_project ./dbt_project
COPY dags /opt/airflow/dags
RUN uv pip install --system --compile-bytecode --no-cache --no-deps -e .

USER airflow
WORKDIR /opt/airflow
ENTRYPOINT ["airflow"]
CMD ["version"]
