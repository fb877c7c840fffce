"""A build killed at any point and run again gives the same marts as a clean build.

The increments are worked out from state, not from what the previous run said
it did: staging loads the files it has not loaded (its own table says which),
and the sessions model and the event and session marts recompute every device
whose input signature differs from their own rows (a build killed after
fct_events and before fct_sessions leaves fct_sessions to repair). So a build
killed after staging, inside sessionization, while the marts are written or
before the funnel attempts is repaired by the next build. Each kill is a
SIGKILL of dbt's process group, as a scheduler's timeout or an OOM killer does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from behavioral_analytics import project
from behavioral_analytics.equivalence import compare

from .conftest import TEST_PII_SALT, linked_warehouse, run_dbt
from .test_incremental import (
    BUILD,
    SAME_FILES_ELSEWHERE,
    SCHEMAS,
    SNAPSHOTS,
    STATE_TABLES,
    deliver,
    deliveries,
)

pytestmark = pytest.mark.e2e

# the line of dbt's output after which the build is killed
KILL_POINTS = [
    "OK created sql incremental model main_staging.base_tracker__event_lines",
    "START sql incremental model main_intermediate.int_events_sessionized",
    # after fct_events (incremental per device) is written, before fct_sessions
    "START sql incremental model main_marts.fct_sessions",
    # after every core mart, before the funnel attempts (incremental per person)
    "START sql incremental model main_intermediate.int_funnel_persons_measured",
]


def _build_killed_after(marker: str, events: Path, warehouse: Path) -> bool:
    """Run the build and SIGKILL it when ``marker`` is printed; True if it was killed."""
    # the path run_dbt gives dbt, so the killed builds reuse its saved parse
    env = project.dbt_environment(events_path=events, warehouse=linked_warehouse(warehouse))
    env[project.PII_SALT_ENV] = TEST_PII_SALT
    env["DBT_LOG_PATH"] = str(warehouse.parent / "logs")
    env["DBT_TARGET_PATH"] = str(warehouse.parent / "target")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("dbt")), *BUILD, "tag:python_models"],
        cwd=project.PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    killed = False
    for line in process.stdout:
        if marker in line:
            time.sleep(0.2)  # inside the next step, not between two
            os.killpg(process.pid, signal.SIGKILL)
            killed = True
            break
    process.wait()
    process.stdout.close()
    return killed


def test_builds_killed_at_each_kill_point_then_rerun_equal_a_clean_build(built_jsonl, tmp_path):
    events = tmp_path / "events"
    warehouse = tmp_path / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir(parents=True)
    batches = deliveries(built_jsonl.events)
    for batch in batches[: -len(KILL_POINTS)]:
        deliver(batch, events)
    run_dbt(BUILD, events, warehouse)
    for batch, marker in zip(batches[-len(KILL_POINTS) :], KILL_POINTS, strict=True):
        deliver(batch, events)
        assert _build_killed_after(marker, events, warehouse), f"never reached: {marker}"
    run_dbt(BUILD, events, warehouse)
    # the last run's increment (int_devices_touched) differs from a full build's by design
    differences = compare(
        built_jsonl.warehouse, warehouse, SCHEMAS, SAME_FILES_ELSEWHERE, SNAPSHOTS, STATE_TABLES
    )
    assert not differences, "\n".join(map(str, differences))
