"""The floor: a bare DuckDB script over the same raw files, no dbt, no quarantine.

What an engineer writes by hand when they only want sessions: DuckDB's own
readers with typed columns (`read_json` on JSON Lines, `read_parquet`,
`read_csv`), the contract's event time, first received copy per `event_id`,
then sessions (30 minutes, strict >) per device. Bad lines are skipped
(`ignore_errors`), not quarantined: that is what the project adds, so the
ratio of our build to this script is the price of accounting for every line.
Each phase is a table in a DuckDB file, timed on its own.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

COLUMNS = {
    "event_id": "VARCHAR",
    "event_name": "VARCHAR",
    "event_ts": "VARCHAR",
    "sent_at": "VARCHAR",
    "received_at": "VARCHAR",
    "anonymous_id": "VARCHAR",
    "user_id": "VARCHAR",
    "platform": "VARCHAR",
    "properties": "JSON",
    "context": "JSON",
}


def _reader(events: Path) -> str:
    """One typed reader per format present under the folder, unioned by name."""
    root = str(events).replace("'", "''")
    columns = "{" + ", ".join(f"{name}: '{kind}'" for name, kind in COLUMNS.items()) + "}"
    readers = []
    if any(events.rglob("*.jsonl")) or any(events.rglob("*.jsonl.gz")):
        globs = [f"'{root}/**/*.jsonl'"] if any(events.rglob("*.jsonl")) else []
        globs += [f"'{root}/**/*.jsonl.gz'"] if any(events.rglob("*.jsonl.gz")) else []
        readers.append(
            f"select * from read_json([{', '.join(globs)}], format = 'newline_delimited',"
            f" columns = {columns}, ignore_errors = true, filename = true)"
        )
    if any(events.rglob("*.parquet")):
        readers.append(
            f"select {', '.join(COLUMNS)}, filename from read_parquet('{root}/**/*.parquet',"
            " filename = true, union_by_name = true)"
        )
    if any(events.rglob("*.csv")):
        readers.append(
            f"select {', '.join(COLUMNS)}, filename from read_csv('{root}/**/*.csv',"
            " all_varchar = true, filename = true, union_by_name = true, ignore_errors = true)"
        )
    return " union all by name ".join(readers)


PHASES = {
    "read": "create or replace table raw_events as {reader}",
    "type_and_dedup": """
        create or replace table events as
        with typed as (
            select
                event_id,
                event_name,
                coalesce(anonymous_id, user_id) as device_id,
                try_cast(event_ts as timestamptz) as event_ts,
                try_cast(sent_at as timestamptz) as sent_at,
                try_cast(received_at as timestamptz) as received_at,
                filename
            from raw_events
            where event_id is not null and event_name is not null
                and coalesce(anonymous_id, user_id) is not null
        )
        select
            event_id,
            event_name,
            device_id,
            received_at,
            coalesce(received_at - (sent_at - event_ts), event_ts) as event_at
        from typed
        where event_ts is not null and received_at is not null
        qualify row_number() over (
            partition by event_id order by received_at, filename
        ) = 1
    """,
    "sessions": """
        create or replace table sessions as
        with flagged as (
            select
                event_id,
                device_id,
                event_at,
                case
                    when lag(event_at) over device_order is null then 1
                    when event_at - lag(event_at) over device_order > interval 30 minutes then 1
                    else 0
                end as starts_session
            from events
            window device_order as (partition by device_id order by event_at, event_id)
        )
        select
            event_id,
            device_id,
            sum(starts_session) over (
                partition by device_id order by event_at, event_id
                rows between unbounded preceding and current row
            ) as session_index
        from flagged
    """,
}


def run_bare_script(events: Path, warehouse: Path, threads: int, memory_limit: str) -> dict:
    """Time each phase into a fresh DuckDB file; return seconds and row counts."""
    warehouse.unlink(missing_ok=True)
    figures: dict = {}
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(f"set threads = {threads}")
        connection.execute(f"set memory_limit = '{memory_limit}'")
        connection.execute("set TimeZone = 'UTC'")
        connection.execute("set enable_progress_bar = false")
        reader = _reader(events)
        for phase, sql in PHASES.items():
            started = time.perf_counter()
            connection.execute(sql.format(reader=reader))
            figures[f"{phase}_seconds"] = round(time.perf_counter() - started, 2)
        figures["rows"] = {
            table: connection.execute(f"select count(*) from {table}").fetchone()[0]
            for table in ("raw_events", "events", "sessions")
        }
        figures["sessions"] = connection.execute(
            "select count(*) from (select distinct device_id, session_index from sessions)"
        ).fetchone()[0]
    warehouse.unlink(missing_ok=True)
    figures["total_seconds"] = round(
        sum(value for key, value in figures.items() if key.endswith("_seconds")), 2
    )
    figures["read_type_dedup_seconds"] = round(
        figures["read_seconds"] + figures["type_and_dedup_seconds"], 2
    )
    return figures
