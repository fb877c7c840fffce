"""The same events on PostgreSQL and on DuckDB give the same tables, row for row.

A throwaway PostgreSQL 15 server on loopback (``pg_server``), a small
generated data set loaded with ``behavior load --target postgres`` and built
with ``dbt build --target postgres`` (models, unit tests, data tests; the
Python models are disabled there), the same files built on DuckDB, then
every SQL table and view of staging, intermediate and marts compared row for
row (``cross_engine``: timestamps to the millisecond, floats within a
relative 1e-9, ids and text exactly). Also: the loaded raw lines equal the
DuckDB path's for every format, and a load interrupted midway then run again
has every line once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from behavioral_analytics import pg_server
from behavioral_analytics.cross_engine import canonical_rows, compare_relation
from behavioral_analytics.duckdb_plugin import Plugin
from behavioral_analytics.equivalence import RUN_STATE_TABLES
from behavioral_analytics.generator import generate
from behavioral_analytics.load import loader
from behavioral_analytics.load.postgres import PostgresWriter, connect_from_env

from .conftest import TEST_PII_SALT, python_model_names, relations_in, run_dbt

pytestmark = pytest.mark.e2e

BEHAVIOR = str(Path(sys.executable).with_name("behavior"))
CORPUS = Path(__file__).parents[1] / "fixtures" / "bad_raw_files" / "events"
SCHEMAS = ("main_staging", "main_intermediate", "main_marts")
# The shape signature is the engine's own text (json_signature: DuckDB keeps the
# keys' order, jsonb sorts them), so the shapes table groups differently; the
# fields read from it (int_event_fields_observed, a view) are compared instead.
WITHOUT_TESTS = ["--exclude", "resource_type:test", "resource_type:unit_test"]
# The last run's increment (int_devices_touched: each engine's own hash, and
# PostgreSQL is built twice where DuckDB is built once) differs by design.
ENGINE_OWN = {"main_staging.stg_tracker__event_shapes": None, **dict.fromkeys(RUN_STATE_TABLES)}
# The funnel attempts keep the signature of the events they were measured
# from (signature_agg: each engine's own hash).
ENGINE_OWN_COLUMNS = {"field_signature", "properties_signature", "person_events_signature"}
# the two engines read the same files from two folders
IGNORED_COLUMNS = ENGINE_OWN_COLUMNS | {"file_path"}
# a one-day churn horizon: five days of events train and validate a churn model
# (T - H and T - 2H are in them), so the Python models' run compares real scores
VARS = ["--vars", json.dumps({"behavior__churn_horizon_days": 1})]
# person_features keeps every build's as-of snapshot: PostgreSQL, built twice, has
# one more; the snapshots DuckDB has must be equal
SNAPSHOTS = {"main_marts.person_features": "as_of_date"}

try:
    pg_server._binary("initdb")
    HAVE_POSTGRES = True
except RuntimeError:
    HAVE_POSTGRES = False

needs_postgres = pytest.mark.skipif(
    not HAVE_POSTGRES, reason="PostgreSQL's initdb is missing (scripts/bootstrap.sh installs it)"
)


@pytest.fixture(scope="module")
def server():
    started = pg_server.start()
    saved = {name: os.environ.get(name) for name in started.environment()}
    os.environ.update(started.environment())
    yield started
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    pg_server.stop(Path(started.folder))


def _pg_env(server: pg_server.Server) -> dict[str, str]:
    return {
        **server.environment(),
        "PGOPTIONS": f"-c behavior.pii_salt={TEST_PII_SALT} -c TimeZone=UTC",
    }


@pytest.fixture(scope="module")
def built(server, tmp_path_factory):
    """The data set built on DuckDB at once, and on PostgreSQL in two deliveries (the
    first 3 received days, then the rest: the second build is incremental); prints
    each engine's time."""
    root = tmp_path_factory.mktemp("pg_equivalence")
    generate(root / "sample", persons=60, days=5, seed=13)
    events = root / "sample" / "events"
    delivered = root / "delivered"
    days = sorted(path.name for path in events.iterdir())
    env = {**os.environ, **_pg_env(server), "BEHAVIOR_EVENTS_PATH": str(delivered)}
    timings = []
    # the data and unit tests run on the second (incremental) PostgreSQL build; the
    # DuckDB ones in scripts/test.sh's build
    for delivery, tests in ((days[:3], WITHOUT_TESTS), (days[3:], [])):
        for day in delivery:
            shutil.copytree(events / day, delivered / day)
        started = time.perf_counter()
        subprocess.run([BEHAVIOR, "load", "--target", "postgres", "--quiet"], env=env, check=True)
        loaded = time.perf_counter()
        _, output = run_dbt(
            ["build", "--target", "postgres", *VARS, *tests],
            delivered,
            root / "pg" / "x",
            env_overrides=_pg_env(server),
        )
        timings.append((loaded - started, time.perf_counter() - loaded))
    assert "incremental load of" in output  # the second build took only the new files
    started = time.perf_counter()
    warehouse = root / "duckdb" / "warehouse.duckdb"
    run_dbt(["build", "--target", "duckdb", *VARS, *WITHOUT_TESTS], events, warehouse)
    duckdb_seconds = time.perf_counter() - started
    print(
        "\nPostgreSQL: "
        + "; ".join(
            f"{name}: behavior load {load:.1f} s + dbt build {build:.1f} s"
            for name, (load, build) in zip(
                ("days 1-3", "days 4-5 (incremental)"), timings, strict=True
            )
        )
        + f"; DuckDB, all days: dbt build {duckdb_seconds:.1f} s"
    )
    return warehouse


