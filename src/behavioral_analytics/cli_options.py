"""Options shared by the `behavior` commands (cli.py and the commands of subpackages)."""

from __future__ import annotations

from pathlib import Path

import click

warehouse_option = click.option(
    "--warehouse",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The DuckDB file (default: BEHAVIOR_DUCKDB_PATH or warehouse/behavior.duckdb).",
)
