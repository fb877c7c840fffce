"""Benchmark at scale: full build, sessionization baselines, incremental day, growth.

Not a test: it measures, prints and writes every figure (with the machine,
versions and commit) to bench/results/scale-<sizes>.json, and the README's
table of them beside it (scale-<sizes>.md; into README.md itself with
--readme, between the markers that name the results file). Timings on a
shared machine are noisy; the targets are ratios measured in one run where
possible.

    .venv/bin/python bench/scale.py --sizes 1m,10m     # both sizes, growth 1M -> 10M
    .venv/bin/python bench/scale.py --events 1000000   # one size
    .venv/bin/python bench/scale.py --sizes 1m,10m --readme   # and the README's table

Per size (events over 90 days; Parquet from 5M events on, JSONL below):

1. generation, with the persons calibrated from a small pilot (events per
   person-day);
2. `dbt build --full-refresh` of every file into a fresh DuckDB file: the
   SQL models with their tests (wall time, peak memory of the dbt process
   tree, time per model and per test from dbt's run_results.json; partial
   parsing warmed by an untimed `dbt parse`), then the dbt Python models
   (segments, churn) with theirs, timed apart;
   the bare DuckDB script (`bare_duckdb.py`: DuckDB's own typed readers,
   event time, first copy per event_id, sessions) on the same files in the
   same run: the floor the SQL build and staging are measured against;
3. sessionization of the same analysed events: our model as dbt ran it, one
   hand-written DuckDB window query on a copy of the warehouse (the floor),
   the vectorized pandas version an analyst writes (sort, groupby diff,
   cumsum) and the per-device `groupby().apply` (up to 1.5M events);
4. an incremental `dbt build` (SQL models) adding the 90th received date
   (and the late deliveries received after it) to a second warehouse built
   with the first 89, against the full build of step 2; the marts of both compared row for
   row up to 2M events;
5. the growth of the full build from 1M to 10M, when both run;
6. each target of the issue: measured, met or missed, by how much, and why
   (the engineer's explanation, kept in bench/why.yml);
7. DuckDB's query profile of the three slowest models of the full build
   (`profile_models.py`): their costliest operators, in the results file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import yaml
from _common import (
    BENCH_SALT,
    ROOT,
    DbtError,
    DbtRun,
    dbt_env,
    dbt_run,
    git_state,
    machine,
    node_timings,
    usable_cores,
)
from bare_duckdb import run_bare_script
from profile_models import profile_slowest
from readme_table import write as write_readme_table
from rich.console import Console
from rich.table import Table

from behavioral_analytics.equivalence import compare
from behavioral_analytics.generator import generate
from behavioral_analytics.sessionize import sessionize, sessionize_apply

console = Console()

DAYS = 90
PARQUET_FROM_EVENTS = 5_000_000
APPLY_MAX_EVENTS = 1_500_000
COMPARE_MAX_EVENTS = 2_000_000
REFINE_MAX_EVENTS = 2_000_000
TOP = 15
TIMEOUT_MINUTES = 30
MAX_SESSION_MINUTES = 1440
SESSIONIZED_MODEL = "model.behavioral_analytics.int_events_sessionized"
ANALYSED_EVENTS = "main_intermediate.int_events_attributed"
SESSIONIZED_TABLE = "main_intermediate.int_events_sessionized"
STAGING_MODEL = "base_tracker__event_lines"
PROFILED_MODELS = 3
# why each target is missed: the engineer's reading of the figures and
# profiles, versioned with the code, copied into every results file
EXPLANATIONS = Path(__file__).with_name("why.yml")
MEMORY_LIMIT_ENV = "BEHAVIOR_DUCKDB_MEMORY_LIMIT"
# profiles.yml's default, for the bench's own DuckDB connections (profile, floor)
DEFAULT_MEMORY_LIMIT = "2.5GB"

# the targets; "lower": measured <= target, "higher": measured >= target
TARGETS = {
    "sql_build_vs_bare_script": (
        "full dbt build of the SQL models with their tests <= 4x the bare DuckDB script",
        4.0,
        "lower",
    ),
    "staging_vs_bare_read_type_dedup": (
        "base_tracker__event_lines <= 2x the bare script's read + type + dedup",
        2.0,
        "lower",
    ),
    "full_build_10m_seconds": ("full build of 10M events <= 120 s", 120, "lower"),
    "peak_memory_gib": ("peak memory of the dbt build <= 4 GiB", 4, "lower"),
    "sessions_vs_duckdb_floor": ("our sessionization within 1.3x of the bare query", 1.3, "lower"),
    "pandas_vectorized_vs_sessions": (
        "our sessionization >= 2x faster than vectorized pandas",
        2.0,
        "higher",
    ),
    "incremental_day_share_of_full": ("incremental day <= 10 % of a full refresh", 0.10, "lower"),
    "growth_1m_to_10m": ("full build 1M -> 10M grows <= 11x", 11, "lower"),
}

# The floor: one hand-written window query, the rule (30 minutes,
# strict >), materialized so that DuckDB cannot skip any of it.
FLOOR_QUERY = f"""
create or replace temp table floor_sessions as
with analysed as (
    select event_id, device_id, event_at
    from {ANALYSED_EVENTS}
    where is_analysed
),
flagged as (
    select
        event_id,
        device_id,
        event_at,
        case
            when lag(event_at) over device_order is null then 1
            when epoch_us(event_at) - epoch_us(lag(event_at) over device_order)
                > {TIMEOUT_MINUTES * 60_000_000} then 1
            else 0
        end as starts_session
    from analysed
    window device_order as (partition by device_id order by event_at, event_id)
)
select
    event_id,
    device_id,
    event_at,
    sum(starts_session) over (
        partition by device_id order by event_at, event_id
        rows between unbounded preceding and current row
    ) as session_index
