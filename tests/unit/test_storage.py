"""Storage settings and names, without a server: the URL's shape, where users find a file,
and a data root without a storage left as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from label_overview import lineage
from label_overview.settings import Settings, SettingsError
from label_overview.storage import Storage, Sync, located, scratch


@pytest.mark.parametrize(
    "url", ["s3://", "s3://B/x", "s3://key:secret@bucket/x", "https://bucket/x", "s3://b/x y"]
)
def test_a_storage_url_must_name_a_bucket_and_plain_prefix(url):
    with pytest.raises(SettingsError, match="^LABEL_OVERVIEW_STORAGE_URL must look like s3://"):
        Settings.from_env({"LABEL_OVERVIEW_STORAGE_URL": url})


def test_no_storage_url_keeps_the_data_root_local(tmp_path):
    settings = Settings(home=tmp_path)
    assert Storage.of(settings) is None
    with scratch(settings, Sync(push=["landing"])) as same:
        assert same is settings


def test_files_are_named_by_their_bucket_with_a_storage_and_by_their_path_without():
    home = Path("/srv/data")
    manifest = home / "exports" / "W" / "manifest.json"
    remote = Settings(home=home, storage_url="s3://bucket/a/b")
    assert located(remote, manifest) == "s3://bucket/a/b/exports/W/manifest.json"
    assert located(Settings(home=home), manifest) == str(manifest)
    [dataset] = lineage.files(remote, [manifest])
    assert (dataset.namespace, dataset.name) == ("s3://bucket", "a/b/exports/W/manifest.json")
    [dataset] = lineage.files(Settings(home=home), [manifest])
    assert (dataset.namespace, dataset.name) == ("file", str(manifest))
