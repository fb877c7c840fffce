"""Benchmark at scale: full build, sessionization baselines, incremental day, growth.

Not a test: it measures, prints and writes every figure (with the machine and
versions) to bench/results/scale-<sizes>.json, where the README quotes them.
Timings on a shared machine are noisy; the targets are ratios measured in
one run where possible.

    .venv/bin/python bench/scale.py --sizes 1m,10m

Per size (events over 90 days; Parquet from 5M events on):
1. generation;
2. `dbt build --full-refresh` of every file: wall time, peak memory of the
   dbt process, time per model from dbt's run results;
3. sessionization of the same analysed events: our model as dbt ran it, one
   hand-written DuckDB window query (the floor), the vectorized pandas
   version an analyst writes (sort, groupby diff, cumsum) and the per-device
   `groupby().apply` (up to 1.5M events);
4. (sizes in --incremental-sizes) an incremental `dbt build` adding the 90th
   received day to a warehouse built with the first 89, against the full
   build of step 2, and the marts of both compared row for row.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from foundation import machine, run_dbt  # noqa: E402

from behavioral_analytics import project  # noqa: E402
from behavioral_analytics.equivalence import compare  # noqa: E402
from behavioral_analytics.generator import generate  # noqa: E402
from behavioral_analytics.sessionize import sessionize, sessionize_apply  # noqa: E402

console = Console()
SIZES = {"smoke": 60_000, "1m": 1_000_000, "2m": 2_000_000, "5m": 5_000_000, "10m": 10_000_000}
DAYS = 90
BENCH_SALT = "bench-salt-not-a-secret"
# the targets
TARGETS = {
    "full_build_10m_seconds": 120,
    "peak_memory_gib": 4,
    "sessions_vs_duckdb_floor": 1.3,
    "pandas_vectorized_vs_sessions": 2.0,
    "incremental_day_share_of_full": 0.10,
    "growth_1m_to_10m": 11,
}
FLOOR_QUERY = """
create or replace temp table floor_sessions as
with ordered as (
    select
        device_id,
        event_id,
        event_at,
        epoch_us(event_at) - lag(epoch_us(event_at)) over device_order as gap_us,
        lag(event_name) over device_order = 'logout' as after_logout
    from bench_input
    window device_order as (partition by device_id order by event_at, event_id)
)
select
    device_id,
    event_id,
    sum(case when gap_us is null or gap_us > 1800000000 or after_logout then 1 else 0 end) over (
        partition by device_id order by event_at, event_id
        rows between unbounded preceding and current row
    ) as session_index
