"""Schema drift: a drifted file makes the build's `tag:schema_drift` tests fail by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from behavioral_analytics.generator import generate

from .conftest import run_dbt

pytestmark = pytest.mark.e2e

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "schema_drift"


@pytest.fixture(scope="module")
def clean_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("drift")
    generate(out_dir=root, persons=40, days=6, seed=3, progress=False)
    warehouse = root / "warehouse.duckdb"
    run_dbt(["build", "--target", "duckdb"], root / "events", warehouse)
    return root, warehouse


def test_clean_events_pass_the_drift_tests(clean_build):
    root, warehouse = clean_build
    code, output = run_dbt(
        ["test", "--target", "duckdb", "--select", "tag:schema_drift"],
        root / "events",
        warehouse,
        check=False,
    )
    assert code == 0, output[-3000:]
    # unregistered events only warn
    assert "schema drift (type_change)" not in output
    assert "schema drift (vanished_required_field)" not in output


def test_drifted_file_fails_naming_event_key_types_and_day(clean_build, tmp_path):
    root, warehouse = clean_build
    events = root / "events"
    drifted = tmp_path / warehouse.name
    shutil.copy(warehouse, drifted)
    shutil.copytree(FIXTURE, events, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.md"))
    try:
        # the scheduled incremental build loads the new file; its drift tests fail
        # (the fixture's received date is a few days back: a late delivery)
        code, output = run_dbt(
            ["build", "--target", "duckdb", "--vars", "{behavior__incremental_lookback_days: 30}"],
            events,
            drifted,
            check=False,
        )
    finally:
        (events / "received_date=2026-01-08" / "tracker-v2-0001.jsonl").unlink()
    assert "incremental load of 1 new file(s)" in output
    assert code != 0
    assert (
        "schema drift (type_change): event 'purchase', key 'properties.revenue', "
        "type number -> string, first seen 2026-01-08 in "
        "received_date=2026-01-08/tracker-v2-0001.jsonl"
    ) in output
    assert (
        "schema drift (vanished_required_field): event 'page_view', key 'properties.page_path'"
    ) in output
    assert "schema drift (new_key): event 'page_view', key 'properties.url'" in output
    assert "schema drift (new_key): event 'purchase', key 'properties.coupon_code'" in output
    assert "FAIL" in output and "WARN" in output