from flagged
"""

# The same floor with the whole contract rule (a logout ends a session, a
# session is cut every 24 h), to check the session count against pandas and
# ours and to show what the two extra rules cost.
FLOOR_SAME_RULE_QUERY = f"""
create or replace temp table floor_same_rule_sessions as
with analysed as (
    select event_id, device_id, event_name, event_at, epoch_us(event_at) as event_us
    from {ANALYSED_EVENTS}
    where is_analysed
),
flagged as (
    select
        *,
        case
            when lag(event_us) over device_order is null then 1
            when lag(event_name) over device_order = 'logout' then 1
            when event_us - lag(event_us) over device_order > {TIMEOUT_MINUTES * 60_000_000}
                then 1
            else 0
        end as starts_block
    from analysed
    window device_order as (partition by device_id order by event_at, event_id)
),
blocked as (
    select
        *,
        sum(starts_block) over (
            partition by device_id order by event_at, event_id
            rows between unbounded preceding and current row
        ) as block_number
    from flagged
),
windowed as (
    select
        *,
        (event_us - min(event_us) over (partition by device_id, block_number))
            // {MAX_SESSION_MINUTES * 60_000_000} as window_number
    from blocked
)
select
    event_id,
    device_id,
    event_at,
    dense_rank() over (
        partition by device_id order by block_number, window_number
    ) as session_index
from windowed
"""


# What our model writes beyond the floor: every column of the analysed event
# beside its session, as int_events_sessionized does. Timed after the
# same-rule floor, from its table: the two together are the floor with our
# model's output.
WIDE_OUTPUT_QUERY = f"""
create or replace temp table floor_wide_output as
select analysed.*, floor_same_rule_sessions.session_index
from {ANALYSED_EVENTS} as analysed
inner join floor_same_rule_sessions
    on analysed.event_id = floor_same_rule_sessions.event_id
where analysed.is_analysed
"""


# --------------------------------------------------------------------------- sizes


def parse_size(text: str) -> int:
    """'1m' -> 1_000_000, '60k' -> 60_000, '1.5m', '2500000'."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmM]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 60k, 1m, 10m, 2500000)")
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    return round(float(match.group(1)) * scale)


def size_label(events: int) -> str:
    for suffix, scale in (("m", 1_000_000), ("k", 1_000)):
        if events >= scale and events % (scale // 10) == 0:
            return f"{events / scale:g}{suffix}"
    return str(events)


def seconds(value: float) -> float:
    return round(value, 2)


def gib(mib: float) -> float:
    return round(mib / 1024, 2)


def ratio(numerator: float | None, denominator: float | None, digits: int = 2) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, digits)


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def received_date_folders(events: Path) -> list[Path]:
    return sorted(
        path for path in events.iterdir() if path.is_dir() and path.name.startswith("received_")
    )


def run_summary(run: DbtRun, top: int | None = TOP) -> dict:
    """What every timed dbt run reports (models and tests: the ``top`` slowest, None: all)."""
    timings = node_timings(run.results, digits=2)
    figures = {
        "wall_seconds": seconds(run.wall_seconds),
        "peak_rss_gib": gib(run.peak_mib),
        "peak_rss_tree_sampled_gib": gib(run.tree_peak_mib),
        "peak_rss_largest_process_gib": gib(run.process_peak_mib),
        # the nodes running when the sampled peak was seen (they share one memory_limit)
        "peak_rss_running_nodes": run.running_at_tree_peak,
        # the DuckDB spill folder's largest size: the temp disk the run needs
        "peak_spill_gib": gib(run.spill_peak_mib),
        "returncode": run.returncode,
        "failures": run.failures,
        "models_seconds": seconds(sum(row["seconds"] for row in timings["models"])),
        "tests_seconds": seconds(sum(row["seconds"] for row in timings["tests"])),
        "seeds_seconds": seconds(sum(row["seconds"] for row in timings["seeds"])),
        "models_count": len(timings["models"]),
        "tests_count": len(timings["tests"]),
        "elapsed_time_dbt": seconds(run.results.get("elapsed_time", 0.0)),
        "models": timings["models"][:top],
        "tests": timings["tests"][:top],
    }
    if run.failures:
        console.print(
            f"[bold red]dbt {' '.join(run.args)}: {len(run.failures)} node(s) did not succeed"
            f" (timings kept; see {run.log}):[/] "
            + ", ".join(f"{row['node']} ({row['status']})" for row in run.failures[:8])
        )
    return figures


# --------------------------------------------------------------------------- phases


def generator_bots(persons: int) -> int:
    """How many bots the generator adds to ``persons`` (its rule: 1.5 %, at least 2)."""
    return max(2, round(persons * 0.015))


def rates(summary: dict) -> tuple[float, float]:
    """People's events per person-day and events per bot of one generated set."""
    persons = summary["parameters"]["persons"]
    people = (summary["valid_events"] - summary["bot_events"]) / (persons * DAYS)
    return people, summary["bot_events"] / max(1, summary["bots"])


def persons_for(target: int, people_rate: float, per_bot: float) -> tuple[int, float]:
    """The persons count whose expected events are nearest ``target``, and that estimate.

    People give about the same events per person-day at any size; bots are few
    and each sends many events (a fifth to a quarter of all events), so they
    are extrapolated apart: events(n) = people's rate x n x DAYS + per bot x bots(n).
    """

    def expected(persons: int) -> float:
        return people_rate * persons * DAYS + per_bot * generator_bots(persons)

    persons = 1
    while expected(persons * 2) < target:
        persons *= 2
    low, high = persons, persons * 2  # expected(low) < target <= expected(high), or low == 1
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if expected(middle) < target else (low, middle)
    best = min((low, high), key=lambda persons: abs(expected(persons) - target))
    return best, expected(best)