from ordered
"""


def models_by_time(results: dict) -> list[dict]:
    rows = [
        {"node": result["unique_id"].split(".")[-1], "seconds": round(result["execution_time"], 2)}
        for result in results["results"]
        if result["unique_id"].startswith("model.")
    ]
    return sorted(rows, key=lambda row: -row["seconds"])


def dbt_env(events: Path, warehouse: Path) -> dict:
    env = project.dbt_environment(events_path=events, warehouse=warehouse)
    env[project.PII_SALT_ENV] = BENCH_SALT
    return env


def persons_for(target_events: int, seed: int, work: Path) -> int:
    """Calibrate persons from a small pilot over the same 90 days."""
    pilot = generate(out_dir=work / "pilot", persons=150, days=DAYS, seed=seed, progress=False)
    shutil.rmtree(work / "pilot", ignore_errors=True)
    return max(50, round(target_events / (pilot["valid_events"] / 150)))


def full_build(events: Path, work: Path) -> dict:
    warehouse = work / "full" / "behavior.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    wall, peak_mib, results = run_dbt(
        ["build", "--target", "duckdb", "--full-refresh"], dbt_env(events, warehouse), work / "full"
    )
    models = models_by_time(results)
    tests = [r for r in results["results"] if r["unique_id"].startswith(("test.", "unit_test."))]
    return {
        "warehouse": warehouse,
        "wall_seconds": round(wall, 2),
        "peak_rss_gib": round(peak_mib / 1024, 2),
        "models_seconds": round(sum(row["seconds"] for row in models), 2),
        "tests_seconds": round(sum(r["execution_time"] for r in tests), 2),
        "tests": len(tests),
        "models": models[:15],
        "sessionized_model_seconds": next(
            row["seconds"] for row in models if row["node"] == "int_events_sessionized"
        ),
    }


def sessionization(warehouse: Path, threads: int, with_apply: bool) -> dict:
    """The same analysed events sessionized by the floor query and by pandas."""
    figures: dict = {}
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        connection.execute(f"set threads = {threads}")
        connection.execute(
            "create temp table bench_input as select device_id, event_id, event_name, event_at"
            " from main_intermediate.int_events_sessionized"
        )
        figures["events"] = connection.execute("select count(*) from bench_input").fetchone()[0]
        started = time.perf_counter()
        connection.execute(FLOOR_QUERY)
        figures["duckdb_floor_seconds"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        frame = connection.execute("select * from bench_input").df()
        figures["pandas_load_seconds"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    vectorized = sessionize(frame, timeout_minutes=30, max_session_minutes=1440)
    figures["pandas_vectorized_seconds"] = round(time.perf_counter() - started, 2)
    figures["sessions"] = int(vectorized.groupby("device_id")["session_index"].max().sum())
    if with_apply:
        started = time.perf_counter()
        sessionize_apply(frame, timeout_minutes=30, max_session_minutes=1440)
        figures["pandas_apply_seconds"] = round(time.perf_counter() - started, 2)
    else:
        figures["pandas_apply_seconds"] = None
        figures["pandas_apply_note"] = "skipped above 1.5M events (about 35x the vectorized time)"
    return figures


def incremental_day(events: Path, work: Path, full: dict) -> dict:
    """Build the first 89 received days, then time the build that adds the 90th."""
    days = sorted(path for path in events.iterdir() if path.is_dir())
    staged = work / "incremental" / "events"
    warehouse = work / "incremental" / "behavior.duckdb"
    staged.mkdir(parents=True, exist_ok=True)

    def link(day: Path) -> None:
        (staged / day.name).mkdir(exist_ok=True)
        for file in day.iterdir():
            # hard links: DuckDB's glob does not follow symbolic links
            (staged / day.name / file.name).hardlink_to(file)

    for day in days[:-1]:
        link(day)
    base_wall, _, _ = run_dbt(
        ["build", "--target", "duckdb"], dbt_env(staged, warehouse), work / "incremental"
    )
    link(days[-1])
    wall, peak_mib, results = run_dbt(
        ["build", "--target", "duckdb"], dbt_env(staged, warehouse), work / "incremental"
    )
    # row-for-row comparison in pandas: affordable up to a couple of million events
    compared = full["events"] <= 2_000_000
    differences = compare(full["warehouse"], warehouse, ("main_marts",)) if compared else []
    return {
        "received_days_before": len(days) - 1,
        "first_89_days_build_seconds": round(base_wall, 2),
        "wall_seconds": round(wall, 2),
        "peak_rss_gib": round(peak_mib / 1024, 2),
        "share_of_full_build": round(wall / full["wall_seconds"], 3),
        "marts_equal_full_build": (not differences) if compared else None,
        "differences": [str(difference) for difference in differences][:10],
        "models": models_by_time(results)[:10],
    }


def measure(label: str, args, work: Path) -> dict:
    target = SIZES[label]
    file_format = args.format or ("parquet" if target >= 5_000_000 else "jsonl")
    work.mkdir(parents=True, exist_ok=True)
    for previous in ("full", "incremental"):
        shutil.rmtree(work / previous, ignore_errors=True)
    events = work / "data" / "events"
    summary_file = work / "data" / "truth" / "summary.json"
    generation_seconds = None
    if args.reuse_data and summary_file.exists():
        console.rule(f"{label}: reusing the generated data in {work / 'data'}")
        summary = json.loads(summary_file.read_text())
        persons = summary["parameters"]["persons"]
        file_format = summary["parameters"].get("file_format", file_format)
    else:
        console.rule(f"{label}: calibrating")
        persons = persons_for(target, args.seed, work)
        console.rule(f"{label}: generating {persons} persons x {DAYS} days ({file_format})")
        started = time.perf_counter()
        summary = generate(
            out_dir=work / "data",
            persons=persons,
            days=DAYS,
            seed=args.seed,
            file_format=file_format,
            progress=True,
        )
        generation_seconds = time.perf_counter() - started
    console.rule(f"{label}: full build")
    full = full_build(events, work)
    full["events"] = summary["valid_events"]
    console.rule(f"{label}: sessionization baselines")
    threads = int(dbt_env(events, work)["BEHAVIOR_THREADS"])
    sessions = sessionization(full["warehouse"], threads, summary["valid_events"] <= 1_500_000)
    sessions["ours_seconds"] = full["sessionized_model_seconds"]
    sessions["ours_vs_floor"] = round(
        sessions["ours_seconds"] / sessions["duckdb_floor_seconds"], 2
    )
    sessions["pandas_vectorized_vs_ours"] = round(
        sessions["pandas_vectorized_seconds"] / sessions["ours_seconds"], 2
    )
    if sessions["pandas_apply_seconds"]:
        sessions["pandas_apply_vs_ours"] = round(
            sessions["pandas_apply_seconds"] / sessions["ours_seconds"], 2
        )
    figures = {
        "input": {
            "persons": persons,
            "days": DAYS,
            "format": file_format,
            "lines": summary["lines"],
            "events": summary["valid_events"],
            "bytes_on_disk": sum(p.stat().st_size for p in events.rglob("*") if p.is_file()),
        },
        "generation": {
            "seconds": None if generation_seconds is None else round(generation_seconds, 2),
            "lines_per_second": None
            if generation_seconds is None
            else round(summary["lines"] / generation_seconds),
            "note": "reused from an earlier run (--reuse-data)"
            if generation_seconds is None
            else "",
        },
        "full_build": {
            key: value for key, value in full.items() if key not in ("warehouse", "events")
        },
        "sessionization": sessions,
    }
    if label in args.incremental_sizes:
        console.rule(f"{label}: incremental day")
        figures["incremental_day"] = incremental_day(events, work, full)
    return figures


def targets(sizes: dict) -> dict:
    def verdict(name: str, value, better: str) -> dict:
        if value is None:
            return {"target": TARGETS[name], "measured": None, "met": None, "why": ""}
        met = value <= TARGETS[name] if better == "lower" else value >= TARGETS[name]
        return {
            "target": TARGETS[name],
            "measured": value,
            "met": met,
            "off_by": None if met else round(value / TARGETS[name], 2),
            "why": "",
        }

    largest = sizes[max(sizes, key=lambda label: SIZES[label])]
    incremental = next((s["incremental_day"] for s in sizes.values() if "incremental_day" in s), {})
    growth = None
    if "1m" in sizes and "10m" in sizes:
        growth = round(
            sizes["10m"]["full_build"]["wall_seconds"] / sizes["1m"]["full_build"]["wall_seconds"],
            2,
        )
    return {
        "full_build_10m_seconds": verdict(
            "full_build_10m_seconds",
            sizes["10m"]["full_build"]["wall_seconds"] if "10m" in sizes else None,
            "lower",
        ),
        "peak_memory_gib": verdict(
            "peak_memory_gib", largest["full_build"]["peak_rss_gib"], "lower"
        ),
        "sessions_vs_duckdb_floor": verdict(
            "sessions_vs_duckdb_floor", largest["sessionization"]["ours_vs_floor"], "lower"
        ),
        "pandas_vectorized_vs_sessions": verdict(
            "pandas_vectorized_vs_sessions",
            largest["sessionization"]["pandas_vectorized_vs_ours"],
            "higher",
        ),
        "incremental_day_share_of_full": verdict(
            "incremental_day_share_of_full", incremental.get("share_of_full_build"), "lower"
        ),
        "growth_1m_to_10m": verdict("growth_1m_to_10m", growth, "lower"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m,10m", help=f"comma-separated: {', '.join(SIZES)}")
    parser.add_argument("--incremental-sizes", default="1m,10m")
    parser.add_argument("--format", choices=["jsonl", "parquet", "csv"], default=None)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "work" / "scale")
    parser.add_argument("--keep", action="store_true", help="Keep the generated data.")
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="Reuse data generated by an earlier --keep run in --work (skips generation).",
    )
    args = parser.parse_args()
    labels = [label.strip() for label in args.sizes.split(",") if label.strip()]
    args.incremental_sizes = {label.strip() for label in args.incremental_sizes.split(",")}

    if not args.reuse_data:
        shutil.rmtree(args.work, ignore_errors=True)
    out = ROOT / "bench" / "results" / f"scale-{'-'.join(labels)}.json"
    sizes: dict = {}
    for label in labels:
        sizes[label] = measure(label, args, args.work / label)
        # written after every size, so a long run that dies keeps what it measured
        figures = {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "sizes": sizes,
            "targets": targets(sizes),
        }
        out.write_text(json.dumps(figures, indent=2) + "\n")

    table = Table(title=f"targets ({out.name})")
    for column in ("target", "goal", "measured", "met"):
        table.add_column(column)
    for name, verdict in figures["targets"].items():
        table.add_row(name, str(verdict["target"]), str(verdict["measured"]), str(verdict["met"]))
    console.print(table)
    console.print(f"written to {out}")
    if not args.keep:
        shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
