"""Run the Great Expectations suites in ``gx/expectations`` against the warehouse.

The suites are Great Expectations' own JSON files, committed and reviewed in
git. Each names the relation it checks in its ``meta.relation``, and may
name ``meta.parameters``: SQL scalars computed on the warehouse and passed
as ``$PARAMETER`` values (row-count relations such as sessions <= events). A run loads
them into a file-backed context under ``target/gx`` (rebuilt every run, so
the committed files never change), reads each relation read-only from the
DuckDB file into pandas (Great Expectations' SQL route fails on DuckDB) and
validates it; the results go to Great Expectations' HTML data docs.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx  # noqa: E402
from great_expectations.checkpoint.actions import UpdateDataDocsAction  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

from behavioral_analytics import project

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
    results: list[SuiteResult] = []
    if not Path(warehouse).exists():
        raise FileNotFoundError(f"no warehouse at {warehouse}: run `dbt build` first")
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for suite in selected:
            suite = context.suites.add(suite)
            relation = (suite.meta or {}).get("relation")
            if not relation:
                raise ValueError(f"suite {suite.name} has no meta.relation naming what it checks")
            frame = connection.execute(f"select * from {relation}").df()
            asset = datasource.add_dataframe_asset(relation)
            batch_definition = asset.add_batch_definition_whole_dataframe("whole_relation")
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
                name: connection.execute(sql).fetchone()[0]
                for name, sql in (suite.meta or {}).get("parameters", {}).items()
            }
            run = checkpoint.run(
                batch_parameters={"dataframe": frame}, expectation_parameters=parameters
            )
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
            results.append(SuiteResult(suite.name, relation, len(frame), evaluated, failures))
    if build_docs:
        context.build_data_docs()
    return results


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
