"""The dbt project's YAML holds what its authors wrote."""

from __future__ import annotations

import yaml

from label_overview.transform import DBT_PROJECT_DIR

# The keys a column entry of this project's models and sources may hold.
COLUMN_KEYS = {"name", "data_type", "description", "constraints", "data_tests", "granularity"}


def documented_columns():
    """(file, model or table, column entry) for every column the YAML documents."""
    for path in sorted((DBT_PROJECT_DIR / "models").rglob("*.yml")):
        document = yaml.safe_load(path.read_text())
        tables = [
            *document.get("models", []),
            *(table for source in document.get("sources", []) for table in source["tables"]),
        ]
        for table in tables:
            for column in table.get("columns", []):
                yield path.name, table["name"], column


def test_every_column_entry_holds_only_the_keys_dbt_reads():
    # In a flow mapping ({name: x, description: ...}) an unquoted comma ends the description
    # and makes the rest a key that dbt ignores: "When sent, UTC." was documented as
    # "When sent".
    stray = [
        f"{file}: {table}.{column['name']}: {sorted(set(column) - COLUMN_KEYS)}"
        for file, table, column in documented_columns()
        if set(column) - COLUMN_KEYS
    ]
    assert stray == []
    descriptions = {
        (table, column["name"]): column.get("description")
        for _, table, column in documented_columns()
    }
    assert descriptions["fct_user_messages", "sent_at"] == "When sent, UTC."
    assert descriptions["vip_messages", "kind"] == (
        "Content type (text, postback, attachment, other)."
    )
