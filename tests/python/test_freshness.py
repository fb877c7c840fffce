"""Source freshness on received time: fresh files pass, old files error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from behavioral_analytics.generator import generate

from .conftest import run_dbt

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("days_ago", "fresh"), [(2, True), (30, False)])
def test_source_freshness_on_received_date(tmp_path, days_ago, fresh):
    start = (datetime.now(UTC) - timedelta(days=days_ago)).date()
    generate(out_dir=tmp_path, persons=5, days=2, seed=1, start_date=start, progress=False)
    code, output = run_dbt(
        ["source", "freshness", "--target", "duckdb"],
        tmp_path / "events",
        tmp_path / "w.duckdb",
        check=False,
    )
    assert (code == 0) is fresh, output[-2000:]
