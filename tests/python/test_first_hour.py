"""A newcomer's first hour: misuse ends in one line naming what to fix, never a traceback
(exit 2 for usage, 1 for data); builds are never silently green; dbt works from any
folder; the salt is checked against the warehouse's; convert appends and is idempotent;
the demo rebuilds what it just generated; score refuses another data set's truth."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from behavioral_analytics import cli, project
from behavioral_analytics.generator import generate
from behavioral_analytics.truth_match import TruthMismatch, check_truth_matches
from behavioral_analytics.warehouse import analysis_breakdown

from .conftest import DBT, TEST_PII_SALT, run_dbt

SHARED = project.PROJECT_ROOT.parent / "shared" / "data" / "peer_fixtures"
PRODUCT_ORDERS = SHARED / "mjirv_dbt_product_analytics" / "raw_orders.csv"
SNOWPLOW_EXPECTED = SHARED / "dbt-labs_snowplow" / "snowplow_page_views_expected.csv"


def invoke(*args: str):
    return CliRunner().invoke(cli.main, list(args))


def one_line_error(result) -> str:
    """The error output, checked to be one 'Error: ...' line without a traceback."""
    output = result.output.strip()
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, output
    return " ".join(output.split())


# --------------------------------------------------------------------------- commands


@pytest.mark.parametrize("command", ["summary", "publish", "model-card", "validate", "score"])
def test_commands_on_a_missing_warehouse_name_it(tmp_path, command):
    missing = tmp_path / "nothing.duckdb"
    result = invoke(command, "--warehouse", str(missing))
    assert result.exit_code == 1
    message = one_line_error(result)
    assert str(missing) in message and "behavior demo" in message


@pytest.mark.parametrize("command", ["summary", "model-card", "validate", "score"])
def test_a_warehouse_whose_build_failed_says_it_has_no_marts(tmp_path, command):
    import duckdb

    empty = tmp_path / "failed.duckdb"
    duckdb.connect(str(empty)).close()
    result = invoke(command, "--warehouse", str(empty))
    assert result.exit_code == 1
    message = one_line_error(result)
    assert f"{empty} has no marts yet" in message and "dbt build" in message


def test_a_file_that_is_not_a_warehouse_is_one_line_and_debug_shows_the_traceback(tmp_path):
    fake = tmp_path / "notes.duckdb"
    fake.write_text("not a database\n")
    result = invoke("summary", "--warehouse", str(fake))
    assert result.exit_code == 1
    assert "--debug" in one_line_error(result)
    debug = invoke("--debug", "summary", "--warehouse", str(fake))
    assert debug.exit_code == 1 and debug.exception is not None
    assert not isinstance(debug.exception, SystemExit)


def test_usage_errors_exit_2(tmp_path):
    assert invoke("convert", "nosuch", str(PRODUCT_ORDERS), str(tmp_path)).exit_code == 2
    assert invoke("generate", "--persons", "many").exit_code == 2
    assert invoke("convert", "ga4", str(tmp_path / "absent.csv"), str(tmp_path)).exit_code == 2


def test_convert_of_another_format_names_the_file_and_the_format(tmp_path):
    if not SNOWPLOW_EXPECTED.exists():
        pytest.skip(f"{SNOWPLOW_EXPECTED} is absent (../shared/data)")
    result = invoke("convert", "ga4", str(SNOWPLOW_EXPECTED), str(tmp_path / "out"))
    assert result.exit_code == 1
    message = one_line_error(result)
    assert f"{SNOWPLOW_EXPECTED} could not be converted as ga4" in message
    assert "Nothing was written" in message
    assert not (tmp_path / "out" / "_conversions.json").exists()


def test_convert_that_stops_on_a_bad_row_leaves_no_file(tmp_path):
    orders = tmp_path / "orders.csv"
    good = "".join(f"{i},1,2018-01-0{1 + i % 3},placed\n" for i in range(1, 6))
    orders.write_text("id,customer_id,order_date,status\n" + good + "6,1,not-a-date,placed\n")
    out = tmp_path / "events"
    failed = invoke("convert", "dbt-product-analytics", str(orders), str(out))
    assert failed.exit_code == 1, failed.output
    assert "row" in one_line_error(failed) or "date" in one_line_error(failed)
    assert not list(out.rglob("*.jsonl")) and not list(out.rglob("*.partial"))
    orders.write_text("id,customer_id,order_date,status\n" + good)
    fixed = invoke("convert", "dbt-product-analytics", str(orders), str(out))
    assert fixed.exit_code == 0 and "batch 1" in fixed.output
    assert sum(len(p.read_text().splitlines()) for p in out.rglob("*.jsonl")) == 5


def test_convert_appends_the_next_batch_and_the_same_input_adds_nothing(tmp_path):
    first = tmp_path / "orders-1.csv"
    first.write_text("id,customer_id,order_date,status\n1,1,2018-01-01,placed\n")
    second = tmp_path / "orders-2.csv"
    second.write_text("id,customer_id,order_date,status\n2,1,2018-01-01,shipped\n")
    out = tmp_path / "events"

    assert "batch 1" in invoke("convert", "dbt-product-analytics", str(first), str(out)).output
    again = invoke("convert", "dbt-product-analytics", str(first), str(out))
    assert again.exit_code == 0 and "nothing added" in " ".join(again.output.split())
    assert "batch 2" in invoke("convert", "dbt-product-analytics", str(second), str(out)).output
    files = sorted(p.name for p in out.rglob("*.jsonl"))
    assert files == ["dbt-product-analytics-0001.jsonl", "dbt-product-analytics-0002.jsonl"]
    assert sum(len(p.read_text().splitlines()) for p in out.rglob("*.jsonl")) == 2
    explicit = invoke("convert", "dbt-product-analytics", str(second), str(tmp_path / "o2"))
    assert explicit.exit_code == 0
    taken = invoke(
        "convert", "cdnow", str(first), str(tmp_path / "o3"), "--batch", "7", "--before", "x"
    )
    assert taken.exit_code == 2  # --before is not a date


def test_demo_with_other_sizes_rebuilds_from_scratch_and_says_so(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(project, "DEFAULT_SAMPLE_PATH", tmp_path / "sample")
    monkeypatch.setattr(project, "duckdb_path", lambda: tmp_path / "w" / "behavior.duckdb")
    monkeypatch.setattr(cli, "_dbt", lambda args, env: calls.append(args))
    monkeypatch.setattr(cli, "_print_summary", lambda path: None)
    monkeypatch.setattr(cli, "_print_models", lambda path: None)

    first = invoke("demo", "--persons", "12", "--days", "2")
    assert first.exit_code == 0, first.output
    same = invoke("demo", "--persons", "12", "--days", "2")
    other = invoke("demo", "--persons", "10", "--days", "2")
    assert other.exit_code == 0, other.output

    builds = [args for args in calls if args[0] == "build"]
    assert ["--full-refresh" in args for args in builds] == [False, False, True]
    said = " ".join(other.output.split())
    assert "12 persons, 2 days, seed 42 -> 10 persons, 2 days, seed 42" in said
    assert "--full-refresh" in said and "changed" not in " ".join(same.output.split())


# --------------------------------------------------------------------------- dbt


def _dbt_elsewhere(args, cwd: Path, env_overrides: dict[str, str]):
    env = dict(os.environ)
    env.pop("DBT_PROFILES_DIR", None)
    env.update({project.PII_SALT_ENV: TEST_PII_SALT, **env_overrides})
    root = str(project.PROJECT_ROOT)
    command = [DBT, *args, "--project-dir", root, "--profiles-dir", root]
    command += ["--target-path", str(cwd / "target"), "--log-path", str(cwd / "logs")]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_no_event_files_stops_the_build_naming_the_folder(tmp_path, kind):
    events = tmp_path / "events"
    if kind == "empty":
        (events / "received_date=2026-01-05").mkdir(parents=True)
    code, output = run_dbt(
        ["run", "--target", "duckdb", "--select", "base_tracker__event_lines"],
        events,
        tmp_path / "w.duckdb",
        check=False,
    )
    assert code != 0
    assert f"no event files (.jsonl, .jsonl.gz, .parquet, .csv) under '{events}'" in output
    assert ("(the folder does not exist)" in output) == (kind == "missing")
    assert "behavior__allow_no_event_files" in output
    allowed = ["--vars", "{behavior__allow_no_event_files: true}"]
    code, output = run_dbt(
        ["run", "--target", "duckdb", "--select", "base_tracker__event_lines", *allowed],
        events,
        tmp_path / "w.duckdb",
        check=False,
    )
    assert code == 0, output[-3000:]


@pytest.mark.e2e
def test_from_another_folder_relative_paths_bad_files_and_another_salt(tmp_path):
    """dbt from another folder with relative paths (resolved against the project); a
    file of bad lines and a gap day warn by name; another salt stops the next build."""
    sample = tmp_path / "sample"
    generate(out_dir=sample, persons=25, days=3, seed=5, progress=False)
    last = max(date.fromisoformat(p.name.split("=")[1]) for p in (sample / "events").iterdir())
    gap, bad = last + timedelta(days=1), last + timedelta(days=2)
    bad_day = sample / "events" / f"received_date={bad}"
    bad_day.mkdir()
    (bad_day / "garbage.jsonl").write_text('not json\n{"event_id": 1}\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    relative = {
        "BEHAVIOR_EVENTS_PATH": os.path.relpath(sample / "events", project.PROJECT_ROOT),
        "BEHAVIOR_DUCKDB_PATH": os.path.relpath(tmp_path / "w.duckdb", project.PROJECT_ROOT),
    }
    # unit tests leave the data alone; README command 2 runs them once
    build = [
        "build",
        "--target",
        "duckdb",
        "--exclude",
        "tag:python_models",
        "resource_type:unit_test",
    ]
    code, output = _dbt_elsewhere(build, elsewhere, relative)
    assert code == 0, output[-4000:]
    assert (tmp_path / "w.duckdb").exists() and not (elsewhere / "warehouse").exists()
    assert f"WARNING file received_date={bad}/garbage.jsonl: all 2 lines are bad" in output
    assert f"WARNING received date {gap}: no good event" in output
    assert f"WARNING received date {bad}: no good event" in output
    assert "WARN 3 warn_files_and_days_without_good_events" in output

    other_salt = {**relative, project.PII_SALT_ENV: "another-salt-of-enough-length"}
    run = ["run", "--target", "duckdb", "--select", "base_tracker__event_lines"]
    code, output = _dbt_elsewhere(run, elsewhere, other_salt)
    assert code != 0
    assert "was built with another PII salt" in output and "--full-refresh" in output
    code, output = _dbt_elsewhere(run, elsewhere, relative)
    assert code == 0, output[-3000:]


@pytest.mark.e2e
def test_compile_and_docs_need_no_salt_and_no_build(tmp_path):
    events = tmp_path / "events" / "received_date=2026-01-05"
    events.mkdir(parents=True)
    (events / "a.jsonl").write_text("{}\n")
    code, output = run_dbt(
        ["compile", "--target", "duckdb", "--select", "base_tracker__event_lines+1"],
        tmp_path / "events",
        tmp_path / "w.duckdb",
        check=False,
        env_overrides={project.PII_SALT_ENV: ""},
    )
    assert code == 0, output[-3000:]
    # nor the events: compile and docs read no line (a fresh clone has no data/events)
    for command in (["compile", "--target", "duckdb"], ["docs", "generate", "--target", "duckdb"]):
        code, output = run_dbt(
            [*command, "--select", "base_tracker__event_lines"],
            tmp_path / "no-events-here",
            tmp_path / "w2.duckdb",
            check=False,
            env_overrides={project.PII_SALT_ENV: ""},
        )
        assert code == 0, output[-3000:]


# --------------------------------------------------------------------------- score


def test_score_refuses_the_truth_of_another_data_set(built_jsonl, tmp_path):
    check_truth_matches(built_jsonl.warehouse, built_jsonl.truth)  # its own: fine
    other = tmp_path / "other"
    generate(out_dir=other, persons=8, days=2, seed=99, progress=False)
    with pytest.raises(TruthMismatch, match="is not the truth of"):
        check_truth_matches(built_jsonl.warehouse, other / "truth")
    result = invoke(
        "score", "--warehouse", str(built_jsonl.warehouse), "--truth", str(other / "truth")
    )
    assert result.exit_code == 1
    assert "is not the truth of" in one_line_error(result)
    not_truth = tmp_path / "empty"
    not_truth.mkdir()
    with pytest.raises(TruthMismatch, match="summary.json does not exist"):
        check_truth_matches(built_jsonl.warehouse, not_truth)
    summary = json.loads((built_jsonl.truth / "summary.json").read_text())
    assert summary["lines_per_file"]


# --------------------------------------------------------------------------- summary


def test_summary_explains_staged_to_analysed_and_is_not_cut_when_piped(built_jsonl):
    result = invoke("summary", "--warehouse", str(built_jsonl.warehouse))
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(built_jsonl.warehouse), read_only=True) as connection:
        parts = analysis_breakdown(connection)
        staged = connection.execute("select count(*) from main_staging.stg_tracker__events")
        staged = staged.fetchone()[0]
        bots = connection.execute(
            "select count(*) from main_intermediate.int_events_sessionized as events"
            " join main_marts.dim_devices as devices using (device_id) where devices.is_bot"
        ).fetchone()[0]
    assert parts["staged"] == staged
    assert parts["bot_events"] == bots > 0
    assert (
        parts["staged"] - parts["without_consent"] - parts["after_opt_out"] - parts["bot_events"]
        == parts["human_events"]
    )
    assert parts["without_consent"] > 0 and parts["after_opt_out"] > 0
    output = result.output
    human_row = next(line for line in output.splitlines() if "human events analysed" in line)
    assert f"{parts['human_events']:,}" in human_row
    assert "…" not in output  # CliRunner is not a terminal: nothing is cut
    assert "Next: behavior report" in " ".join(output.split())


def test_project_dir_is_checked_and_moves_the_default_paths(tmp_path, monkeypatch):
    for name in ("PROJECT_ROOT", "DEFAULT_EVENTS_PATH", "DEFAULT_SAMPLE_PATH"):
        monkeypatch.setattr(project, name, getattr(project, name))
    monkeypatch.setattr(project, "DEFAULT_DUCKDB_PATH", project.DEFAULT_DUCKDB_PATH)
    monkeypatch.delenv("BEHAVIOR_DUCKDB_PATH", raising=False)
    monkeypatch.setenv(project.PROJECT_DIR_ENV, str(project.PROJECT_ROOT))

    not_a_project = invoke("--project-dir", str(tmp_path), "summary")
    assert not_a_project.exit_code == 2
    assert f"{tmp_path.resolve()} is not the project: it has no dbt_project.yml" in " ".join(
        not_a_project.output.split()
    )
    other = tmp_path / "checkout"
    other.mkdir()
    (other / "dbt_project.yml").write_text("name: behavioral_analytics\n")
    result = invoke("--project-dir", str(other), "summary")
    assert result.exit_code == 1
    assert f"no warehouse at {other.resolve()}/warehouse/behavior.duckdb" in one_line_error(result)


def test_convert_reports_progress_on_large_inputs(tmp_path):
    from behavioral_analytics.adapters import snowplow
    from behavioral_analytics.adapters.product_analytics import convert_product_analytics_orders

    rows = [
        {"id": str(i), "customer_id": "1", "order_date": "2018-01-01", "status": "placed"}
        for i in range(2500)
    ]
    seen = []
    token = snowplow.WRITE_PROGRESS.set(seen.append)
    try:
        convert_product_analytics_orders(rows, tmp_path)
    finally:
        snowplow.WRITE_PROGRESS.reset(token)
    assert seen == [1000, 2000]
