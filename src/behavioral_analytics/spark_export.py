"""Every table and view of some schemas of the spark target, as plain Python rows.

Run in .venv-spark (``python -m behavioral_analytics.spark_export OUT SCHEMA...``):
writes a pickle of ``{"schema.name": (columns, rows)}`` that a process without
pyspark reads (the cross-engine test compares it with DuckDB's tables).
Timestamps come back as naive UTC datetimes (the session and this process in
UTC), Spark rows (structs) as dicts, arrays as lists.

``python -m behavioral_analytics.spark_export --duckdb OUT.duckdb RELATION...``
copies the named relations that exist (tables and views, as tables) into a
DuckDB file through Arrow instead: `behavior validate --target spark` runs the
Great Expectations suites on that copy (the pandas route, as on DuckDB).
"""

from __future__ import annotations

import os
import pickle
import sys
import time


def _plain(value):
    from pyspark.sql import Row

    if isinstance(value, Row):
        return {key: _plain(item) for key, item in value.asDict().items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def relations(spark, schema: str) -> list[str]:
    """The tables and views of the schema, as schema.name (temporary views left out)."""
    rows = spark.sql(f"show tables in {schema}").collect()
    return sorted(f"{schema}.{row.tableName}" for row in rows if not row.isTemporary)


def export(schemas: list[str]) -> dict[str, tuple[list[str], list[tuple]]]:
    from behavioral_analytics import spark_session

    spark = spark_session.session()
    exported = {}
    for schema in schemas:
        for relation in relations(spark, schema):
            frame = spark.table(relation)
            exported[relation] = (
                frame.columns,
                [tuple(_plain(value) for value in row) for row in frame.collect()],
            )
    return exported


def to_duckdb(path: str, wanted: list[str], spark=None) -> list[str]:
    """Copy each ``schema.name`` of ``wanted`` the session has into a new DuckDB file at
    ``path`` (same schema and name); returns the relations copied."""
    import duckdb

    from behavioral_analytics import spark_session

    spark = spark or spark_session.session()
    copied = []
    with duckdb.connect(path) as connection:
        connection.execute("set TimeZone = 'UTC'")
        for relation in wanted:
            if not spark.catalog.tableExists(relation):
                continue
            schema, name = relation.split(".")
            arrow = spark.table(relation).toArrow()  # noqa: F841 - read by DuckDB below
            connection.execute(f'create schema if not exists "{schema}"')
            connection.execute(f'create table "{schema}"."{name}" as select * from arrow')
            copied.append(relation)
    return copied


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(
            "usage: python -m behavioral_analytics.spark_export [--duckdb] OUT SCHEMA|RELATION...",
            file=sys.stderr,
        )
        return 2
    os.environ["TZ"] = "UTC"  # pyspark returns timestamps in this process's time zone
    time.tzset()
    if argv[0] == "--duckdb":
        copied = to_duckdb(argv[1], argv[2:])
        print(f"copied {len(copied)} of {len(argv) - 2} relations to {argv[1]}")
        return 0
    with open(argv[0], "wb") as handle:
        pickle.dump(export(argv[1:]), handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
