"""The `behavior report` command: one static HTML file from a built warehouse."""

from __future__ import annotations

from pathlib import Path

import click

from behavioral_analytics import project
from behavioral_analytics.cli_options import warehouse_option
from behavioral_analytics.report.build import default_out, write_report
from behavioral_analytics.report.queries import WarehouseLocked


@click.command()
@warehouse_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The HTML file to write (default: report.html beside the warehouse).",
)
def report(warehouse: Path | None, out: Path | None) -> None:
    """Write one self-contained HTML report (plotly, works offline) of the marts."""
    warehouse = warehouse or project.duckdb_path()
    if not warehouse.is_file():
        raise click.ClickException(
            f"no warehouse at {warehouse}: build one first (`behavior demo`, or `dbt build`) "
            "or pass --warehouse PATH"
        )
    try:
        result = write_report(warehouse, out or default_out(warehouse))
    except WarehouseLocked as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"wrote {result.out} (as of {result.as_of_date}): {result.charts} sections rendered, "
        f"{len(result.skipped)} skipped"
    )
    for skipped in result.skipped:
        click.echo(f"  skipped {skipped.title}: {skipped.reason}")
