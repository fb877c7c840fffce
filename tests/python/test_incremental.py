"""Incremental builds equal a full rebuild: every table, row for row, every column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from behavioral_analytics.equivalence import compare

from .conftest import run_dbt

pytestmark = pytest.mark.e2e

# every table the project builds (marts, and the incremental staging and
# intermediate tables they are made of)
SCHEMAS = ("main_marts", "main_intermediate", "main_staging")
# the absolute path of a file differs between two events folders by construction
SAME_FILES_ELSEWHERE = frozenset({"file_path"})
# seeds and models, as a scheduled run does (the data tests run once, below)
BUILD = [
    "build",
    "--target",
    "duckdb",
    "--exclude",
    "resource_type:test",
    "resource_type:unit_test",
]


def deliveries(events: Path) -> list[list[Path]]:
    """The files in daily batches, in received order; every day's mobile files
    (late app batches already) arrive one batch later still."""
    days = sorted(path for path in events.iterdir() if path.is_dir())
    batches: list[list[Path]] = [[] for _ in range(len(days) + 1)]
    for number, day in enumerate(days):
        for file in sorted(day.iterdir()):
            batches[number + (1 if file.name.startswith("mobile") else 0)].append(file)
    return [batch for batch in batches if batch]


def deliver(batch: list[Path], events: Path) -> None:
    for file in batch:
        target = events / file.parent.name / file.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(file, target)


@pytest.fixture(scope="module")
def daily(built_jsonl, tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    events = root / "events"
    warehouse = root / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir(parents=True)
    outputs = []
    batches = deliveries(built_jsonl.events)
    assert len(batches) >= 10
    for batch in batches:
        deliver(batch, events)
        _, output = run_dbt(BUILD, events, warehouse)
        outputs.append(output)
    return events, warehouse, outputs


def test_daily_batches_with_late_mobile_files_equal_a_full_build(built_jsonl, daily):
    _, warehouse, outputs = daily
    assert "incremental load of" in outputs[-1]
    differences = compare(built_jsonl.warehouse, warehouse, SCHEMAS, SAME_FILES_ELSEWHERE)
    assert not differences, "\n".join(map(str, differences))


def test_running_the_same_build_again_changes_nothing(daily, tmp_path):
    events, warehouse, _ = daily
    before = tmp_path / warehouse.name
    shutil.copy(warehouse, before)
    _, output = run_dbt(BUILD, events, warehouse)
    assert "incremental load of 0 new file(s)" in output
    differences = compare(before, warehouse, SCHEMAS)
    assert not differences, "\n".join(map(str, differences))


def test_tests_pass_on_the_incremental_warehouse(daily):
    events, warehouse, _ = daily
    run_dbt(["test", "--target", "duckdb"], events, warehouse)


def test_future_folder_does_not_stall_and_old_files_are_named(built_jsonl, tmp_path):
    days = sorted(path for path in built_jsonl.events.iterdir() if path.is_dir())
    events = tmp_path / "events"
    warehouse = tmp_path / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir(parents=True)
    first_file = sorted(days[0].glob("server-*"))[0]
    deliver([first_file], events)
    # a folder dated far in the future (a collector with a broken clock)
    future = events / "received_date=2099-01-01"
    future.mkdir()
    shutil.copy(sorted(days[1].glob("server-*"))[0], future / "server-0009.jsonl")
    run_dbt(BUILD, events, warehouse)
    # the next day still loads: the watermark ignores received dates after today
    next_day = sorted(days[1].glob("web-*"))[0]
    deliver([next_day], events)
    _, output = run_dbt(BUILD, events, warehouse)
    assert "incremental load of 1 new file(s)" in output
    # a file far older than the lookback is not loaded, and is named
    deliver([sorted(days[5].glob("web-*"))[0]], events)
    run_dbt(BUILD, events, warehouse)
    old = sorted(days[0].glob("web-*"))[0]
    deliver([old], events)
    _, output = run_dbt(BUILD, events, warehouse)
    assert "incremental load of 0 new file(s)" in output
    assert old.name in output and "--full-refresh" in output
    # --full-refresh takes it in
    _, output = run_dbt([*BUILD, "--full-refresh"], events, warehouse)
    loaded = run_dbt_query(
        warehouse, "select count(distinct file_name) from main_staging.stg_tracker__event_lines"
    )
    assert loaded == 5


def run_dbt_query(warehouse: Path, sql: str):
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchone()[0]
