"""Python finds the layers' schemas through the manifest and the catalog, never by name."""

from __future__ import annotations

import json

import duckdb
import pytest

from behavioral_analytics import relations
from behavioral_analytics.relations import AmbiguousLayout, Layout


def _warehouse(tmp_path, tables: dict[str, list[str]]) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    for schema, names in tables.items():
        connection.execute(f"create schema {schema}")
        for name in names:
            connection.execute(f"create table {schema}.{name} as select 1 as x")
    return connection


def _manifest(tmp_path, schemas: dict[str, str]):
    nodes = {
        f"model.behavioral_analytics.{name}": {
            "name": name,
            "resource_type": "model",
            "schema": schema,
        }
        for name, schema in schemas.items()
    }
    nodes["test.behavioral_analytics.not_a_model"] = {
        "name": "fct_events",
        "resource_type": "test",
        "schema": "elsewhere",
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"nodes": nodes}), encoding="utf-8")
    return path


def test_default_layout_when_nothing_is_built(tmp_path):
    with _warehouse(tmp_path, {}) as connection:
        assert relations.layout(connection, tmp_path / "missing.json") == Layout()
    assert Layout().of("marts") == "main_marts"


def test_catalog_finds_custom_schemas_without_a_manifest(tmp_path):
    tables = {
        "acme_staging": ["stg_tracker__events"],
        "acme_intermediate": ["int_as_of_dates"],
        "acme_marts": ["fct_events", "dim_devices"],
    }
    with _warehouse(tmp_path, tables) as connection:
        found = relations.layout(connection, tmp_path / "missing.json")
    assert found == Layout("acme_staging", "acme_intermediate", "acme_marts")


def test_manifest_settles_a_warehouse_holding_a_layer_twice(tmp_path):
    tables = {
        "main_marts": ["fct_events"],
        "acme_marts": ["fct_events"],
        "acme_staging": ["stg_tracker__events"],
    }
    with _warehouse(tmp_path, tables) as connection:
        with pytest.raises(AmbiguousLayout, match="acme_marts, main_marts"):
            relations.layout(connection, tmp_path / "missing.json")
        manifest = _manifest(tmp_path, {"fct_events": "acme_marts"})
        found = relations.layout(connection, manifest)
    assert (found.marts, found.staging, found.intermediate) == (
        "acme_marts",
        "acme_staging",
        "main_intermediate",
    )


def test_a_stale_manifest_falls_back_to_the_catalog(tmp_path):
    # The manifest of another build names a schema this warehouse does not have.
    manifest = _manifest(tmp_path, {"fct_events": "old_marts", "int_as_of_dates": "x"})
    with _warehouse(tmp_path, {"new_marts": ["fct_events"]}) as connection:
        assert relations.layout(connection, manifest).marts == "new_marts"


def test_manifest_path_follows_dbt_target_path(tmp_path, monkeypatch):
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "t"))
    assert relations.manifest_path() == tmp_path / "t" / "manifest.json"
    monkeypatch.delenv("DBT_TARGET_PATH")
    assert relations.manifest_path().parent.name == "target"
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    assert relations.manifest_schemas(tmp_path / "bad.json") == {}