def calibrate(target: int, seed: int, work: Path, pilot_persons: int) -> dict:
    """Persons for about ``target`` events over DAYS days, from a small pilot.

    The pilot uses the run's seed (persons and bots are seeded one by one, so
    the pilot's are the first of the run's).
    """
    pilot = work / "pilot"
    started = time.perf_counter()
    summary = generate(out_dir=pilot, persons=pilot_persons, days=DAYS, seed=seed, progress=False)
    elapsed = time.perf_counter() - started
    shutil.rmtree(pilot, ignore_errors=True)
    people_rate, per_bot = rates(summary)
    persons, expected = persons_for(target, people_rate, per_bot)
    return {
        "pilot_persons": pilot_persons,
        "pilot_events": summary["valid_events"],
        "events_per_person_day": round(summary["valid_events"] / (pilot_persons * DAYS), 3),
        "people_events_per_person_day": round(people_rate, 3),
        "events_per_bot": round(per_bot),
        "persons": persons,
        "expected_events": round(expected),
        "seconds": seconds(elapsed),
    }


def generation(target: int, file_format: str, args: argparse.Namespace, work: Path) -> dict:
    """Generate the events (or reuse those of an earlier --keep run).

    Small sets (up to REFINE_MAX_EVENTS) that miss the target by more than
    --tolerance are generated again with the rates they showed (at most
    twice more): few persons vary a lot. Large sets are generated once.
    """
    data = work / "data"
    summary_file = data / "truth" / "summary.json"
    if args.reuse_data and summary_file.exists():
        summary = json.loads(summary_file.read_text())
        console.print(f"reusing {summary['valid_events']:,} events in {data}")
        return {
            "summary": summary,
            "calibration": None,
            "seconds": None,
            "note": "reused from an earlier run (--reuse-data)",
        }
    with console.status("calibrating persons from a pilot run"):
        calibration = calibrate(target, args.seed, work, args.pilot_persons)
    persons = calibration["persons"]
    console.print(
        f"pilot: {calibration['people_events_per_person_day']} events per person-day"
        f" and {calibration['events_per_bot']:,} per bot -> {persons:,} persons x {DAYS} days"
        f" ({file_format}), about {calibration['expected_events']:,} events"
    )
    attempts = []
    while True:
        with console.status(f"generating {persons:,} persons x {DAYS} days"):
            started = time.perf_counter()
            summary = generate(
                out_dir=data,
                persons=persons,
                days=DAYS,
                seed=args.seed,
                file_format=file_format,
                progress=False,
            )
            elapsed = time.perf_counter() - started
        attempts.append(
            {"persons": persons, "events": summary["valid_events"], "seconds": seconds(elapsed)}
        )
        console.print(
            f"generated {summary['lines']:,} lines ({summary['valid_events']:,} valid events)"
            f" in {elapsed:.1f} s"
        )
        off = abs(summary["valid_events"] / target - 1)
        if off <= args.tolerance or target > REFINE_MAX_EVENTS or len(attempts) == 3:
            break
        retry, _ = persons_for(target, *rates(summary))
        if retry in (attempt["persons"] for attempt in attempts):
            break
        console.print(f"{off:.0%} off the target: again with {retry:,} persons")
        persons = retry
    calibration["attempts"] = attempts
    return {"summary": summary, "calibration": calibration, "seconds": elapsed, "note": ""}


# The SQL models and the dbt Python models (segments, churn) are timed apart:
# the speed targets are about the SQL layers; the models' fits are reported.
PYTHON_ONLY = ["--select", "tag:python_models"]
# A scheduled (production) build leaves dbt's unit tests out, as dbt Labs
# recommends: their inputs are fixed, so they prove the SQL, not the day's
# data, and belong to development and CI. They are timed apart (unit_tests).
PRODUCTION = ["--exclude", "tag:python_models", "resource_type:unit_test"]
UNIT_TESTS_ONLY = ["--select", "test_type:unit"]
PYTHON_MODELS = frozenset(
    f"main_marts.{path.stem}" for path in (ROOT / "python_models").rglob("*.py")
)


def full_build(events: Path, work: Path, threads: int) -> tuple[dict, DbtRun, Path]:
    """`dbt build --full-refresh` of every file into a fresh warehouse: the SQL
    models with their tests, then the Python models with theirs, timed apart."""
    folder = work / "full"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    warehouse = folder / "behavior.duckdb"
    env = dbt_env(events, warehouse, threads)
    with console.status("dbt parse (untimed: warms partial parsing)"):
        parse = dbt_run(["parse", "--target", "duckdb"], env, folder)
    with console.status("dbt build --full-refresh (SQL models and their tests)"):
        run = dbt_run(
            ["build", "--target", "duckdb", "--full-refresh", *PRODUCTION], env, folder, check=False
        )
    figures = {"parse_seconds_untimed": seconds(parse.wall_seconds), **run_summary(run)}
    figures["warehouse_bytes"] = warehouse.stat().st_size if warehouse.exists() else None
    figures["scope"] = (
        "SQL models, seeds and their data tests, as a scheduled build runs them"
        " (--exclude tag:python_models resource_type:unit_test)"
    )
    # before any other dbt run: the next one's on-run-start hook makes the
    # pending view (what staging read: every file, typed) empty again
    with console.status("profile: DuckDB's query profile of the three slowest models"):
        figures["profiles"] = profile_slowest(
            warehouse,
            run.results,
            BENCH_SALT,
            threads,
            os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT),
            count=PROFILED_MODELS,
        )
    with console.status("dbt's unit tests (CI's, not a scheduled build's), timed apart"):
        unit_run = dbt_run(
            ["test", "--target", "duckdb", *UNIT_TESTS_ONLY], env, folder, check=False
        )
    figures["unit_tests"] = run_summary(unit_run)
    with console.status("dbt build of the Python models (segments, churn) and their tests"):
        python_run = dbt_run(
            ["build", "--target", "duckdb", "--full-refresh", *PYTHON_ONLY],
            env,
            folder,
            check=False,
        )
    figures["python_models"] = run_summary(python_run)
    console.print(
        f"full build: {run.wall_seconds:.1f} s wall, peak {gib(run.peak_mib)} GiB,"
        f" models {figures['models_seconds']} s, tests {figures['tests_seconds']} s;"
        f" Python models {python_run.wall_seconds:.1f} s, peak {gib(python_run.peak_mib)} GiB"
    )
    return figures, run, warehouse


