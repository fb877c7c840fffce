"""Where a built warehouse keeps each layer's models: the schemas Python reads.

dbt puts a model in ``<target schema>_<custom schema>`` (``generate_schema_name``):
``main_marts`` is only what the default DuckDB profile gives. A profile with
another schema, or a project that changes a layer's ``+schema``, moves the
tables, so Python code never names a schema; it asks a ``Layout``.

Rules, per layer (``staging``, ``intermediate``, ``marts``), each found through
its anchor model (``ANCHORS``: a model every build has):

1. The dbt manifest of the build (``manifest.json`` in ``$DBT_TARGET_PATH``,
   else the project's ``target/``): the anchor's schema, when the warehouse
   holds the anchor there. The manifest is what dbt itself recorded.
2. Otherwise the warehouse's catalog: the schema that holds the anchor table
   (a warehouse copied without its project, or built with another target
   folder, still works). Two schemas holding it is an error naming both.
3. Otherwise (nothing built yet) ``main_<layer>``, so that the messages about
   a missing table keep naming the default.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from behavioral_analytics import project

ANCHORS = {
    "staging": "stg_tracker__events",
    "intermediate": "int_as_of_dates",
    "marts": "fct_events",
}


class AmbiguousLayout(RuntimeError):
    """The warehouse holds a layer's anchor model in more than one schema."""


@dataclass(frozen=True)
class Layout:
    """The schema of each layer in one warehouse."""

    staging: str = "main_staging"
    intermediate: str = "main_intermediate"
    marts: str = "main_marts"

    def of(self, layer: str) -> str:
        return getattr(self, layer)


def manifest_path() -> Path:
    """The manifest of the latest dbt run: $DBT_TARGET_PATH, else the project's target/."""
    target = os.environ.get("DBT_TARGET_PATH")
    folder = Path(target) if target else project.PROJECT_ROOT / "target"
    if not folder.is_absolute():
        folder = project.PROJECT_ROOT / folder
    return folder / "manifest.json"


def manifest_schemas(path: Path | None = None) -> dict[str, str]:
    """Model name -> schema, from a dbt manifest (empty when there is none or it is unreadable)."""
    path = manifest_path() if path is None else path
    try:
        nodes = json.loads(path.read_text(encoding="utf-8")).get("nodes", {})
    except (OSError, ValueError):
        return {}
    return {
        node["name"]: node["schema"]
        for node in nodes.values()
        if node.get("resource_type") == "model" and node.get("schema")
    }


def _catalog_schemas(connection: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = connection.execute(
        "select distinct table_schema from information_schema.tables"
        " where table_name = ? and table_catalog = current_database() order by 1",
        [table],
    ).fetchall()
    return [row[0] for row in rows]


def layout(connection: duckdb.DuckDBPyConnection, manifest: Path | None = None) -> Layout:
    """The layers' schemas in the warehouse behind ``connection`` (rules above)."""
    recorded = manifest_schemas(manifest)
    found: dict[str, str] = {}
    for layer, anchor in ANCHORS.items():
        holders = _catalog_schemas(connection, anchor)
        if recorded.get(anchor) in holders:
            found[layer] = recorded[anchor]
        elif len(holders) > 1:
            raise AmbiguousLayout(
                f"the warehouse holds {anchor} in schemas {', '.join(holders)}: "
                "set DBT_TARGET_PATH to the target folder of the build to read"
            )
        elif holders:
            found[layer] = holders[0]
    return Layout(**found)


_DEFAULT_NAMES = re.compile(r"\bmain_(staging|intermediate|marts)\.")


def localize(text: str, found: Layout) -> str:
    """``text`` (a relation or SQL written with the default ``main_<layer>.`` names, as
    the committed Great Expectations suites are) with each layer's schema in ``found``."""
    return _DEFAULT_NAMES.sub(lambda match: f"{found.of(match.group(1))}.", text)
