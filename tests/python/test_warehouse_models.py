"""`behavior score --target postgres|spark`'s parts that need no warehouse: the plan
from a manifest, and the delete+insert merge of a Python model's rows (the runs on
PostgreSQL and Spark are in the equivalence tests)."""

from __future__ import annotations

import duckdb
import pytest

from behavioral_analytics.dbt_models.contract import declared_columns
from behavioral_analytics.warehouse_models.plan import PlanError, PythonModel, Relation, plan
from behavioral_analytics.warehouse_models.runner import merge_rows


def _node(name: str, language: str, refs=(), enabled=True, schema="main_marts") -> dict:
    return {
        "name": name,
        "alias": name,
        "schema": schema,
        "language": language,
        "resource_type": "model",
        "package_name": "behavioral_analytics",
        "original_file_path": f"python_models/{name}.py",
        "refs": [{"name": ref} for ref in refs],
        "config": {"enabled": enabled, "materialized": "incremental", "unique_key": "as_of_date"},
    }


def _manifest(*nodes: dict) -> dict:
    enabled = {f"model.x.{node['name']}": node for node in nodes if node["config"]["enabled"]}
    disabled = {
        f"model.x.{node['name']}": [node] for node in nodes if not node["config"]["enabled"]
    }
    return {
        "metadata": {"project_name": "behavioral_analytics"},
        "nodes": enabled,
        "disabled": disabled,
    }


def test_plan_runs_parents_first_and_reads_the_sql_models_where_dbt_put_them():
    manifest = _manifest(
        _node("person_features", "sql", schema="acme_marts"),
        _node("int_as_of_dates", "sql", schema="acme_intermediate"),
        _node("scores", "python", ["person_features", "segments"], enabled=False),
        _node("segments", "python", ["person_features", "int_as_of_dates"], enabled=False),
        _node("drift", "python", ["scores"], enabled=False),
    )
    result = plan(manifest)
    assert [model.name for model in result.models] == ["segments", "scores", "drift"]
    assert result.inputs == {
        "int_as_of_dates": Relation("acme_intermediate", "int_as_of_dates"),
        "person_features": Relation("acme_marts", "person_features"),
    }
    assert result.models[0].unique_key == "as_of_date"


def test_plan_refuses_an_input_the_target_does_not_build():
    manifest = _manifest(
        _node("person_features", "sql", enabled=False),
        _node("segments", "python", ["person_features"], enabled=False),
    )
    with pytest.raises(PlanError, match="refs person_features, disabled"):
        plan(manifest)
    with pytest.raises(PlanError, match="no Python models"):
        plan(_manifest(_node("person_features", "sql")))


def test_merge_replaces_the_rows_of_the_new_keys_and_keeps_the_others():
    """dbt's delete+insert: the earlier rows whose as_of_date the run wrote again are
    replaced, the other dates kept; a table materialization keeps only the new rows."""
    connection = duckdb.connect()
    columns = ", ".join(f'"{name}" {kind}' for name, kind in declared_columns("segment_model_runs"))
    for table in ("this", "new"):
        connection.execute(f"create table {table} ({columns})")
    connection.execute(
        "insert into this (as_of_date, model_version) values"
        " ('2026-01-01', 'old-1'), ('2026-01-08', 'old-2')"
    )
    connection.execute(
        "insert into new (as_of_date, model_version) values"
        " ('2026-01-08', 'new-2'), ('2026-01-15', 'new-3')"
    )
    model = PythonModel(
        "segment_model_runs",
        path=None,
        relation=Relation("main_marts", "segment_model_runs"),
        config={"materialized": "incremental", "unique_key": "as_of_date"},
        refs=(),
    )
    merge_rows(connection, model, "new", "this", "merged")
    rows = connection.execute(
        "select cast(as_of_date as varchar), model_version from merged order by 1"
    ).fetchall()
    assert rows == [("2026-01-01", "old-1"), ("2026-01-08", "new-2"), ("2026-01-15", "new-3")]
    table = PythonModel(model.name, None, model.relation, {"materialized": "table"}, ())
    merge_rows(connection, table, "new", "this", "whole")
    assert connection.execute("select count(*) from whole").fetchone()[0] == 2