def bare_script(events: Path, work: Path, threads: int, full: dict) -> dict:
    """The bare DuckDB script on the same files, and our build against it."""
    with console.status("floor: the bare DuckDB script (read, type + dedup, sessions)"):
        figures = run_bare_script(
            events,
            work / "bare.duckdb",
            threads,
            os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT),
        )
    staging = next((row["seconds"] for row in full["models"] if row["node"] == STAGING_MODEL), None)
    figures["sql_build_vs_script"] = ratio(full["wall_seconds"], figures["total_seconds"])
    figures["staging_seconds"] = staging
    figures["staging_vs_read_type_dedup"] = ratio(staging, figures["read_type_dedup_seconds"])
    console.print(
        f"bare script: {figures['total_seconds']} s (read {figures['read_seconds']},"
        f" type + dedup {figures['type_and_dedup_seconds']}, sessions"
        f" {figures['sessions_seconds']}); our SQL build {figures['sql_build_vs_script']}x,"
        f" staging {figures['staging_vs_read_type_dedup']}x read + type + dedup"
    )
    return figures


def _timed(connection: duckdb.DuckDBPyConnection, sql: str) -> float:
    started = time.perf_counter()
    connection.execute(sql)
    return time.perf_counter() - started


def _session_count(connection: duckdb.DuckDBPyConnection, relation: str) -> int:
    return connection.execute(
        f"select count(*) from (select distinct device_id, session_index from {relation})"
    ).fetchone()[0]


