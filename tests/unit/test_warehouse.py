"""The package's DuckDB connections never fetch an extension from the internet."""

from __future__ import annotations

import duckdb
import pytest

from label_overview.warehouse import read_only


def test_a_read_only_connection_refuses_a_url_instead_of_downloading_httpfs(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(path)).close()
    with read_only(path) as connection:
        assert connection.execute(
            "select current_setting('autoinstall_known_extensions'),"
            " current_setting('autoload_known_extensions')"
        ).fetchall() == [(False, False)]
        with pytest.raises(duckdb.Error, match="requires the extension httpfs to be loaded"):
            connection.execute("from 'https://127.0.0.1:9/marts.parquet'")
