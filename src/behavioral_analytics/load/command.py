"""`behavior load --target postgres|spark`: the raw event files into the warehouse's raw table."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.console import Console

TARGETS = ("postgres", "spark")


@click.command("load")
@click.option(
    "--target",
    type=click.Choice(TARGETS),
    required=True,
    help="The profile's target to load (DuckDB reads the files in place and needs no load).",
)
@click.option(
    "--events",
    "events_path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="The events folder (default: $BEHAVIOR_EVENTS_PATH), read recursively.",
)
@click.option(
    "--raw-schema",
    default="raw",
    show_default=True,
    help="The schema of the raw tables (the dbt var behavior__raw_schema).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def load(target: str, events_path: Path | None, raw_schema: str, quiet: bool) -> None:
    """Load the raw event files not loaded yet into <raw-schema>.event_lines.

    Idempotent: a file already loaded is skipped, and each file's lines are
    committed together with its mark in <raw-schema>.loaded_files, so a load
    stopped midway and run again adds no line twice and misses none. Files that
    cannot be read at all are listed in <raw-schema>.unreadable_files.
    PostgreSQL: the connection comes from BEHAVIOR_PG_HOST, _PORT, _USER,
    _PASSWORD, _DATABASE. Spark: a local session on BEHAVIOR_SPARK_WAREHOUSE
    (run it with .venv-spark/bin/behavior).
    """
    from behavioral_analytics.load.loader import load as load_files

    if events_path is None:
        configured = os.environ.get("BEHAVIOR_EVENTS_PATH")
        if not configured:
            raise click.UsageError("set BEHAVIOR_EVENTS_PATH or pass --events")
        events_path = Path(configured)
        if not events_path.is_dir():
            raise click.ClickException(f"the events folder {events_path} does not exist")
    console = Console(stderr=True, soft_wrap=True)
    writer = _writer(target, raw_schema)
    try:
        result = load_files(events_path.resolve(), writer, console, show_progress=not quiet)
    finally:
        writer.close()
    for unreadable in result.unreadable:
        console.print(
            f"WARNING unreadable raw file '{unreadable.raw.file_path}' "
            f"({unreadable.raw.size_bytes} bytes): {unreadable.error}; listed in "
            f"{raw_schema}.unreadable_files, not loaded"
        )
    if result.changed:
        console.print(
            f"WARNING {len(result.changed)} loaded file(s) changed size since their load and "
            f"were not loaded again (raw files are immutable): {', '.join(result.changed[:20])}"
        )
    click.echo(
        f"loaded {result.files_loaded} file(s), {result.lines_loaded} line(s) into "
        f"{raw_schema}.event_lines ({target}); {result.files_skipped} already loaded, "
        f"{len(result.unreadable)} unreadable"
    )


def _writer(target: str, raw_schema: str):
    """The target's RawWriter."""
    if target == "spark":
        try:
            from behavioral_analytics import spark_session
            from behavioral_analytics.load.spark import SparkWriter
        except ImportError as error:
            raise click.ClickException(
                f"the spark target needs pyspark ({error}): run .venv-spark/bin/behavior "
                "(scripts/bootstrap.sh makes .venv-spark)"
            ) from error
        return SparkWriter(spark_session.session(), raw_schema)
    from behavioral_analytics.load.postgres import PostgresWriter, connect_from_env

    return PostgresWriter(connect_from_env(), raw_schema)
