"""Read the marts of a built warehouse, read-only, into DataFrames.

Rules:

- The warehouse is opened with ``read_only=True`` and closed when the report is written:
  the report never writes to it and never holds it open for longer than it reads.
- Marts live in the warehouse's marts schema (``relations.layout``: ``main_marts`` on the
  default profile); the few intermediate or staging tables the report also reads (the
  as-of date, the churn-activity days, the quarantine reasons) in their layers' schemas.
- Every query orders its rows, so the same warehouse gives the same report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from behavioral_analytics import relations


class WarehouseLocked(RuntimeError):
    """Another process (a dbt build) holds the warehouse file."""


@dataclass(frozen=True)
class TableStatus:
    """Whether a table exists and how many rows it has (None when it is missing)."""

    schema: str
    name: str
    rows: int | None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def has_rows(self) -> bool:
        return bool(self.rows)


class Warehouse:
    """A read-only connection to a warehouse file and the queries the report needs."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.connection = duckdb.connect(str(path), read_only=True)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower():
                raise WarehouseLocked(
                    f"{path} is not a DuckDB warehouse ({str(error).splitlines()[0]}): point "
                    "--warehouse (or BEHAVIOR_DUCKDB_PATH) at the file `dbt build` wrote"
                ) from error
            raise WarehouseLocked(
                f"cannot open {path} read-only ({error}); wait for the build that holds it"
            ) from error
        self._tables = {
            (schema, name)
            for schema, name in self.connection.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        self._statuses: dict[tuple[str, str], TableStatus] = {}
        self.layout = relations.layout(self.connection)
        self.marts = self.layout.marts
        self.staging = self.layout.staging
        self.intermediate = self.layout.intermediate

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- tables -------------------------------------------------------------------------

    def status(self, name: str, schema: str | None = None) -> TableStatus:
        """Exists? How many rows? (cached; ``schema`` defaults to the marts')"""
        schema = schema or self.marts
        key = (schema, name)
        if key not in self._statuses:
            rows = None
            if key in self._tables:
                rows = self.connection.execute(
                    f'select count(*) from "{schema}"."{name}"'
                ).fetchone()[0]
            self._statuses[key] = TableStatus(schema, name, rows)
        return self._statuses[key]

    def has_rows(self, name: str, schema: str | None = None) -> bool:
        return self.status(name, schema).has_rows

    def columns(self, name: str, schema: str | None = None) -> list[str]:
        schema = schema or self.marts
        return [
            row[0]
            for row in self.connection.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, name],
            ).fetchall()
        ]

    def frame(self, sql: str, parameters: list | None = None) -> pd.DataFrame:
        return self.connection.execute(sql, parameters or []).df()

    # ---- header -------------------------------------------------------------------------

    def as_of_date(self) -> str | None:
        """The build's as-of date: int_as_of_dates' current row, else the latest mart date."""
        if self.has_rows("int_as_of_dates", self.intermediate):
            row = self.connection.execute(
                f"select max(as_of_date) from {self.intermediate}.int_as_of_dates where is_current"
            ).fetchone()
            if row and row[0] is not None:
                return row[0].isoformat()
        if self.has_rows("fct_active_users_daily"):
            row = self.connection.execute(
                f"select max(activity_date) + 1 from {self.marts}.fct_active_users_daily"
            ).fetchone()
            return row[0].isoformat()
        return None

    # ---- sections -----------------------------------------------------------------------

    def event_volumes(self) -> pd.DataFrame:
        return self.frame(
            f"""select received_date, event_name, event_count, is_anomaly, is_partial_day
            from {self.marts}.fct_daily_event_volumes order by received_date, event_name"""
        )

    def bad_lines(self) -> pd.DataFrame:
        """One row per received date x kind of bad line (quarantine reason, duplicate,
        unreadable file) with its line (or file) count."""
        parts = [
            f"""select received_date, 'duplicate (retry)' as kind, sum(duplicates) as lines
            from {self.marts}.fct_raw_file_reconciliation group by received_date""",
            f"""select received_date, 'unreadable file' as kind, count(*) as lines
            from {self.marts}.fct_raw_file_reconciliation where status = 'unreadable'
            group by received_date""",
        ]
        if self.status("stg_tracker__events_quarantine", self.staging).rows is not None:
            parts.append(
                f"""select received_date, 'quarantined: ' || coalesce(reason, 'unknown') as kind,
                count(*) as lines from {self.staging}.stg_tracker__events_quarantine
                group by received_date, reason"""
            )
        else:
            parts.append(
                f"""select received_date, 'quarantined' as kind, sum(lines_quarantined) as lines
                from {self.marts}.fct_raw_file_reconciliation group by received_date"""
            )
        union = "\nunion all\n".join(parts)
        return self.frame(
            f"""select received_date, kind, cast(lines as bigint) as lines from ({union})
            where lines > 0 order by received_date, kind"""
        )

    def reconciliation_totals(self) -> dict:
        row = self.connection.execute(
            f"""select count(*), sum(lines_read), sum(events_staged), sum(duplicates),
            sum(lines_quarantined), sum(lines_lost)
            from {self.marts}.fct_raw_file_reconciliation"""
        ).fetchone()
        keys = ["files", "lines_read", "events_staged", "duplicates", "quarantined", "lost"]
        return {key: int(value or 0) for key, value in zip(keys, row, strict=True)}

    def sessions_per_day(self) -> pd.DataFrame:
        return self.frame(
            f"""select session_start_date, coalesce(platform, 'unknown') as platform,
            count(*) as sessions, avg(case when is_bounce then 1.0 else 0.0 end) as bounce_rate
            from {self.marts}.fct_sessions
            group by all order by session_start_date, platform"""
        )

    def active_users(self) -> pd.DataFrame:
        return self.frame(
            f"select * from {self.marts}.fct_active_users_daily order by activity_date"
        )

    def stickiness(self) -> pd.DataFrame:
        return self.frame(
            f"""select period_start_date, active_days, persons, persons_at_least,
            active_persons, is_period_complete
            from {self.marts}.fct_stickiness where period_unit = 'week'
            order by period_start_date, active_days"""
        )

    def weekly_retention(self) -> pd.DataFrame:
        return self.frame(
            f"""select cohort_start_date, period_number, cohort_persons, active_persons,
            retention_rate, is_period_complete
            from {self.marts}.fct_retention_cohorts
            where cohort_kind = 'first_seen' and period_unit = 'week'
            order by cohort_start_date, period_number"""
        )

    def funnels(self) -> pd.DataFrame:
        return self.frame(
            f"""select funnel_name, step_number, step_name, persons, conversion_from_first,
            conversion_from_previous, median_seconds_from_previous
            from {self.marts}.fct_funnel_steps where breakdown = 'all'
            order by funnel_name, step_number"""
        )

    def lifecycle(self) -> pd.DataFrame:
        return self.frame(
            f"""select period_start_date, status, status_order, persons, is_period_complete
            from {self.marts}.fct_lifecycle where period_unit = 'week'
            order by period_start_date, status_order"""
        )

    def segment_sizes(self) -> pd.DataFrame:
        if self.has_rows("segment_profiles"):
            return self.frame(
                f"""select as_of_date, segment_id, segment_label, persons, share
                from {self.marts}.segment_profiles order by as_of_date, segment_id"""
            )
        return self.frame(
            f"""select as_of_date, segment_id, any_value(segment_label order by person_id)
                as segment_label, count(*) as persons,
            count(*) / sum(count(*)) over (partition by as_of_date) as share
            from {self.marts}.person_segments group by as_of_date, segment_id
            order by as_of_date, segment_id"""
        )

    def segment_profiles(self) -> pd.DataFrame:
        """segment_profiles at its latest as-of date."""
        return self.frame(
            f"""select * from {self.marts}.segment_profiles
            where as_of_date = (select max(as_of_date) from {self.marts}.segment_profiles)
            order by segment_id"""
        )

    def latest_scores(self) -> pd.DataFrame:
        return self.frame(
            f"""select person_id, as_of_date, horizon_days, churn_probability, risk_band,
            model_version
            from {self.marts}.person_churn_scores
            where as_of_date = (select max(as_of_date) from {self.marts}.person_churn_scores)
            order by person_id"""
        )

    def matured_scores(self) -> pd.DataFrame:
        """Past scores whose window [as_of_date, as_of_date + horizon_days) has ended by the
        build's as-of date, each with its outcome: churned = no churn-activity day in it
        (int_churn_activity_days). Empty when nothing has matured yet."""
        as_of = self.as_of_date()
        if as_of is None or self.status("int_churn_activity_days", self.intermediate).rows is None:
            return pd.DataFrame(columns=["as_of_date", "churn_probability", "churned"])
        return self.frame(
            f"""select scores.as_of_date, scores.churn_probability,
            not exists (
                select 1 from {self.intermediate}.int_churn_activity_days as activity
                where activity.person_id = scores.person_id
                  and activity.activity_date >= scores.as_of_date
                  and activity.activity_date < scores.as_of_date + scores.horizon_days
            ) as churned
            from {self.marts}.person_churn_scores as scores
            where scores.as_of_date + scores.horizon_days <= cast(? as date)
            order by scores.as_of_date, scores.person_id""",
            [as_of],
        )

    def champion_metrics(self) -> pd.DataFrame:
        """The latest model version's holdout metrics of every model, segment 'all'."""
        return self.frame(
            f"""select * from {self.marts}.churn_model_metrics
            where segment = 'all' and model_version = (
                select model_version from {self.marts}.churn_model_metrics
                order by validation_as_of_date desc, model_version desc limit 1)
            order by case when model = 'champion' then 0 else 1 end, model"""
        )

    def fairness(self) -> pd.DataFrame:
        return self.frame(
            f"""select * from {self.marts}.fct_model_fairness
            order by model_version, group_kind, group_value"""
        )

    def feature_drift(self) -> pd.DataFrame:
        return self.frame(
            f"""select * from {self.marts}.fct_feature_drift
            where as_of_date = (select max(as_of_date) from {self.marts}.fct_feature_drift)
            order by psi desc, feature"""
        )

    def score_drift(self) -> pd.DataFrame:
        return self.frame(f"select * from {self.marts}.fct_score_drift order by as_of_date")