def _rows(
    cursor, relation: str, ignore: set[str], where: str = "1 = 1"
) -> tuple[list[str], list[tuple]]:
    cursor.execute(f"select * from {relation} where {where}")
    columns = [column[0] for column in cursor.description]
    keep = [index for index, name in enumerate(columns) if name not in ignore]
    return canonical_rows(
        [columns[index] for index in keep],
        ([row[index] for index in keep] for row in cursor.fetchall()),
    )


@needs_postgres
def test_every_sql_table_and_view_equal_on_postgres_and_duckdb(built):
    python_models = python_model_names()
    with (
        duckdb.connect(str(built), read_only=True) as duck,
        closing(connect_from_env()) as postgres,
    ):
        pg_cursor = postgres.cursor()
        duck_cursor = duck.cursor()
        on_duckdb = [
            name
            for name in relations_in(duck_cursor, SCHEMAS)
            if name.split(".")[1] not in python_models
        ]
        on_postgres = relations_in(pg_cursor, SCHEMAS)
        assert on_duckdb == on_postgres
        assert len(on_postgres) > 30
        differences = []
        for relation in on_postgres:
            if relation in ENGINE_OWN:
                continue
            where = "1 = 1"
            if relation in SNAPSHOTS:
                column = SNAPSHOTS[relation]
                duck_cursor.execute(f"select distinct cast({column} as varchar) from {relation}")
                kept = ", ".join(f"'{row[0]}'" for row in duck_cursor.fetchall())
                where = f"cast({column} as varchar) in ({kept})"
            differences += compare_relation(
                relation,
                _rows(duck_cursor, relation, IGNORED_COLUMNS, where),
                _rows(pg_cursor, relation, IGNORED_COLUMNS, where),
            )
        pg_cursor.execute("select count(*) from main_marts.fct_sessions")
        assert pg_cursor.fetchone()[0] > 50
    assert not differences, "\n".join(str(difference) for difference in differences)


