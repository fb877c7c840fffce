"""Run the Great Expectations suites in ``gx/expectations`` against the warehouse.

The suites are Great Expectations' own JSON files, committed and reviewed in
git. Each names the relation it checks in its ``meta.relation`` (by the default
layout, ``main_marts.<model>``: a run reads the warehouse's own schemas, see
``relations``), and may
name ``meta.parameters``: SQL scalars computed on the warehouse and passed
as ``$PARAMETER`` values (row-count relations such as sessions <= events). A run loads
them into a file-backed context under ``target/gx`` (rebuilt every run, so
the committed files never change), reads each relation read-only from the
DuckDB file into pandas (Great Expectations' SQL route fails on DuckDB) and
validates it; the results go to Great Expectations' HTML data docs. On
PostgreSQL (``validate_postgres``) the SQL route works: each expectation runs
as a query on the server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx  # noqa: E402
from great_expectations.checkpoint.actions import UpdateDataDocsAction  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

from behavioral_analytics import project, relations

SUITES_DIR = None  # None: <project>/gx/expectations (tests may point elsewhere)
RUNTIME_ROOT = None  # None: <project>/target/gx


def suites_dir() -> Path:
    return SUITES_DIR or project.PROJECT_ROOT / "gx" / "expectations"


def runtime_root() -> Path:
    return RUNTIME_ROOT or project.PROJECT_ROOT / "target" / "gx"


DATASOURCE = "warehouse"


@dataclass
class Failure:
    suite: str
    relation: str
    expectation: str
    column: str | None
    unexpected_count: int | None
    sample: list = field(default_factory=list)

    def describe(self) -> str:
        where = f"column {self.column}" if self.column else "table"
        count = "" if self.unexpected_count is None else f", {self.unexpected_count} unexpected"
        sample = f", e.g. {self.sample[:5]}" if self.sample else ""
        return f"suite {self.suite} ({self.relation}): {self.expectation} on {where}{count}{sample}"


@dataclass
class SuiteResult:
    suite: str
    relation: str
    rows: int
    evaluated: int
    failures: list[Failure]

    @property
    def success(self) -> bool:
        return not self.failures


def _column_of(kwargs: dict) -> str | None:
    if "column" in kwargs:
        return kwargs["column"]
    if "column_list" in kwargs:
        return ", ".join(kwargs["column_list"])
    if "column_A" in kwargs:
        return f"{kwargs['column_A']}, {kwargs['column_B']}"
    return None


def _sample(result: dict) -> list:
    values = result.get("partial_unexpected_list") or []
    return [value if not isinstance(value, float) else round(value, 6) for value in values][:10]


def validate_warehouse(
    warehouse: Path, suites: list[str] | None = None, build_docs: bool = True
) -> list[SuiteResult]:
    """Validate every suite (or the named ones); return one result per suite."""
    context = _runtime_context()
    datasource = context.data_sources.add_pandas(DATASOURCE)
    selected = load_suites(suites)
    if not Path(warehouse).exists():
        raise FileNotFoundError(f"no warehouse at {warehouse}: run `dbt build` first")
    with duckdb.connect(str(warehouse), read_only=True) as connection:

        def batch(relation: str):
            frame = connection.execute(f"select * from {relation}").df()
            asset = datasource.add_dataframe_asset(relation)
            definition = asset.add_batch_definition_whole_dataframe("whole_relation")
            return definition, {"dataframe": frame}, len(frame)

        def scalar(sql: str):
            return connection.execute(sql).fetchone()[0]

        layout = relations.layout(connection)
        results = [
            _validate_suite(context, suite, batch, scalar, build_docs, layout) for suite in selected
        ]
    if build_docs:
        context.build_data_docs()
    return results


def validate_postgres(
    connection_string: str, suites: list[str] | None = None, build_docs: bool = True
) -> tuple[list[SuiteResult], list[str]]:
    """The same suites on PostgreSQL through Great Expectations' SQL route (each
    expectation a query on the server). Returns the results and the suites whose
    relation is not there (the Python models' tables: disabled on PostgreSQL)."""
    import sqlalchemy

    context = _runtime_context()
    datasource = context.data_sources.add_postgres(DATASOURCE, connection_string=connection_string)
    engine = sqlalchemy.create_engine(connection_string)
    inspector = sqlalchemy.inspect(engine)

    def exists(relation: str) -> bool:
        schema, name = relation.split(".")
        return inspector.has_table(name, schema=schema) or name in inspector.get_view_names(
            schema=schema
        )

    def batch(relation: str):
        schema, name = relation.split(".")
        asset = datasource.add_table_asset(relation, table_name=name, schema_name=schema)
        return (
            asset.add_batch_definition_whole_table("whole_relation"),
            None,
            scalar(f"select count(*) from {relation}"),
        )

    def scalar(sql: str):
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.text(sql)).scalar()

    results, missing = [], []
    try:
        for suite in load_suites(suites):
            if not exists(_relation_of(suite)):
                missing.append(suite.name)
                continue
            results.append(_validate_suite(context, suite, batch, scalar, build_docs))
    finally:
        engine.dispose()
    if build_docs:
        context.build_data_docs()
    return results, missing


