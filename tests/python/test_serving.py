"""The serving layer, the real way: a reader process queries serving.duckdb in a
loop while `dbt build` (publishing from its on-run-end hook) and `behavior
publish` run in other processes. No read is refused, and every read sees the
row counts of exactly one published version. A killed publish leaves the
previous version served."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from behavioral_analytics import project
from behavioral_analytics.generator import generate

from .conftest import TEST_PII_SALT, run_dbt

READER = r"""
import json, sys, time
from pathlib import Path
import duckdb
served, stop, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
reads, refused, inconsistent, versions, errors = 0, 0, 0, set(), []
while not stop.exists():
    try:
        with duckdb.connect(served, read_only=True) as connection:
            published = connection.execute(
                "select version, mart, row_count from serving_versions"
            ).fetchall()
            counts = {
                mart: connection.execute(f"select count(*) from {mart}").fetchone()[0]
                for _, mart, _ in published
            }
    except Exception as error:  # any refusal or failure of a read counts
        refused += 1
        errors.append(str(error)[:300])
        time.sleep(0.01)
        continue
    reads += 1
    if len({version for version, _, _ in published}) != 1 or any(
        counts[mart] != rows for _, mart, rows in published
    ):
        inconsistent += 1
    versions.add(published[0][0])
out.write_text(json.dumps({"reads": reads, "refused": refused, "inconsistent": inconsistent,
                           "versions": sorted(versions), "errors": errors[:5]}))
"""

PUBLISH = ["--vars", "{behavior__publish: true}"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("serving")
    generate(out_dir=root, persons=60, days=6, seed=11, progress=False)
    events = root / "events"
    last_day = sorted(events.iterdir())[-1]
    held_back = root / "held_back" / last_day.name
    held_back.parent.mkdir()
    shutil.move(str(last_day), str(held_back))
    warehouse = root / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir()
    run_dbt(["build", *PUBLISH], events, warehouse)
    return root, events, held_back, warehouse, warehouse.parent / "serving.duckdb"


def _published(path: Path) -> tuple[str, dict]:
    with duckdb.connect(str(path), read_only=True) as connection:
        rows = connection.execute(
            "select version, mart, row_count from serving_versions"
        ).fetchall()
    return rows[0][0], {mart: count for _, mart, count in rows}


def _env(warehouse: Path) -> dict:
    env = project.dbt_environment(warehouse=warehouse)
    env[project.PII_SALT_ENV] = TEST_PII_SALT
    env["DBT_LOG_PATH"] = str(warehouse.parent / "logs")
    env["DBT_TARGET_PATH"] = str(warehouse.parent / "target")
    return env


def test_the_hook_publishes_every_mart_after_a_build(served):
    *_, warehouse, serving = served
    version, counts = _published(serving)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        marts = connection.execute(
            "select table_name from information_schema.tables where table_schema = 'main_marts'"
        ).fetchall()
        expected = {
            name: connection.execute(f"select count(*) from main_marts.{name}").fetchone()[0]
            for (name,) in marts
        }
    assert counts == expected and "fct_events" in counts
    assert (serving.parent / "serving_versions" / version / "fct_events.parquet").exists()


def test_readers_are_never_refused_and_see_one_version_during_build_and_publish(served, tmp_path):
    root, events, held_back, warehouse, serving = served
    before, _ = _published(serving)
    stop, out = tmp_path / "stop", tmp_path / "reader.json"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(serving), str(stop), str(out)])
    try:
        time.sleep(1)
        shutil.move(str(held_back), str(events / held_back.name))  # a new day arrives
        run_dbt(["build", *PUBLISH], events, warehouse)
        behavior = str(Path(sys.executable).with_name("behavior"))
        for _ in range(2):
            subprocess.run(
                [behavior, "publish", "--warehouse", str(warehouse)],
                env=_env(warehouse),
                check=True,
                capture_output=True,
            )
        time.sleep(0.5)
    finally:
        stop.write_text("stop")
        reader.wait(timeout=60)
    result = json.loads(out.read_text())
    assert result["refused"] == 0, result["errors"]
    assert result["inconsistent"] == 0
    assert result["reads"] > 20
    assert before in result["versions"] and len(result["versions"]) >= 3
    versions = sorted(p.name for p in (serving.parent / "serving_versions").iterdir())
    assert len(versions) == 3  # behavior__serving_keep_versions


def test_a_killed_publish_leaves_the_previous_version_served(served):
    *_, warehouse, serving = served
    before, counts = _published(serving)
    dbt = str(Path(sys.executable).with_name("dbt"))
    publish = subprocess.Popen(
        [dbt, "run-operation", "publish_serving", "--target", "duckdb"],
        cwd=project.PROJECT_ROOT,
        env=_env(warehouse),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    versions = serving.parent / "serving_versions"
    deadline = time.time() + 120
    while time.time() < deadline and publish.poll() is None:
        started = [p for p in versions.iterdir() if p.name > before and any(p.glob("*.parquet"))]
        if started:
            break
        time.sleep(0.02)
    assert publish.poll() is None, "the publish ended before it could be killed"
    os.killpg(publish.pid, signal.SIGKILL)
    publish.wait()
    assert _published(serving) == (before, counts)
    subprocess.run(
        [str(Path(sys.executable).with_name("behavior")), "publish", "--warehouse", str(warehouse)],
        env=_env(warehouse),
        check=True,
        capture_output=True,
    )
    after, after_counts = _published(serving)
    assert after > before and after_counts == counts
    leftovers = [p for p in versions.iterdir() if not (p / "_published").exists()]
    assert leftovers == []
