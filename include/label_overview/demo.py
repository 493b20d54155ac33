"""``make demo``: generate a dataset, serve it with the emulator, run the pipeline over its last
two weeks on the embedded default, and say where the results are."""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time

from label_overview.dataset import Dataset
from label_overview.emulator.server import running_emulator
from label_overview.generate import generate_dataset
from label_overview.pipeline import run_pipeline
from label_overview.settings import Secret, Settings
from label_overview.windows import Window

DEMO_START = dt.date(2026, 10, 1)
DEMO_DAYS = 42
RUN_DAYS = 14


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    settings = Settings.from_env()
    dataset_dir = settings.home / "demo-dataset"
    print(generate_dataset(dataset_dir, seed=7, start=DEMO_START, days=DEMO_DAYS), file=sys.stderr)
    key = Dataset.load(dataset_dir).api_keys[0]
    last_day = DEMO_START + dt.timedelta(days=DEMO_DAYS - 1)
    window = Window(last_day - dt.timedelta(days=RUN_DAYS - 1), last_day)
    started = time.monotonic()
    with running_emulator(dataset_dir) as emulator:
        settings = settings.with_changes(
            api_base_url=emulator.base_url, api_key=key["key"], api_secret=Secret(key["secret"])
        )
        summary = run_pipeline(settings, window)
    print(summary)
    print(
        f"""
Done in {time.monotonic() - started:.0f}s.
  warehouse:  {settings.warehouse_path}   (schema marts: fct_*, dim_*, rpt_*)
  snapshots:  {settings.exports_dir}/<workspaceId>/<mediumId>/<day|week>/<from>_<to>.json
Query the marts read-only, e.g.:
  .venv/bin/python -c "import duckdb; print(duckdb.connect('{settings.warehouse_path}', \\
read_only=True).sql('select * from marts.fct_label_counts_daily order by all limit 10'))"
"""
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
