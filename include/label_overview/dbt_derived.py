"""What every dbt process derives again from code that does not change between processes,
kept once per host: the JSON schemas of dbt's config classes and the Python code of the
templates it renders.

At each start dbt builds the schemas that dbt_project.yml and profiles.yml are validated
against (0.26 s of the dbt child's ~2 s start, on its one busy core, before the first node),
and in each build jinja compiles every macro and model it renders to Python code (~250
templates; 0.3–0.4 CPU-s, taken from the build's queries). A schema follows from its class
and a template's code from its source and the environment's extensions, for given versions of
the packages that derive them; so the dbt child starts from a file in the host's cache folder
named after those versions (and Python's, whose bytecode the code is), and writes it back when
it derived something new.

An entry is looked up by exactly what it was derived from (a schema by its class, a template
by its source), so one that no longer fits is never used, and past 2,000 templates a write
keeps only those its own process used; a file that is missing, unreadable or written by
other versions costs what dbt does anyway. The file is the user's own, trusted as Python's
``__pycache__`` is. With ``DBT_MACRO_DEBUGGING`` set, templates are compiled as dbt does, for
its debugging copies.

This replaces two of dbt's methods (``dbtClassMixin.json_schema`` of dbt-common 1.x and the
``compile`` jinja's ``Environment`` gives dbt's ``MacroFuzzEnvironment``); if a release drops
them, dbt derives everything itself, as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
from importlib.metadata import version
from pathlib import Path

from label_overview.files import cache_dir, write_atomic

# The packages whose code the entries follow from.
_DERIVED_BY = ("dbt-core", "dbt-common", "dbt-adapters", "dbt-duckdb", "mashumaro", "jinja2")
# A build uses ~250 templates; past this many kept entries, a write keeps only its own process's.
_MOST_KEPT = 2000


class DerivedCache:
    """The host's file of derived schemas and template code, in use in this process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.schemas: dict[str, dict] = {}
        self.templates: dict[str, bytes] = {}
        self._used: set[str] = set()
        self._derived = False
        with contextlib.suppress(Exception):  # any unreadable file: start from nothing
            kept = marshal.loads(path.read_bytes())
            self.schemas, self.templates = dict(kept["schemas"]), dict(kept["templates"])

    @classmethod
    def for_this_host(cls) -> DerivedCache:
        digest = hashlib.sha256(sys.version.encode())
        for name in _DERIVED_BY:
            digest.update(f"\0{name}=={version(name)}".encode())
        return cls(cache_dir() / f"dbt-derived-{digest.hexdigest()[:16]}.marshal")

    def install(self) -> None:
        """Make this process's dbt take its schemas and template code from here first."""
        from dbt_common.clients.jinja import MacroFuzzEnvironment
        from dbt_common.dataclass_schema import dbtClassMixin

        json_schema = dbtClassMixin.__dict__.get("json_schema")
        if isinstance(json_schema, classmethod):
            dbtClassMixin.json_schema = classmethod(self._schema_of(json_schema.__func__))
        if not os.environ.get("DBT_MACRO_DEBUGGING"):
            MacroFuzzEnvironment.compile = self._code_of(MacroFuzzEnvironment.compile)

    def save(self) -> None:
        """Write the file back, if this process derived anything it did not hold."""
        if not self._derived:
            return
        templates = self.templates
        if len(templates) > _MOST_KEPT:
            templates = {key: code for key, code in templates.items() if key in self._used}
        # A cache that cannot be written (or an entry marshal cannot hold) costs nothing.
        with contextlib.suppress(OSError, ValueError):
            write_atomic(
                self.path, marshal.dumps({"schemas": self.schemas, "templates": templates})
            )

    def _schema_of(self, dbt_json_schema):
        def json_schema(cls):
            name = f"{cls.__module__}.{cls.__qualname__}"
            schema = self.schemas.get(name)
            if schema is None:
                schema = self.schemas[name] = dbt_json_schema(cls)
                self._derived = True
            return schema

        return json_schema

    def _code_of(self, dbt_compile):
        def compile_or_take_kept(
            environment, source, name=None, filename=None, raw=False, defer_init=False
        ):
            if raw or not isinstance(source, str):
                return dbt_compile(environment, source, name, filename, raw, defer_init)
            derived_from = (
                type(environment).__qualname__,
                sorted(environment.extensions),
                source,
                name,
                filename,
                defer_init,
            )
            key = hashlib.sha256(repr(derived_from).encode()).hexdigest()
            self._used.add(key)
            kept = self.templates.get(key)
            if kept is not None:
                return marshal.loads(kept)
            code = dbt_compile(environment, source, name, filename, raw, defer_init)
            self.templates[key] = marshal.dumps(code)
            self._derived = True
            return code

        return compile_or_take_kept
