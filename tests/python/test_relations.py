"""Python finds the layers' schemas through the manifest and the catalog, never by name."""

from __future__ import annotations

import json

import duckdb
import pytest
from click.testing import CliRunner

from behavioral_analytics import cli, project, relations
from behavioral_analytics.generator import generate
from behavioral_analytics.quality import gx_suites
from behavioral_analytics.relations import AmbiguousLayout, Layout

from .conftest import TEST_PII_SALT, run_dbt


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


@pytest.fixture(scope="module")
def custom_schema_build(tmp_path_factory):
    """A small sample built with the profile's schema set to `acme` (no main_* schema)."""
    tmp = tmp_path_factory.mktemp("acme")
    generate(out_dir=tmp, persons=30, days=4, seed=11, progress=False)
    warehouse = tmp / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir(parents=True)
    run_dbt(
        ["build", "--target", "duckdb"],
        tmp / "events",
        warehouse,
        env_overrides={"BEHAVIOR_DUCKDB_SCHEMA": "acme"},
    )
    return tmp, warehouse


def test_commands_read_a_build_with_a_custom_schema(custom_schema_build, monkeypatch):
    root, warehouse = custom_schema_build
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute("select schema_name from duckdb_schemas()").fetchall()
        schemas = {row[0] for row in rows}
        assert {"acme_staging", "acme_intermediate", "acme_marts"} <= schemas
        assert not {"main_staging", "main_intermediate", "main_marts"} & schemas
    # Another build's target folder: the catalog finds the layers all the same.
    monkeypatch.setenv("DBT_TARGET_PATH", str(root / "no-such-target"))
    monkeypatch.setenv(project.PII_SALT_ENV, TEST_PII_SALT)
    monkeypatch.setattr(gx_suites, "RUNTIME_ROOT", root / "gx_runtime")  # not the shared one
    for args in (
        ["summary"],
        ["score", "--truth", str(root / "truth")],
        # The SQL layers' suites whose relations and parameters span all three
        # layers (the Python models are not built here).
        ["validate", "--no-docs"]
        + [
            f"--suite={suite}"
            for suite in (
                "raw_contract",
                "staging_quarantine",
                "intermediate_sessionized",
                "marts_events",
                "marts_reconciliation",
                "marts_person_features",
            )
        ],
        ["report", "--out", str(root / "report.html")],
    ):
        result = CliRunner().invoke(cli.main, [*args[:1], "--warehouse", str(warehouse), *args[1:]])
        assert result.exit_code == 0, (args, result.output)
        assert "main_marts" not in result.output, (args, result.output)
    summary = CliRunner().invoke(cli.main, ["summary", "--warehouse", str(warehouse)]).output
    assert "acme_marts.fct_events" in summary
    assert "acme_marts." in (root / "report.html").read_text(encoding="utf-8")


def test_localize_rewrites_only_the_default_layer_names():
    found = Layout("acme_staging", "acme_intermediate", "acme_marts")
    sql = (
        "select count(*) from main_marts.fct_events join main_staging.x using (id)"
        " where note = 'domain_marts.y' and remain_marts.z"
    )
    assert relations.localize(sql, found) == (
        "select count(*) from acme_marts.fct_events join acme_staging.x using (id)"
        " where note = 'domain_marts.y' and remain_marts.z"
    )
    assert relations.localize("main_intermediate.int_as_of_dates", Layout()) == (
        "main_intermediate.int_as_of_dates"
    )
