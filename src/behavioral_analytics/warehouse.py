"""Read-only questions to the built warehouse (summaries for people and tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from behavioral_analytics.relations import layout as warehouse_layout


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
    unreadable_files: dict[str, str] = field(default_factory=dict)
    # staged events -> analysed human events (see analysis_breakdown)
    analysis: dict[str, int] = field(default_factory=dict)
    marts_schema: str = "main_marts"  # where this warehouse's marts are (relations.layout)


def _scalar(connection: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(connection.execute(sql).fetchone()[0] or 0)


def analysis_breakdown(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Why staged events become fewer analysed events, from the marts.

    staged = without_consent + after_opt_out + bot_events + human_events, where
    without_consent and after_opt_out come from fct_daily_consent (used nowhere else),
    bot_events are the analysed events of devices flagged ``is_bot`` in dim_devices
    (left out of fct_events) and human_events are fct_events' rows; shared_device_events
    are the human events of devices seen with two or more accounts (no person_id).
    Empty when a mart is missing.
    """
    layout = warehouse_layout(connection)
    try:
        staged, without_consent, after_opt_out, analysed = connection.execute(
            "select sum(events), sum(events_without_consent),"
            " sum(consented_events_after_opt_out), sum(analysed_events)"
            f" from {layout.marts}.fct_daily_consent"
        ).fetchone()
        human, shared = connection.execute(
            "select count(*), count(*) filter (where devices.is_shared)"
            f" from {layout.marts}.fct_events as events"
            f" left join {layout.marts}.dim_devices as devices using (device_id)"
        ).fetchone()
    except duckdb.CatalogException:
        return {}
    return {
        "staged": int(staged or 0),
        "without_consent": int(without_consent or 0),
        "after_opt_out": int(after_opt_out or 0),
        "bot_events": int(analysed or 0) - int(human or 0),
        "human_events": int(human or 0),
        "shared_device_events": int(shared or 0),
    }


def summarize(path: Path) -> WarehouseSummary:
    """Counts that tell a person whether the build accounted for every line."""
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `dbt build` first")
    with duckdb.connect(str(path), read_only=True) as connection:
        layout = warehouse_layout(connection)
        reconciliation = connection.execute(
            f"""
            select
                count(*), sum(lines_read), sum(events_staged), sum(duplicates),
                sum(lines_quarantined), sum(lines_lost)
            from {layout.marts}.fct_raw_file_reconciliation
            """
        ).fetchone()
        files, lines_read, events, duplicates, bad_lines, lost = (
            int(v or 0) for v in reconciliation
        )
        by_reason = dict(
            connection.execute(
                f"""
                select reason, count(*) from {layout.staging}.stg_tracker__events_quarantine
                group by reason order by count(*) desc, reason
                """
            ).fetchall()
        )
        unreadable = dict(
            connection.execute(
                f"""
                select file_name, file_error from {layout.marts}.fct_raw_file_reconciliation
                where status = 'unreadable' order by file_name
                """
            ).fetchall()
        )
        unknown = [
            row[0]
            for row in connection.execute(
                f"""
                select distinct event_name from {layout.staging}.stg_tracker__events
                where not is_known_event_name order by 1
                """
            ).fetchall()
        ]
        relations = {
            f"{schema}.{name}": _scalar(connection, f'select count(*) from "{schema}"."{name}"')
            for schema, name in connection.execute(
                """
                select table_schema, table_name from information_schema.tables
                where table_schema = ? and table_type = 'BASE TABLE'
                order by table_name
                """,
                [layout.marts],
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
            unreadable_files=unreadable,
            sessions=_scalar(connection, f"select count(*) from {layout.marts}.fct_sessions"),
            devices=_scalar(
                connection, f"select count(distinct device_id) from {layout.marts}.fct_sessions"
            ),
            bot_devices=_scalar(
                connection, f"select count(*) from {layout.marts}.dim_devices where is_bot"
            ),
            persons=_scalar(connection, f"select count(*) from {layout.marts}.dim_persons"),
            user_ids=_scalar(
                connection,
                f"select count(distinct user_id) from {layout.staging}.stg_tracker__events",
            ),
            unknown_event_names=unknown,
            relations=relations,
            analysis=analysis_breakdown(connection),
            marts_schema=layout.marts,
        )


def model_summary(path: Path) -> dict | None:
    """Segments (persons per label) and churn scores (risk bands, holdout AUCs) at the
    latest as-of date; None when the Python models were not built."""
    with duckdb.connect(str(path), read_only=True) as connection:
        layout = warehouse_layout(connection)
        try:
            as_of = connection.execute(
                f"select max(as_of_date) from {layout.marts}.person_segments"
            ).fetchone()[0]
        except duckdb.CatalogException:
            return None
        segments = dict(
            connection.execute(
                f"select segment_label, count(*) from {layout.marts}.person_segments"
                " where as_of_date = ? group by 1 order by 2 desc, 1",
                [as_of],
            ).fetchall()
        )
        bands = connection.execute(
            "select risk_band, count(*), any_value(model_version), any_value(horizon_days)"
            f" from {layout.marts}.person_churn_scores"
            f" where as_of_date = (select max(as_of_date) from {layout.marts}.person_churn_scores)"
            " group by 1 order by 1"
        ).fetchall()
        note = connection.execute(
            f"select markdown from {layout.marts}.churn_model_cards"
            " where model_version like 'not-trained-%' order by as_of_date desc limit 1"
        ).fetchone()
        churn = None
        if bands:
            version = bands[0][2]
            metrics = dict(
                (row[0], (row[1], row[2]))
                for row in connection.execute(
                    f"select model, roc_auc, ece from {layout.marts}.churn_model_metrics"
                    " where model_version = ? and segment = 'all'",
                    [version],
                ).fetchall()
            )
            champion = connection.execute(
                f"select model from {layout.marts}.churn_model_metrics where model_version = ?"
                " and segment = 'all' and model != 'champion' and roc_auc = ?"
                " and model in ('logistic', 'gradient_boosting', 'pareto_nbd_calibrated')"
                " order by model limit 1",
                [version, metrics["champion"][0]],
            ).fetchone()
            churn = {
                "horizon_days": bands[0][3],
                "champion": champion[0] if champion else "champion",
                "scored": sum(row[1] for row in bands),
                "risk_bands": {row[0]: row[1] for row in bands},
                "champion_auc": metrics["champion"][0],
                "champion_ece": metrics["champion"][1],
                "pareto_nbd_auc": metrics["pareto_nbd"][0],
            }
    return {
        "as_of_date": as_of,
        "segments": segments,
        "churn": churn,
        "churn_note": note[0].splitlines()[2] if note else "no churn scores",
    }