def sessionization(
    warehouse: Path, full_run: DbtRun, threads: int, work: Path, args: argparse.Namespace
) -> dict:
    """Our model's time, against the floor query and pandas on the same analysed events."""
    ours = next(
        (r for r in full_run.results.get("results", []) if r["unique_id"] == SESSIONIZED_MODEL),
        None,
    )
    figures: dict = {
        "rule": f"{TIMEOUT_MINUTES} min timeout (strict >), logout, {MAX_SESSION_MINUTES} min cap",
        "ours_seconds": seconds(ours["execution_time"]) if ours else None,
        "ours_status": ours["status"] if ours else "not in run_results",
        "threads": threads,
    }
    # the warehouse itself, read-only (the floor's tables are temporary), and
    # a spill folder of its own: a copy of the warehouse took 22 GB of disk at
    # 30M, and the floor's spill beside it filled the disk
    spill = work / "floor-spill"
    spill.mkdir(parents=True, exist_ok=True)
    frame = None
    try:
        with duckdb.connect(
            str(warehouse), read_only=True, config={"temp_directory": str(spill)}
        ) as connection:
            connection.execute(f"set threads = {threads}")
            connection.execute("set TimeZone = 'UTC'")  # as the dbt profile
            figures["analysed_events"] = connection.execute(
                f"select count(*) from {ANALYSED_EVENTS} where is_analysed"
            ).fetchone()[0]
            with console.status("floor: one DuckDB window query"):
                figures["duckdb_floor_seconds"] = seconds(_timed(connection, FLOOR_QUERY))
                figures["duckdb_floor_same_rule_seconds"] = seconds(
                    _timed(connection, FLOOR_SAME_RULE_QUERY)
                )
                wide = _timed(connection, WIDE_OUTPUT_QUERY)
                figures["duckdb_floor_same_output_seconds"] = seconds(
                    figures["duckdb_floor_same_rule_seconds"] + wide
                )
            if ours and ours["status"] == "success" and ours.get("compiled_code"):
                # the model's own SQL (as the full build compiled it) into a temp table on
                # this connection: the floor's conditions, without dbt's materialization
                # and without the model the build ran beside it on the other thread
                with console.status("sessions: our model's SQL alone"):
                    figures["ours_alone_seconds"] = seconds(
                        _timed(
                            connection,
                            "create or replace temp table ours_alone as " + ours["compiled_code"],
                        )
                    )
                figures["ours_alone_rows_equal_table"] = (
                    connection.execute("select count(*) from ours_alone").fetchone()[0]
                    == connection.execute(f"select count(*) from {SESSIONIZED_TABLE}").fetchone()[0]
                )
            figures["duckdb_floor_note"] = (
                "floor: lag/flag/cumulative sum over event_id, device_id, event_at of the analysed"
                " events (int_events_attributed, as the model reads it), 30 min strict >"
                " only, into a temp table; same_rule adds the logout and 24 h cap rules;"
                " same_output also joins every column of the analysed event to its session,"
                " the width our model writes"
            )
            figures["sessions"] = {
                "floor": _session_count(connection, "floor_sessions"),
                "floor_same_rule": _session_count(connection, "floor_same_rule_sessions"),
                "ours": _session_count(connection, SESSIONIZED_TABLE)
                if ours and ours["status"] == "success"
                else None,
            }
            if not args.skip_pandas:
                with console.status("loading the analysed events into pandas"):
                    started = time.perf_counter()
                    # sessionize() needs event_name too (the logout rule)
                    with warnings.catch_warnings():
                        # DuckDB's own DataFrame conversion uses drop(inplace=) (pandas 3.1)
                        warnings.filterwarnings("ignore", message="The inplace keyword")
                        frame = connection.execute(
                            "select event_id, device_id, event_name, event_at"
                            f" from {ANALYSED_EVENTS} where is_analysed"
                        ).df()
                    figures["pandas_load_seconds"] = seconds(time.perf_counter() - started)
    finally:
        shutil.rmtree(spill, ignore_errors=True)

    if frame is None:
        figures["pandas_note"] = "skipped (--skip-pandas)"
    else:
        figures["pandas_columns"] = "event_id, device_id, event_name, event_at"
        with console.status("pandas: vectorized sessionize()"):
            started = time.perf_counter()
            vectorized = sessionize(
                frame, timeout_minutes=TIMEOUT_MINUTES, max_session_minutes=MAX_SESSION_MINUTES
            )
            figures["pandas_vectorized_seconds"] = seconds(time.perf_counter() - started)
        figures["sessions"]["pandas_vectorized"] = int(
            vectorized.groupby("device_id")["session_index"].max().sum()
        )
        del vectorized
        if len(frame) <= args.apply_max_events:
            with console.status("pandas: per-device groupby().apply"):
                started = time.perf_counter()
                applied = sessionize_apply(
                    frame, timeout_minutes=TIMEOUT_MINUTES, max_session_minutes=MAX_SESSION_MINUTES
                )
                figures["pandas_apply_seconds"] = seconds(time.perf_counter() - started)
            figures["sessions"]["pandas_apply"] = int(
                applied.groupby("device_id")["session_index"].max().sum()
            )
            del applied
        else:
            figures["pandas_apply_seconds"] = None
            figures["pandas_apply_note"] = (
                f"skipped above {args.apply_max_events:,} events (about 35x the vectorized time)"
            )
        del frame

    same_rule = [
        count
        for name, count in figures["sessions"].items()
        if name != "floor" and count is not None
    ]
    figures["session_counts_agree"] = len(set(same_rule)) == 1
    figures["ours_vs_floor"] = ratio(figures["ours_seconds"], figures["duckdb_floor_seconds"])
    figures["ours_vs_floor_same_rule"] = ratio(
        figures["ours_seconds"], figures["duckdb_floor_same_rule_seconds"]
    )
    figures["ours_vs_floor_same_output"] = ratio(
        figures["ours_seconds"], figures["duckdb_floor_same_output_seconds"]
    )
    alone = figures.get("ours_alone_seconds")
    figures["ours_alone_vs_floor"] = ratio(alone, figures["duckdb_floor_seconds"])
    figures["ours_alone_vs_floor_same_rule"] = ratio(
        alone, figures["duckdb_floor_same_rule_seconds"]
    )
    figures["ours_alone_vs_floor_same_output"] = ratio(
        alone, figures["duckdb_floor_same_output_seconds"]
    )
    figures["pandas_vectorized_vs_ours"] = ratio(
        figures.get("pandas_vectorized_seconds"), figures["ours_seconds"]
    )
    figures["pandas_apply_vs_ours"] = ratio(
        figures.get("pandas_apply_seconds"), figures["ours_seconds"]
    )
    console.print(
        f"sessions: ours {figures['ours_seconds']} s, floor {figures['duckdb_floor_seconds']} s"
        f" (same rule {figures['duckdb_floor_same_rule_seconds']} s),"
        f" pandas vectorized {figures.get('pandas_vectorized_seconds')} s,"
        f" apply {figures.get('pandas_apply_seconds')} s; counts {figures['sessions']}"
    )
    if not figures["session_counts_agree"]:
        console.print("[bold yellow]session counts under the same rule differ[/]")
    return figures


def _link_folder(source: Path, staged: Path) -> None:
    """Hard links (DuckDB's glob does not follow symbolic links), else copies."""
    (staged / source.name).mkdir(parents=True, exist_ok=True)
    for file in source.iterdir():
        target = staged / source.name / file.name
        try:
            target.hardlink_to(file)
        except OSError:
            shutil.copy2(file, target)


def incremental_day(
    events: Path, work: Path, threads: int, full: dict, full_warehouse: Path, compare_marts: bool
) -> dict:
    """Build the first DAYS-1 received dates, then time the build that adds the rest."""
    folders = received_date_folders(events)
    base = folders[: DAYS - 1] if len(folders) >= DAYS else folders[:-1]
    added = folders[len(base) :]
    folder = work / "incremental"
    shutil.rmtree(folder, ignore_errors=True)
    staged = folder / "events"
    staged.mkdir(parents=True)
    warehouse = folder / "behavior.duckdb"
    env = dbt_env(staged, warehouse, threads)

    for day in base:
        _link_folder(day, staged)
    with console.status(f"dbt build of the first {len(base)} received dates"):
        base_run = dbt_run(["build", "--target", "duckdb", *PRODUCTION], env, folder, check=False)
    for day in added:
        _link_folder(day, staged)
    with console.status(f"dbt build adding {', '.join(day.name for day in added)}"):
        run = dbt_run(["build", "--target", "duckdb", *PRODUCTION], env, folder, check=False)
    figures = {
        "scope": "SQL models, seeds and their data tests, as the full build it is compared with",
        "received_dates_before": len(base),
        "received_dates_added": [day.name for day in added],
        "bytes_added": sum(folder_bytes(day) for day in added),
        "note": (
            f"added the {DAYS}th received date and the late deliveries received after it,"
            " so that both warehouses end with the same files"
        ),
        "base_build_seconds": seconds(base_run.wall_seconds),
        "base_build_failures": base_run.failures,
        **run_summary(run, top=None),
    }
    figures["share_of_full_build"] = ratio(run.wall_seconds, full["wall_seconds"], 3)
    figures["models_share_of_full_build"] = ratio(
        figures["models_seconds"], full["models_seconds"], 3
    )
    if compare_marts:
        with console.status("comparing the marts with the full build"):
            differences = compare(
                full_warehouse,
                warehouse,
                ("main_marts",),
                # person_features keeps the day-89 build's snapshot too (by design)
                snapshot_tables={"main_marts.person_features": "as_of_date"},
                ignore_tables=PYTHON_MODELS,
            )
        figures["marts_equal_full_build"] = not differences
        figures["differences"] = [str(difference) for difference in differences][:10]
    else:
        figures["marts_equal_full_build"] = None
        figures["differences"] = [f"not compared above {COMPARE_MAX_EVENTS:,} events"]
    console.print(
        f"incremental: {run.wall_seconds:.1f} s ({figures['share_of_full_build']:.1%} of the"
        f" full build), marts equal: {figures['marts_equal_full_build']}"
    )
    return figures