def _duckdb_raw_lines(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        Plugin.__new__(Plugin).configure_connection(connection)  # the view's Python functions
        return sorted(
            connection.execute(
                "select file_name, file_format, received_date, line_number, raw_line,"
                " encoding_error from raw.event_lines"
            ).fetchall()
        )


def _postgres_raw_lines(schema: str) -> list[tuple]:
    with closing(connect_from_env()) as connection, connection.cursor() as cursor:
        cursor.execute(
            "select file_name, file_format, received_date, line_number, raw_line, encoding_error"
            f" from {schema}.event_lines"
        )
        return sorted(cursor.fetchall())


@needs_postgres
def test_loaded_lines_equal_the_duckdb_path_in_every_format(server, tmp_path):
    events = tmp_path / "events"
    shutil.copytree(CORPUS, events)
    for file_format in ("parquet", "csv"):
        generate(tmp_path / file_format, persons=5, days=2, seed=3, file_format=file_format)
        for path in (tmp_path / file_format / "events").rglob(f"*.{file_format}"):
            target = events / path.relative_to(tmp_path / file_format / "events")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    warehouse = tmp_path / "warehouse.duckdb"
    run_dbt(["run", "--select", "stg_tracker__files_quarantine"], events, warehouse)
    writer = PostgresWriter(connect_from_env(), "raw_formats")
    result = loader.load(events, writer, show_progress=False)
    writer.close()
    assert len(result.unreadable) == 4  # empty, broken header, not Parquet, truncated gzip
    expected = _duckdb_raw_lines(warehouse)
    actual = _postgres_raw_lines("raw_formats")
    assert {row[1] for row in actual} == {"jsonl", "parquet", "csv"}
    assert len(actual) == len(expected)
    differing = [(a, b) for a, b in zip(expected, actual, strict=True) if a != b]
    # PostgreSQL text cannot hold NUL: that one line differs, on purpose (postgres.py)
    nul = [(a, b) for a, b in differing if a[0].endswith("nul_bytes.jsonl")]
    assert len(nul) == 1 and "\ufffd" in nul[0][1][4] and "NUL" in nul[0][1][5]
    # DuckDB reads every CSV of a build in one union_by_name scan: a file without a
    # column gets it as null, and the keys come in the union's order; `behavior
    # load` renders each file alone (as an incremental DuckDB build of it would)
    for duck_row, pg_row in differing:
        if duck_row[0].endswith("nul_bytes.jsonl"):
            continue
        assert duck_row[1] == "csv", (duck_row, pg_row)
        assert _without_nulls(duck_row[4]) == _without_nulls(pg_row[4])


def _without_nulls(text: str) -> dict:
    return {key: value for key, value in json.loads(text).items() if value is not None}


class Interrupted(Exception):
    pass


def _query_one(sql: str) -> tuple:
    with closing(connect_from_env()) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()


def _file_counts(schema: str) -> tuple[int, int, int]:
    return _query_one(
        "select count(*), count(distinct (file_name, line_number)), count(distinct file_name)"
        f" from {schema}.event_lines"
    )


@needs_postgres
def test_load_interrupted_midway_and_rerun_has_every_line_once(server, tmp_path, monkeypatch):
    generate(tmp_path / "sample", persons=15, days=3, seed=21)
    events = tmp_path / "sample" / "events"
    schema = "raw_interrupted"
    every_file = loader.raw_files(events)
    expected_lines = sum(sum(1 for _ in loader.read_lines(raw)) for raw in every_file)

    # 1. stopped after 3 files were committed
    def stop_after_three(raw, done=[]):  # noqa: B006 (a counter across calls)
        done.append(raw)
        if len(done) == 3:
            raise Interrupted

    writer = PostgresWriter(connect_from_env(), schema)
    with pytest.raises(Interrupted):
        loader.load(events, writer, show_progress=False, after_file=stop_after_three)
    writer.close()
    assert _file_counts(schema)[2] == 3

    # 2. killed in the middle of a file's COPY (after 5 of its lines)
    real_read_lines = loader.read_lines

    def dies_midway(raw):
        for number, line in enumerate(real_read_lines(raw)):
            if number == 5:
                raise Interrupted
            yield line

    monkeypatch.setattr(loader, "read_lines", dies_midway)
    writer = PostgresWriter(connect_from_env(), schema)
    with pytest.raises(Interrupted):  # the reader's own error, not COPY's
        loader.load(events, writer, show_progress=False)
    writer.close()
    monkeypatch.setattr(loader, "read_lines", real_read_lines)
    lines, distinct_lines, files = _file_counts(schema)
    assert files == 3 and lines == distinct_lines  # the half-copied file left nothing

    # 3. the rerun loads the rest once; a second rerun adds nothing
    for _ in range(2):
        writer = PostgresWriter(connect_from_env(), schema)
        loader.load(events, writer, show_progress=False)
        writer.close()
        assert _file_counts(schema) == (expected_lines, expected_lines, len(every_file))
    assert _query_one(f"select count(*), sum(line_count) from {schema}.loaded_files") == (
        len(every_file),
        expected_lines,
    )


@needs_postgres
def test_load_killed_with_sigkill_and_rerun_has_every_line_once(server, tmp_path):
    generate(tmp_path / "sample", persons=40, days=3, seed=22)
    events = tmp_path / "sample" / "events"
    schema = "raw_killed"
    expected = sum(sum(1 for _ in loader.read_lines(raw)) for raw in loader.raw_files(events))
    command = [BEHAVIOR, "load", "--target", "postgres", "--raw-schema", schema, "--quiet"]
    env = {**os.environ, **_pg_env(server), "BEHAVIOR_EVENTS_PATH": str(events)}
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # kill once some files are in, before the last
        try:
            if _file_counts(schema)[2] > 0:
                break
        except Exception:  # the schema is not created yet
            pass
        time.sleep(0.02)
    process.kill()
    process.wait()
    subprocess.run(command, env=env, check=True)
    assert _file_counts(schema) == (expected, expected, len(loader.raw_files(events)))


@needs_postgres
def test_great_expectations_suites_pass_on_postgres_through_the_sql_route(built):
    from behavioral_analytics.postgres_env import sqlalchemy_url
    from behavioral_analytics.quality.gx_suites import validate_postgres

    results, missing = validate_postgres(sqlalchemy_url(), build_docs=False)
    failures = [failure.describe() for result in results for failure in result.failures]
    assert not failures, "\n".join(failures)
    assert len(results) >= 15
    assert all(name.startswith("models_") for name in missing)  # the Python models' tables
    retention = next(result for result in results if result.suite == "marts_retention")
    assert retention.rows > 0 and retention.evaluated >= 10


@needs_postgres
def test_python_models_run_on_postgres_by_behavior_score_equal_duckdb(built, server):
    """`behavior score --target postgres` runs dbt's Python model files on PostgreSQL's
    tables and writes theirs there: every one equals dbt-duckdb's own run of them, and
    their Great Expectations suites pass there."""
    from behavioral_analytics.postgres_env import sqlalchemy_url
    from behavioral_analytics.quality.gx_suites import suites_dir, validate_postgres

    run_dbt(
        ["run", "--target", "duckdb", *VARS, "--select", "tag:python_models"],
        built.parents[1] / "sample" / "events",
        built,
        python_models=True,
    )
    env = {**os.environ, **server.environment()}
    started = time.perf_counter()
    completed = subprocess.run(
        [BEHAVIOR, "score", "--target", "postgres", "--vars", VARS[1]],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    print(f"\nbehavior score --target postgres: {time.perf_counter() - started:.1f} s")
    python_models = sorted(python_model_names())
    differences = []
    with (
        duckdb.connect(str(built), read_only=True) as duck,
        closing(connect_from_env()) as postgres,
    ):
        pg_cursor, duck_cursor = postgres.cursor(), duck.cursor()
        pg_cursor.execute("set time zone 'UTC'")
        for name in python_models:
            relation = f"main_marts.{name}"
            expected = _rows(duck_cursor, relation, set())
            differences += compare_relation(relation, expected, _rows(pg_cursor, relation, set()))
        duck_cursor.execute("select count(*) from main_marts.person_churn_scores")
        assert duck_cursor.fetchone()[0] > 0  # a model was trained and scored
        duck_cursor.execute("select count(*) from main_marts.person_segments")
        assert duck_cursor.fetchone()[0] > 50
    assert not differences, "\n".join(str(difference) for difference in differences)
    suites = sorted(path.stem for path in suites_dir().glob("models_*.json"))
    results, missing = validate_postgres(sqlalchemy_url(), suites, build_docs=False)
    assert not missing and len(results) == len(suites) >= 10
    assert not [failure.describe() for result in results for failure in result.failures]


def test_cross_engine_comparison_finds_what_differs():
    """The comparison can fail: a timestamp a millisecond off, a float beyond the
    tolerance, an id; and it forgives what differs by type only."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    at = datetime(2026, 1, 5, 10, 0, 0, 123000, tzinfo=UTC)
    columns = ["event_at", "score", "event_id", "properties", "events"]
    duck = [(at, 0.1 + 0.2, "e1", '{"a":1,"b":2}', 3.0)]
    same = [(at.replace(tzinfo=None) + timedelta(microseconds=400), 0.3, "e1", {"b": 2, "a": 1}, 3)]
    assert compare_relation("t", canonical_rows(columns, duck), canonical_rows(columns, same)) == []
    for changed in (
        (at + timedelta(milliseconds=1), 0.3, "e1", {"b": 2, "a": 1}, Decimal(3)),
        (at, 0.3000001, "e1", {"b": 2, "a": 1}, Decimal(3)),
        (at, 0.3, "e2", {"b": 2, "a": 1}, Decimal(3)),
        (at, 0.3, "e1", {"b": 2, "a": 2}, Decimal(3)),
        (at, 0.3, "e1", {"b": 2, "a": 1}, Decimal(4)),
    ):
        differences = compare_relation(
            "t", canonical_rows(columns, duck), canonical_rows(columns, [changed])
        )
        assert len(differences) == 1, changed
