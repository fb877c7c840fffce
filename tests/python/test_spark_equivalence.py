"""The same events on Apache Spark and on DuckDB give the same tables, row for row.

A local Spark session (dbt-spark ``method: session``, pyspark in .venv-spark,
made by scripts/bootstrap.sh; Java 17): a small generated data set (30
persons, 7 days) loaded by ``behavior load``'s loader with the Spark writer
and built with ``dbt build --target spark`` without tests (seeds and every
SQL model; dbt's Python models are disabled there and run as ``behavior
score --target spark`` runs them), the same files built on DuckDB (with
dbt-duckdb's own run of the Python models), then every table and view of
staging, intermediate and marts compared row for row
(``cross_engine``: timestamps to the millisecond, floats within a relative
1e-9, ids and text exactly). The Spark side runs in one .venv-spark process
(``spark_pipeline.py``: one JVM start) that also exports Spark's tables for
this process, which has no pyspark (STACK_NOTES says why), and loads the files
again to show the rerun adds nothing. Unit and data tests also pass on Spark
(``dbt build --target spark``, README) but take minutes there, so CI runs
them on DuckDB and PostgreSQL only. The whole file took 5m48s here (2 idle
cores; 9m32s beside another test run); CI runs it (scripts/test.sh installs
.venv-spark in the background and sets BEHAVIOR_SPARK_TESTS=1), and conftest
starts it first so it is not the last file a worker takes.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from behavioral_analytics import project
from behavioral_analytics.cross_engine import canonical_rows, compare_relation
from behavioral_analytics.equivalence import RUN_STATE_TABLES
from behavioral_analytics.generator import generate

from .conftest import TEST_PII_SALT, python_model_names, relations_in, run_dbt

pytestmark = pytest.mark.e2e

SPARK_BIN = project.PROJECT_ROOT / ".venv-spark" / "bin"
SCHEMAS = ("main_staging", "main_intermediate", "main_marts")
# The shape signature is the engine's own text (json_signature): the shapes
# table groups differently; the fields read from it (int_event_fields_observed,
# a view) are compared instead.
# The last run's increment (int_devices_touched) holds each engine's own hash
# (signature_agg) and the run's start time.
ENGINE_OWN = {"main_staging.stg_tracker__event_shapes", *RUN_STATE_TABLES}
# The funnel attempts keep the signature of the events they were measured
# from (signature_agg: each engine's own hash).
ENGINE_OWN_COLUMNS = {"field_signature", "properties_signature", "person_events_signature"}
# seeds and models: the tests take minutes on Spark (module docstring)
NO_TESTS = ["--exclude", "resource_type:test", "resource_type:unit_test"]
# a one-day churn horizon: a week of events trains and validates a churn model
VARS = ["--vars", json.dumps({"behavior__churn_horizon_days": 1})]

# BEHAVIOR_SPARK_TESTS: 1 (scripts/test.sh, CI) runs them and fails when Spark cannot
# start; 0 leaves them out; unset runs them where .venv-spark and Java exist.
_WANTED = os.environ.get("BEHAVIOR_SPARK_TESTS", "")
_MISSING = [
    reason
    for reason, missing in (
        (
            "no .venv-spark (dbt-spark + pyspark): scripts/bootstrap-spark.sh makes it",
            not (SPARK_BIN / "dbt").exists(),
        ),
        ("no java on the PATH: Spark needs Java 17", shutil.which("java") is None),
    )
    if missing
]
if _WANTED == "0":
    pytest.skip("BEHAVIOR_SPARK_TESTS=0 leaves the Spark tests out", allow_module_level=True)
if _MISSING and _WANTED == "1":
    pytest.fail("BEHAVIOR_SPARK_TESTS=1 but " + "; ".join(_MISSING), pytrace=False)
if _MISSING:
    pytest.skip("; ".join(_MISSING), allow_module_level=True)


def _spark_env(events: Path, warehouse: Path) -> dict[str, str]:
    env = project.dbt_environment(events_path=events)
    env.update(
        {
            "BEHAVIOR_SPARK_WAREHOUSE": str(warehouse),
            project.PII_SALT_ENV: TEST_PII_SALT,
            "TZ": "UTC",
            "DBT_LOG_PATH": str(warehouse / "logs"),
            "DBT_TARGET_PATH": str(warehouse / "target"),
        }
    )
    return env


def _run(command: list[str], env: dict[str, str]) -> str:
    completed = subprocess.run(
        command, cwd=project.PROJECT_ROOT, env=env, capture_output=True, text=True, check=False
    )
    output = completed.stdout + completed.stderr
    if completed.returncode != 0:
        raise AssertionError(f"{' '.join(command[:3])} failed:\n{output[-6000:]}")
    return completed.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The data set loaded and built on both engines; prints each engine's time."""
    root = tmp_path_factory.mktemp("spark_equivalence")
    generate(root / "sample", persons=30, days=7, seed=5)
    events = root / "sample" / "events"
    env = _spark_env(events, root / "spark")
    exported = root / "spark_tables.pickle"
    started = time.perf_counter()
    # load, dbt build, export and the load again in one process: one JVM start
    output = _run(
        [str(SPARK_BIN / "python"), str(Path(__file__).with_name("spark_pipeline.py"))]
        + [str(exported), "build", "--target", "spark", *VARS, *NO_TESTS],
        env,
    )
    spark_seconds = time.perf_counter() - started
    summary = json.loads(output.strip().splitlines()[-1])
    summary["spark_warehouse"] = str(root / "spark")
    started = time.perf_counter()
    warehouse = root / "duckdb" / "warehouse.duckdb"
    run_dbt(
        ["build", "--target", "duckdb", *VARS, *NO_TESTS], events, warehouse, python_models=True
    )
    duckdb_seconds = time.perf_counter() - started
    print(
        f"\nSpark: {spark_seconds:.1f} s in all (load {summary['load_seconds']} s, dbt build"
        f" {summary['build_seconds']} s, Python models {summary['python_models_seconds']} s,"
        f" export {summary['export_seconds']} s); DuckDB: dbt build {duckdb_seconds:.1f} s"
        " (seeds and models)"
    )
    with open(exported, "rb") as handle:
        spark_tables = pickle.load(handle)
    return warehouse, spark_tables, summary