def measure(target: int, args: argparse.Namespace, work: Path) -> dict:
    label = size_label(target)
    file_format = args.format or ("parquet" if target >= PARQUET_FROM_EVENTS else "jsonl")
    if not args.reuse_data:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    threads = args.threads or usable_cores()

    console.rule(f"{label}: generation")
    generated = generation(target, file_format, args, work)
    summary = generated["summary"]
    file_format = summary["parameters"].get("file_format", file_format)
    events = work / "data" / "events"
    elapsed = generated["seconds"]
    figures: dict = {
        "target_events": target,
        "input": {
            "persons": summary["parameters"]["persons"],
            "days": summary["parameters"]["days"],
            "seed": summary["parameters"]["seed"],
            "format": file_format,
            "lines": summary["lines"],
            "events": summary["valid_events"],
            "events_vs_target": ratio(summary["valid_events"], target, 3),
            "truth_sessions": summary.get("sessions"),
            "received_dates": len(received_date_folders(events)),
            "bytes_on_disk": folder_bytes(events),
        },
        "calibration": generated["calibration"],
        "generation": {
            "seconds": None if elapsed is None else seconds(elapsed),
            "lines": summary["lines"],
            "lines_per_second": None if elapsed is None else round(summary["lines"] / elapsed),
            "note": generated["note"],
        },
    }

    console.rule(f"{label}: full build")
    full, full_run, warehouse = full_build(events, work, threads)
    figures["full_build"] = full

    console.rule(f"{label}: the bare DuckDB script")
    figures["bare_script"] = bare_script(events, work, threads, full)

    console.rule(f"{label}: sessionization")
    try:
        figures["sessionization"] = sessionization(warehouse, full_run, threads, work, args)
    except (OSError, duckdb.Error) as error:
        # a phase that fails (a full disk at 30M) costs its own figures only:
        # the build's, measured for half an hour, are kept
        console.print(f"[red]sessionization failed: {error}[/red]")
        figures["sessionization"] = {"error": str(error)}

    if args.skip_incremental:
        figures["incremental_day"] = {"skipped": "--skip-incremental"}
    else:
        console.rule(f"{label}: incremental day")
        figures["incremental_day"] = incremental_day(
            events,
            work,
            threads,
            full,
            warehouse,
            compare_marts=summary["valid_events"] <= args.compare_max_events,
        )

    if not args.keep:
        for folder in ("full", "incremental"):
            shutil.rmtree(work / folder, ignore_errors=True)
        if not args.reuse_data:
            shutil.rmtree(work, ignore_errors=True)
    return figures


# --------------------------------------------------------------------------- targets


def explanation(name: str) -> str:
    """The engineer's `why` for a missed target (bench/why.yml), else empty."""
    if not EXPLANATIONS.exists():
        return ""
    return " ".join(str((yaml.safe_load(EXPLANATIONS.read_text()) or {}).get(name, "")).split())


def verdict(name: str, measured: float | None, at: str | None, note: str = "") -> dict:
    goal, limit, better = TARGETS[name]
    row = {"goal": goal, "target": limit, "better": better, "measured": measured, "at": at}
    if measured is None:
        return {**row, "at": None, "met": None, "off_by": None, "note": note, "why": ""}
    met = measured <= limit if better == "lower" else measured >= limit
    # > 1: missed by that factor; <= 1: met with that much headroom
    off_by = measured / limit if better == "lower" else (limit / measured if measured else None)
    return {
        **row,
        "met": met,
        "off_by": None if off_by is None else round(off_by, 2),
        "note": note,
        "why": "" if met else explanation(name),
    }


def growth(sizes: dict) -> dict:
    """Full-build growth between each pair of consecutive sizes, and 1M -> 10M."""
    by_target = sorted(sizes.items(), key=lambda item: item[1]["target_events"])
    steps = []
    for (small_label, small), (large_label, large) in zip(by_target, by_target[1:], strict=False):
        steps.append(
            {
                "from": small_label,
                "to": large_label,
                "events": ratio(large["input"]["events"], small["input"]["events"]),
                "full_build_wall": ratio(
                    large["full_build"]["wall_seconds"], small["full_build"]["wall_seconds"]
                ),
                "full_build_models": ratio(
                    large["full_build"]["models_seconds"], small["full_build"]["models_seconds"]
                ),
            }
        )
    targets = {figures["target_events"]: figures for figures in sizes.values()}
    one, ten = targets.get(1_000_000), targets.get(10_000_000)
    return {
        "steps": steps,
        "1m_to_10m": ratio(ten["full_build"]["wall_seconds"], one["full_build"]["wall_seconds"])
        if one and ten
        else None,
    }