def _relation_of(suite) -> str:
    relation = (suite.meta or {}).get("relation")
    if not relation:
        raise ValueError(f"suite {suite.name} has no meta.relation naming what it checks")
    return relation


def _validate_suite(
    context, suite, batch, scalar, build_docs: bool, layout: relations.Layout | None = None
) -> SuiteResult:
    """One suite on its relation: ``batch(relation)`` gives the batch definition, its
    batch parameters and the row count; ``scalar(sql)`` computes meta.parameters. The
    suites name relations by the default layout (``main_marts``, ...); ``layout`` is
    where this warehouse has them (``relations.localize``)."""
    layout = layout or relations.Layout()
    suite = context.suites.add(suite)
    relation = relations.localize(_relation_of(suite), layout)
    batch_definition, batch_parameters, rows = batch(relation)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(
            name=f"{suite.name}__{relation}", data=batch_definition, suite=suite
        )
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"{suite.name}__checkpoint",
            validation_definitions=[definition],
            actions=[UpdateDataDocsAction(name="update_data_docs")] if build_docs else [],
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 10},
        )
    )
    parameters = {
        name: scalar(relations.localize(sql, layout))
        for name, sql in (suite.meta or {}).get("parameters", {}).items()
    }
    run = checkpoint.run(batch_parameters=batch_parameters, expectation_parameters=parameters)
    failures = []
    evaluated = 0
    for validation in run.run_results.values():
        for outcome in validation.results:
            evaluated += 1
            if outcome.success:
                continue
            config = outcome.expectation_config
            failures.append(
                Failure(
                    suite=suite.name,
                    relation=relation,
                    expectation=config.type,
                    column=_column_of(config.kwargs),
                    unexpected_count=outcome.result.get("unexpected_count"),
                    sample=_sample(outcome.result),
                )
            )
    return SuiteResult(suite.name, relation, rows, evaluated, failures)


def load_suites(names: list[str] | None = None) -> list:
    """The committed suites (all, or the named ones), as Great Expectations objects."""
    suites = []
    for path in sorted(suites_dir().glob("*.json")):
        definition = json.loads(path.read_text())
        if names and definition["name"] not in names:
            continue
        suites.append(gx.ExpectationSuite(**definition))
    if names:
        missing = set(names) - {suite.name for suite in suites}
        if missing:
            raise ValueError(f"no suite named {sorted(missing)} in {suites_dir()}")
    return suites


_RELATION = re.compile(r"\bmain_(?:staging|intermediate|marts)\.[a-z0-9_]+")


def spark_copy(names: list[str] | None = None) -> tuple[Path, list[str], list[str]]:
    """The suites' relations (each suite's and those its parameters' SQL reads) copied
    from the spark target's session into a DuckDB file beside its warehouse, by
    .venv-spark's Python (``spark_export --duckdb``). Returns the file, the suites
    whose relations it holds and those with a relation not on Spark (a Python model's
    table before `behavior score --target spark`, a model a later version renamed)."""
    from behavioral_analytics import spark_session

    python = project.PROJECT_ROOT / ".venv-spark" / "bin" / "python"
    if not python.exists():
        raise FileNotFoundError(
            f"no {python}: scripts/bootstrap.sh makes the Spark environment"
            " (unless BEHAVIOR_SKIP_SPARK=1)"
        )
    suites = load_suites(names)
    wanted = sorted(
        {
            relation
            for suite in suites
            for relation in _RELATION.findall(json.dumps(suite.meta or {}))
        }
    )
    out = spark_session.warehouse_dir() / "gx_copy.duckdb"
    out.unlink(missing_ok=True)
    subprocess.run(
        [str(python), "-m", "behavioral_analytics.spark_export", "--duckdb", str(out), *wanted],
        cwd=project.PROJECT_ROOT,
        env={**os.environ, "TZ": "UTC"},
        check=True,
    )
    with duckdb.connect(str(out), read_only=True) as connection:
        copied = {
            f"{schema}.{name}"
            for schema, name in connection.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
    held = [
        suite.name
        for suite in suites
        if {_relation_of(suite), *_RELATION.findall(json.dumps(suite.meta or {}))} <= copied
    ]
    return out, held, [suite.name for suite in suites if suite.name not in held]


def data_docs_index() -> Path:
    return runtime_root() / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def _runtime_context():
    root = runtime_root()
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    context = gx.get_context(mode="file", project_root_dir=str(root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.save()
    return context
