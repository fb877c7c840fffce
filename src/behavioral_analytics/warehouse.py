"""Read-only questions to the built warehouse (summaries for people and tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb


@dataclass
class WarehouseSummary:
    path: Path
    lines_read: int
    events: int
    duplicates: int
    bad_lines: int
    bad_lines_by_reason: dict[str, int] = field(default_factory=dict)
    lines_lost: int = 0
    files: int = 0
    sessions: int = 0
    devices: int = 0
    bot_devices: int = 0
    persons: int = 0
    user_ids: int = 0
    unknown_event_names: list[str] = field(default_factory=list)
    relations: dict[str, int] = field(default_factory=dict)


def _scalar(connection: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(connection.execute(sql).fetchone()[0] or 0)


def summarize(path: Path) -> WarehouseSummary:
    """Counts that tell a person whether the build accounted for every line."""
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `dbt build` first")
    with duckdb.connect(str(path), read_only=True) as connection:
        reconciliation = connection.execute(
            """
            select
                count(*), sum(lines_read), sum(events_staged), sum(duplicates),
                sum(lines_quarantined), sum(lines_lost)
            from main_marts.fct_raw_file_reconciliation
            """
        ).fetchone()
        files, lines_read, events, duplicates, bad_lines, lost = (
            int(v or 0) for v in reconciliation
        )
        by_reason = dict(
            connection.execute(
                """
                select reason, count(*) from main_staging.stg_tracker__events_quarantine
                group by reason order by count(*) desc, reason
                """
            ).fetchall()
        )
        unknown = [
            row[0]
            for row in connection.execute(
                """
                select distinct event_name from main_staging.stg_tracker__events
                where not is_known_event_name order by 1
                """
            ).fetchall()
        ]
        relations = {
            f"{schema}.{name}": _scalar(connection, f'select count(*) from "{schema}"."{name}"')
            for schema, name in connection.execute(
                """
                select table_schema, table_name from information_schema.tables
                where table_schema = 'main_marts' and table_type = 'BASE TABLE'
                order by table_name
                """
            ).fetchall()
        }
        return WarehouseSummary(
            path=path,
            lines_read=lines_read,
            events=events,
            duplicates=duplicates,
            bad_lines=bad_lines,
            bad_lines_by_reason=by_reason,
            lines_lost=lost,
            files=files,
            sessions=_scalar(connection, "select count(*) from main_marts.fct_sessions"),
            devices=_scalar(
                connection, "select count(distinct device_id) from main_marts.fct_sessions"
            ),
            bot_devices=_scalar(
                connection, "select count(*) from main_marts.dim_devices where is_bot"
            ),
            persons=_scalar(connection, "select count(*) from main_marts.dim_persons"),
            user_ids=_scalar(
                connection,
                "select count(distinct user_id) from main_staging.stg_tracker__events",
            ),
            unknown_event_names=unknown,
            relations=relations,
        )