def targets(sizes: dict, growth_figures: dict) -> dict:
    largest_label, largest = max(sizes.items(), key=lambda item: item[1]["target_events"])
    ten = next(((label, s) for label, s in sizes.items() if s["target_events"] == 10_000_000), None)
    peaks = [
        (run["peak_rss_gib"], label, run.get("peak_rss_running_nodes") or [])
        for label, s in sizes.items()
        for run in (s["full_build"], s["incremental_day"])
        if "peak_rss_gib" in run
    ]
    peak, peak_at, peak_nodes = max(peaks)
    incremental = [
        (label, s["incremental_day"])
        for label, s in sorted(sizes.items(), key=lambda item: -item[1]["target_events"])
        if "share_of_full_build" in s["incremental_day"]
    ]
    sessions = largest["sessionization"]
    bare = largest.get("bare_script", {})
    return {
        "sql_build_vs_bare_script": verdict(
            "sql_build_vs_bare_script",
            bare.get("sql_build_vs_script"),
            largest_label,
            "dbt build wall (SQL models, their tests, dbt's start-up) / the bare script's phases",
        ),
        "staging_vs_bare_read_type_dedup": verdict(
            "staging_vs_bare_read_type_dedup",
            bare.get("staging_vs_read_type_dedup"),
            largest_label,
            "base_tracker__event_lines node time / read + type + dedup of the bare script",
        ),
        "full_build_10m_seconds": verdict(
            "full_build_10m_seconds",
            ten[1]["full_build"]["wall_seconds"] if ten else None,
            ten[0] if ten else None,
            "" if ten else "10M not in this run",
        ),
        "peak_memory_gib": verdict(
            "peak_memory_gib",
            peak,
            peak_at,
            "largest peak of any timed dbt run; running when it was sampled: "
            + (", ".join(peak_nodes) or "not recorded"),
        ),
        "sessions_vs_duckdb_floor": verdict(
            "sessions_vs_duckdb_floor",
            sessions.get("ours_vs_floor"),
            largest_label,
            f"ours (the model's time in the build) / floor; against the floor with the same"
            f" rule: {sessions.get('ours_vs_floor_same_rule')}, with the same rule and output"
            f" columns: {sessions.get('ours_vs_floor_same_output')}; the model's SQL alone on"
            f" the floor's connection: {sessions.get('ours_alone_vs_floor')} of the floor,"
            f" {sessions.get('ours_alone_vs_floor_same_output')} of the same rule and output",
        ),
        "pandas_vectorized_vs_sessions": verdict(
            "pandas_vectorized_vs_sessions",
            sessions.get("pandas_vectorized_vs_ours"),
            largest_label,
            "pandas vectorized compute (load excluded) / ours"
            if sessions.get("pandas_vectorized_vs_ours") is not None
            else "pandas not measured",
        ),
        "incremental_day_share_of_full": verdict(
            "incremental_day_share_of_full",
            incremental[0][1]["share_of_full_build"] if incremental else None,
            incremental[0][0] if incremental else None,
            "incremental build wall / full build wall" if incremental else "incremental not run",
        ),
        "growth_1m_to_10m": verdict(
            "growth_1m_to_10m",
            growth_figures["1m_to_10m"],
            "1m->10m" if growth_figures["1m_to_10m"] is not None else None,
            "" if growth_figures["1m_to_10m"] is not None else "needs 1m and 10m in one run",
        ),
    }


# --------------------------------------------------------------------------- report


