"""The schemas and template code dbt derives, kept once per host (dbt_derived.py)."""

import marshal

import pytest
from dbt.contracts.project import Project
from dbt_common.clients.jinja import MacroFuzzEnvironment, get_environment
from dbt_common.dataclass_schema import dbtClassMixin
from mashumaro.jsonschema import build_json_schema

from label_overview import dbt_derived
from label_overview.dbt_derived import DerivedCache

TEMPLATE = "{% for i in range(n) %}{{ i * 2 }},{% endfor %}"


@pytest.fixture
def dbt_methods(monkeypatch):
    """Puts dbt's own methods back in place, as a new dbt process has them; and after the
    test."""
    json_schema = dbtClassMixin.__dict__["json_schema"]
    compile_template = MacroFuzzEnvironment.compile

    def as_in_a_new_process():
        monkeypatch.setattr(dbtClassMixin, "json_schema", json_schema)
        monkeypatch.setattr(MacroFuzzEnvironment, "compile", compile_template)

    as_in_a_new_process()
    monkeypatch.delenv("DBT_MACRO_DEBUGGING", raising=False)
    return as_in_a_new_process


def test_a_second_process_takes_what_the_first_derived(tmp_path, dbt_methods):
    path = tmp_path / "derived.marshal"
    first = DerivedCache(path)
    first.install()
    assert Project.json_schema() == build_json_schema(Project).to_dict()
    assert get_environment().from_string(TEMPLATE).render({"n": 3}) == "0,2,4,"
    first.save()

    dbt_methods()
    second = DerivedCache(path)
    assert second.schemas["dbt.contracts.project.Project"] == build_json_schema(Project).to_dict()
    assert len(second.templates) == 1
    second.install()
    assert Project.json_schema() == build_json_schema(Project).to_dict()
    assert get_environment().from_string(TEMPLATE).render({"n": 3}) == "0,2,4,"
    # Nothing new was derived, so nothing is written.
    path.unlink()
    second.save()
    assert not path.exists()


def test_a_changed_template_is_compiled_again(tmp_path, dbt_methods):
    path = tmp_path / "derived.marshal"
    first = DerivedCache(path)
    first.install()
    assert get_environment().from_string(TEMPLATE).render({"n": 3}) == "0,2,4,"
    first.save()

    dbt_methods()
    second = DerivedCache(path)
    second.install()
    changed = TEMPLATE.replace("i * 2", "i * 3")
    assert get_environment().from_string(changed).render({"n": 3}) == "0,3,6,"
    second.save()
    assert len(DerivedCache(path).templates) == 2


def test_an_unreadable_file_starts_from_nothing(tmp_path):
    path = tmp_path / "derived.marshal"
    for content in (b"not marshal", marshal.dumps({"schemas": {}}), marshal.dumps([1, 2])):
        path.write_bytes(content)
        cache = DerivedCache(path)
        assert (cache.schemas, cache.templates) == ({}, {})


def test_past_the_bound_a_write_keeps_only_its_own_templates(tmp_path, dbt_methods, monkeypatch):
    path = tmp_path / "derived.marshal"
    path.write_bytes(marshal.dumps({"schemas": {}, "templates": {"old": b"", "older": b""}}))
    monkeypatch.setattr(dbt_derived, "_MOST_KEPT", 2)
    cache = DerivedCache(path)
    cache.install()
    assert get_environment().from_string(TEMPLATE).render({"n": 3}) == "0,2,4,"
    cache.save()
    assert "old" not in DerivedCache(path).templates
    assert len(DerivedCache(path).templates) == 1


def test_macro_debugging_compiles_as_dbt_does(tmp_path, dbt_methods, monkeypatch):
    monkeypatch.setenv("DBT_MACRO_DEBUGGING", "1")
    dbt_compile = MacroFuzzEnvironment.compile
    DerivedCache(tmp_path / "derived.marshal").install()
    assert MacroFuzzEnvironment.compile is dbt_compile


def test_the_host_file_is_named_by_the_versions_it_follows(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = DerivedCache.for_this_host().path
    assert path.parent == tmp_path / "label-overview"
    assert path.name.startswith("dbt-derived-") and path.suffix == ".marshal"
    monkeypatch.setattr(dbt_derived, "_DERIVED_BY", (*dbt_derived._DERIVED_BY, "duckdb"))
    assert DerivedCache.for_this_host().path != path