def _canonical(columns: list[str], rows: list[tuple]) -> tuple[list[str], list[tuple]]:
    keep = [index for index, name in enumerate(columns) if name not in ENGINE_OWN_COLUMNS]
    return canonical_rows(
        [columns[index] for index in keep], ([row[index] for index in keep] for row in rows)
    )


def test_every_table_and_view_equal_on_spark_and_duckdb(built):
    warehouse, spark_tables, summary = built
    assert set(summary["python_models"]) == python_model_names()
    assert summary["python_models"]["person_churn_scores"] > 0  # a churn model trained
    with duckdb.connect(str(warehouse), read_only=True) as duck:
        cursor = duck.cursor()
        on_duckdb = relations_in(cursor, SCHEMAS)
        assert on_duckdb == sorted(spark_tables)
        assert len(on_duckdb) > 30
        differences = []
        for relation in on_duckdb:
            if relation in ENGINE_OWN:
                continue
            cursor.execute(f"select * from {relation}")
            columns = [column[0] for column in cursor.description]
            differences += compare_relation(
                relation,
                _canonical(columns, cursor.fetchall()),
                _canonical(*spark_tables[relation]),
            )
    assert len(spark_tables["main_marts.fct_sessions"][1]) > 20
    assert not differences, "\n".join(str(difference) for difference in differences)


def test_load_rerun_adds_nothing(built):
    _, spark_tables, summary = built
    assert summary["files"] > 40 and summary["unreadable"] == 0
    assert (summary["rerun_files"], summary["rerun_lines"]) == (0, 0)
    assert summary["rerun_skipped"] == summary["files"]
    staged = spark_tables["main_staging.base_tracker__event_lines"][1]
    assert len(staged) == summary["lines"]  # every loaded line staged once


def test_great_expectations_suites_pass_on_a_duckdb_copy_of_spark(built, monkeypatch):
    """`behavior validate --target spark`'s route: the suites' relations copied from the
    Spark session into DuckDB (by .venv-spark's Python), every suite passes there."""
    from behavioral_analytics.quality.gx_suites import spark_copy, suites_dir, validate_warehouse

    monkeypatch.setenv("BEHAVIOR_SPARK_WAREHOUSE", built[2]["spark_warehouse"])
    copy, held, missing = spark_copy()
    assert not missing  # the Python models' tables too (written by the pipeline)
    assert len(held) == len(list(suites_dir().glob("*.json")))
    results = validate_warehouse(copy, held, build_docs=False)
    failures = [failure.describe() for result in results for failure in result.failures]
    assert not failures, "\n".join(failures)
    assert min(result.rows for result in results if result.suite == "marts_sessions") > 20


def test_load_killed_with_sigkill_and_rerun_has_every_line_once(tmp_path):
    """`behavior load --target spark` killed (SIGKILL) after its first batch reached
    Spark, then run again: every line of every file once, none missing. The Derby
    metastore of the killed JVM is left locked on disk; the rerun opens it."""
    from behavioral_analytics.load.files import raw_files
    from behavioral_analytics.load.lines import read_lines
    from behavioral_analytics.load.spark import FLUSH_FILES

    generate(tmp_path / "sample", persons=40, days=24, seed=8)
    events = tmp_path / "sample" / "events"
    expected = {raw.file_name: sum(1 for _ in read_lines(raw)) for raw in raw_files(events)}
    assert len(expected) > 2 * FLUSH_FILES  # three batches: the kill lands between two
    env = _spark_env(events, tmp_path / "spark")
    command = [str(SPARK_BIN / "behavior"), "load", "--target", "spark", "--quiet"]
    partitions = tmp_path / "spark" / "tables" / "raw.db" / "event_lines"
    process = subprocess.Popen(
        command,
        cwd=project.PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 300
    while not any(partitions.glob("received_date=*")) and process.poll() is None:
        assert time.monotonic() < deadline, "no batch reached Spark in 5 minutes"
        time.sleep(0.2)
    assert process.poll() is None, "the load finished before it could be killed"
    process.kill()
    process.wait()
    rerun = _run(command, env)
    assert "already loaded" in rerun
    exported = tmp_path / "raw.pickle"
    _run(
        [
            str(SPARK_BIN / "python"),
            "-m",
            "behavioral_analytics.spark_export",
            str(exported),
            "raw",
        ],
        env,
    )
    with open(exported, "rb") as handle:
        columns, rows = pickle.load(handle)["raw.event_lines"]
    file_name, line_number = columns.index("file_name"), columns.index("line_number")
    keys = [(row[file_name], row[line_number]) for row in rows]
    assert len(keys) == len(set(keys)), "a line loaded twice"
    loaded: dict[str, int] = {}
    for name, _ in keys:
        loaded[name] = loaded.get(name, 0) + 1
    assert loaded == expected