def print_report(figures: dict, out: Path) -> None:
    sizes = figures["sizes"]
    table = Table(title="figures (seconds unless noted)")
    table.add_column("figure")
    for label in sizes:
        table.add_column(label, justify="right")

    def row(name: str, pick) -> None:
        values = []
        for size in sizes.values():
            try:
                value = pick(size)
            except (KeyError, TypeError):
                value = None
            if value is None:
                values.append("-")
            elif isinstance(value, int) and not isinstance(value, bool):
                values.append(f"{value:,}")
            else:
                values.append(str(value))
        table.add_row(name, *values)

    row("events (valid)", lambda s: s["input"]["events"])
    row("lines", lambda s: s["input"]["lines"])
    row("format", lambda s: s["input"]["format"])
    row("generation", lambda s: s["generation"]["seconds"])
    row("full build wall", lambda s: s["full_build"]["wall_seconds"])
    row(
        "  models / tests",
        lambda s: f"{s['full_build']['models_seconds']} / {s['full_build']['tests_seconds']}",
    )
    row("  peak memory GiB", lambda s: s["full_build"]["peak_rss_gib"])
    row("  unit tests wall (apart)", lambda s: s["full_build"]["unit_tests"]["wall_seconds"])
    row("  Python models wall", lambda s: s["full_build"]["python_models"]["wall_seconds"])
    row("bare script total", lambda s: s["bare_script"]["total_seconds"])
    row(
        "  read / type+dedup",
        lambda s: (
            f"{s['bare_script']['read_seconds']} / {s['bare_script']['type_and_dedup_seconds']}"
        ),
    )
    row("  SQL build / script", lambda s: s["bare_script"]["sql_build_vs_script"])
    row("  staging / read+type+dedup", lambda s: s["bare_script"]["staging_vs_read_type_dedup"])
    row("sessions: ours", lambda s: s["sessionization"]["ours_seconds"])
    row("  floor query", lambda s: s["sessionization"]["duckdb_floor_seconds"])
    row("  floor, same rule", lambda s: s["sessionization"]["duckdb_floor_same_rule_seconds"])
    row(
        "  floor, same rule + output",
        lambda s: s["sessionization"]["duckdb_floor_same_output_seconds"],
    )
    row("  pandas load", lambda s: s["sessionization"].get("pandas_load_seconds"))
    row("  pandas vectorized", lambda s: s["sessionization"].get("pandas_vectorized_seconds"))
    row("  pandas apply", lambda s: s["sessionization"].get("pandas_apply_seconds"))
    row("  ours alone (model's SQL)", lambda s: s["sessionization"].get("ours_alone_seconds"))
    row("  ours / floor", lambda s: s["sessionization"]["ours_vs_floor"])
    row("  ours alone / floor", lambda s: s["sessionization"].get("ours_alone_vs_floor"))
    row(
        "  ours alone / same output",
        lambda s: s["sessionization"].get("ours_alone_vs_floor_same_output"),
    )
    row("  pandas vect. / ours", lambda s: s["sessionization"]["pandas_vectorized_vs_ours"])
    row("  apply / ours", lambda s: s["sessionization"]["pandas_apply_vs_ours"])
    row("  counts agree", lambda s: s["sessionization"]["session_counts_agree"])
    row("incremental day wall", lambda s: s["incremental_day"]["wall_seconds"])
    row("  share of full", lambda s: s["incremental_day"]["share_of_full_build"])
    row("  marts equal", lambda s: s["incremental_day"]["marts_equal_full_build"])
    console.print(table)

    verdicts = Table(title="targets")
    for column in ("target", "limit", "measured", "at", "met", "off by"):
        verdicts.add_column(column, no_wrap=column == "target")
    for name, result in figures["targets"].items():
        met = {True: "[green]met[/]", False: "[red]missed[/]", None: "[dim]n/a[/]"}[result["met"]]
        verdicts.add_row(
            name,
            f"{'<=' if result['better'] == 'lower' else '>='} {result['target']}",
            "-" if result["measured"] is None else str(result["measured"]),
            result["at"] or "-",
            met,
            "-" if result["off_by"] is None else f"{result['off_by']}x",
        )
    console.print(verdicts)
    for name, result in figures["targets"].items():
        if result["met"] is False:
            console.print(f"[red]{name}[/]: {result['why'] or '(no explanation in bench/why.yml)'}")
    console.print(f"written to {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--events", type=parse_size, help="one target size, e.g. 1000000")
    sizes.add_argument(
        "--sizes",
        default="1m,10m",
        help="comma-separated target sizes, e.g. 1m,10m (default) or 60k",
    )
    parser.add_argument(
        "--format",
        choices=["jsonl", "parquet", "csv"],
        default=None,
        help=f"event files (default: parquet from {PARQUET_FROM_EVENTS:,} events, else jsonl)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=None, help="default: nproc")
    parser.add_argument("--pilot-persons", type=int, default=300)
    parser.add_argument(
        "--tolerance",
        type=float,
        default=0.1,
        help=f"generate again when off the target by more (up to {REFINE_MAX_EVENTS:,} events)",
    )
    parser.add_argument("--apply-max-events", type=int, default=APPLY_MAX_EVENTS)
    parser.add_argument("--compare-max-events", type=int, default=COMPARE_MAX_EVENTS)
    parser.add_argument("--skip-incremental", action="store_true")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "work" / "scale")
    parser.add_argument("--out", type=Path, default=None, help="default: bench/results/...")
    parser.add_argument("--keep", action="store_true", help="Keep the data and warehouses.")
    parser.add_argument(
        "--readme",
        action="store_true",
        help="Also write the table (scale-<sizes>.md beside the results file) into README.md,"
        " between the markers that name the results file (bench/readme_table.py).",
    )
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="Reuse data generated by an earlier --keep run in --work (skips generation).",
    )
    args = parser.parse_args()
    targets_events = (
        [args.events] if args.events else [parse_size(part) for part in args.sizes.split(",")]
    )
    labels = [size_label(events) for events in targets_events]
    out = args.out or ROOT / "bench" / "results" / f"scale-{'-'.join(labels)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)

    figures: dict = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine(),
        "git": git_state(),
        "parameters": {
            "days": DAYS,
            "seed": args.seed,
            "threads": args.threads or usable_cores(),
            "format": args.format or f"parquet from {PARQUET_FROM_EVENTS:,} events, else jsonl",
            "session_timeout_minutes": TIMEOUT_MINUTES,
            "max_session_minutes": MAX_SESSION_MINUTES,
            "apply_max_events": args.apply_max_events,
            "compare_max_events": args.compare_max_events,
            "skip_incremental": args.skip_incremental,
            "skip_pandas": args.skip_pandas,
            "dbt_profiles_dir": os.environ.get("DBT_PROFILES_DIR", str(ROOT)),
        },
        "legend": {
            "off_by": "measured/target (lower is better) or target/measured (higher is better):"
            " above 1 = missed by that factor, at most 1 = met",
            "why": "the engineer's explanation of a missed target (bench/why.yml)",
        },
        "sizes": {},
    }
    for target, label in zip(targets_events, labels, strict=True):
        try:
            figures["sizes"][label] = measure(target, args, args.work / label)
        except DbtError as error:
            console.print(f"[bold red]{label}: {error}[/]")
            raise
        figures["growth"] = growth(figures["sizes"])
        figures["targets"] = targets(figures["sizes"], figures["growth"])
        # written after every size, so a long run that dies keeps what it measured
        out.write_text(json.dumps(figures, indent=2) + "\n")
    print_report(figures, out)
    try:
        table = write_readme_table(figures, out, ROOT / "README.md" if args.readme else None)
    except ValueError as error:
        # the figures are written; only the README's block is missing
        console.print(f"[red]README.md not updated: {error}[/red]")
    else:
        console.print(f"the README's table: {table}" + (" and README.md" if args.readme else ""))


if __name__ == "__main__":
    main()
