"""The package's copy of the label-overview schema is the spec's."""

from __future__ import annotations

import json
from pathlib import Path

from label_overview.contract import label_overview_schema

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "label-overview.schema.json"


def test_schema_copy_equals_the_spec_beside_the_repo():
    # CI and every developer checkout have shared/ beside the repo (see DEVELOPERS.md).
    assert label_overview_schema() == json.loads(SPEC.read_text())
