"""Copying tables between a warehouse and the in-memory DuckDB session the
Python models run in: ``fetch`` a relation into the session with its column
types, ``replace`` a relation by a session table in one step.

PostgreSQL: COPY as CSV both ways (psycopg2), the table replaced in one
transaction (readers see the old table or the new one). Spark: Arrow both
ways (pyspark's ``toArrow`` and ``createDataFrame``), the table overwritten
as Parquet (``saveAsTable``; there is no transaction on plain Parquet, as for
every table the spark target writes).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Protocol

import duckdb

from .plan import Relation

# PostgreSQL's information_schema data_type -> DuckDB (what the column holds on DuckDB)
POSTGRES_TO_DUCKDB = {
    "bigint": "bigint",
    "integer": "integer",
    "smallint": "smallint",
    "double precision": "double",
    "real": "float",
    "numeric": "double",
    "text": "varchar",
    "character varying": "varchar",
    "character": "varchar",
    "json": "varchar",
    "jsonb": "varchar",
    "date": "date",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "boolean": "boolean",
}
# a Python model's YAML data_type (DuckDB's names) -> the engine's
DUCKDB_TO_POSTGRES = {"double": "double precision", "varchar": "text"}
DUCKDB_TO_SPARK = {
    "varchar": "string",
    "integer": "int",
    "bigint": "bigint",
    "double": "double",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "timestamptz": "timestamp",
}


class EngineError(RuntimeError):
    """A table cannot be copied between the warehouse and the session."""


class WarehouseIO(Protocol):
    target: str

    def fetch(self, relation: Relation, session, table: str) -> bool:
        """Create ``table`` in the session from the relation; False when it does not exist."""

    def replace(
        self, relation: Relation, session, table: str, columns: tuple[tuple[str, str], ...]
    ) -> int:
        """Make the relation the session table's rows with the declared (name, DuckDB type)
        columns; returns the rows written."""

    def close(self) -> None: ...


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresIO:
    """The warehouse of BEHAVIOR_PG_* (psycopg2), session time zone UTC."""

    target = "postgres"

    def __init__(self, connection=None):
        if connection is None:
            from behavioral_analytics.postgres_env import connect_from_env

            connection = connect_from_env()
        self.connection = connection
        with self.connection.cursor() as cursor:
            cursor.execute("set time zone 'UTC'")
        self.connection.commit()
        self._folder = tempfile.TemporaryDirectory(prefix="behavior-pg-")

    def _columns(self, relation: Relation) -> list[tuple[str, str]]:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = %s and table_name = %s order by ordinal_position",
                (relation.schema, relation.name),
            )
            return cursor.fetchall()

    def fetch(self, relation: Relation, session, table: str) -> bool:
        columns = self._columns(relation)
        self.connection.rollback()
        if not columns:
            return False
        unknown = [(name, kind) for name, kind in columns if kind not in POSTGRES_TO_DUCKDB]
        if unknown:
            raise EngineError(f"{relation}: column types the session cannot take: {unknown}")
        path = Path(self._folder.name) / f"{table}.csv"
        source = f"{quoted(relation.schema)}.{quoted(relation.name)}"
        with path.open("w", encoding="utf-8") as handle, self.connection.cursor() as cursor:
            cursor.copy_expert(
                f"copy (select * from {source}) to stdout with (format csv, header false)", handle
            )
        self.connection.rollback()
        types = (
            "{"
            + ", ".join(f"'{name}': '{POSTGRES_TO_DUCKDB[kind]}'" for name, kind in columns)
            + "}"
        )
        # PostgreSQL's CSV: NULL unquoted and empty, an empty text "" (quoted)
        session.execute(
            f"create or replace table {quoted(table)} as select * from read_csv(?,"
            f" columns = {types}, header = false, allow_quoted_nulls = false,"
            " auto_detect = false, quote = '\"', escape = '\"', delim = ',')",
            [str(path)],
        )
        path.unlink()
        return True

    def replace(self, relation, session, table, columns) -> int:
        path = Path(self._folder.name) / f"{table}.out.csv"
        names = ", ".join(quoted(name) for name, _ in columns)
        session.execute(
            f"copy (select {names} from {quoted(table)}) to '{path}'"
            " (format csv, header false, quote '\"', escape '\"')"
        )
        target = f"{quoted(relation.schema)}.{quoted(relation.name)}"
        definition = ", ".join(
            f"{quoted(name)} {DUCKDB_TO_POSTGRES.get(kind, kind)}" for name, kind in columns
        )
        with self.connection.cursor() as cursor:
            cursor.execute(f"create schema if not exists {quoted(relation.schema)}")
            cursor.execute(f"drop table if exists {target}")
            cursor.execute(f"create table {target} ({definition})")
            with path.open(encoding="utf-8") as handle:
                cursor.copy_expert(f"copy {target} ({names}) from stdin with (format csv)", handle)
            cursor.execute(f"select count(*) from {target}")
            rows = cursor.fetchone()[0]
        self.connection.commit()
        path.unlink()
        return rows

    def close(self) -> None:
        self.connection.close()
        self._folder.cleanup()


class SparkIO:
    """The spark target's local session (``spark_session``; run in .venv-spark)."""

    target = "spark"

    def __init__(self, spark=None):
        if spark is None:
            from behavioral_analytics import spark_session

            spark = spark_session.session()
        self.spark = spark

    def fetch(self, relation: Relation, session, table: str) -> bool:
        if not self.spark.catalog.tableExists(str(relation)):
            return False
        arrow = self.spark.table(str(relation)).toArrow()  # noqa: F841 - read by DuckDB below
        session.execute(f"create or replace table {quoted(table)} as select * from arrow")
        return True

    def replace(self, relation, session, table, columns) -> int:
        from pyspark.sql import functions

        names = ", ".join(quoted(name) for name, _ in columns)
        arrow = session.execute(f"select {names} from {quoted(table)}").fetch_arrow_table()
        frame = self.spark.createDataFrame(arrow)
        frame = frame.select(
            *(
                functions.col(f"`{name}`").cast(DUCKDB_TO_SPARK.get(kind, kind)).alias(name)
                for name, kind in columns
            )
        )
        self.spark.sql(f"create schema if not exists {relation.schema}")
        frame.write.mode("overwrite").format("parquet").saveAsTable(str(relation))
        return arrow.num_rows

    def close(self) -> None:  # the session outlives the command's work (dbt shares it)
        pass


def connect(target: str) -> WarehouseIO:
    if target == "postgres":
        return PostgresIO()
    if target == "spark":
        try:
            import pyspark  # noqa: F401
        except ImportError as error:
            raise EngineError(
                "the spark target needs pyspark: run this command with .venv-spark/bin/behavior"
                " (scripts/bootstrap.sh makes it)"
            ) from error
        return SparkIO()
    raise EngineError(f"no Python-model runner for target {target!r} (postgres or spark)")


def session() -> duckdb.DuckDBPyConnection:
    """The in-memory DuckDB the models run in, in UTC as the duckdb target."""
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    return connection
