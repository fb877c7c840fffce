"""The `behavior` command: generate events, build the warehouse, summarize it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from behavioral_analytics import project
from behavioral_analytics.cli_options import warehouse_option
from behavioral_analytics.serving import serving_path

# Piped output (no terminal) is not cut at 80 columns: COLUMNS, else 160.
console = Console(width=None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", 160)))


class BehaviorGroup(click.Group):
    """Ends a failed command with one line (exit 1) unless --debug asks for the traceback.

    Usage errors stay click's (exit 2); a ClickException says its own message (exit 1).
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            if ctx.meta.get("behavior_debug"):
                raise
            message = " ".join(str(error).split()) or type(error).__name__
            raise click.ClickException(
                f"{message} ({type(error).__name__}; run with --debug for the traceback)"
            ) from error


@click.group(cls=BehaviorGroup)
@click.option("--debug", is_flag=True, help="Show the Python traceback of an error.")
@click.option(
    "--project-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    envvar=project.PROJECT_DIR_ENV,
    help="The project (folder of dbt_project.yml) that default paths and dbt runs use "
    "(default: the checkout this package was installed from).",
)
@click.pass_context
def main(ctx: click.Context, debug: bool, project_dir: Path | None) -> None:
    """Behavioral analytics warehouse: raw product events to behavioral marts."""
    ctx.meta["behavior_debug"] = debug
    if project_dir is None and project.PROJECT_DIR_ERROR:
        raise click.UsageError(project.PROJECT_DIR_ERROR)
    if project_dir is not None:
        try:
            project.set_project_root(project_dir)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--project-dir") from error


def existing_warehouse(warehouse: Path | None) -> Path:
    """The warehouse file, or a one-line error naming it and what to do."""
    path = warehouse or project.duckdb_path()
    if not path.exists():
        raise click.ClickException(
            f"no warehouse at {path}: build one with `behavior demo` or `dbt build`, or "
            "point --warehouse (or BEHAVIOR_DUCKDB_PATH) at an existing file"
        )
    marts = _mart_count(path)
    if marts == 0:
        raise click.ClickException(
            f"{path} has no marts yet (its build failed or has not run): run `dbt build` "
            "(or `behavior demo`) and read its errors"
        )
    return path


def _mart_count(path: Path) -> int | None:
    """Tables in the warehouse's marts schemas; None when another process holds it."""
    import duckdb

    try:
        with duckdb.connect(str(path), read_only=True) as connection:
            return connection.execute(
                "select count(*) from information_schema.tables where table_schema like '%marts'"
            ).fetchone()[0]
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            return None  # a build is writing it: the command says so when it opens it
        raise


@main.command()
@click.option(
    "--persons",
    default=200,
    show_default=True,
    type=click.IntRange(min=1),
    help="People to simulate.",
)
@click.option(
    "--days", default=14, show_default=True, type=click.IntRange(min=1), help="Days of activity."
)
@click.option("--seed", default=42, show_default=True, help="Random seed (same seed, same files).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: project.DEFAULT_SAMPLE_PATH,
    show_default="data/sample in the project",
    help="Folder to write: OUT/events (the raw events) and OUT/truth (what was generated).",
)
@click.option(
    "--start",
    "start_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default="2026-01-05",
    show_default=True,
    help="First day of activity.",
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["jsonl", "parquet", "csv"]),
    default="jsonl",
    show_default=True,
    help="jsonl writes .jsonl and .jsonl.gz files with every kind of bad line.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def generate(persons, days, seed, out, start_date, file_format, quiet) -> None:
    """Generate raw events in the contract, with the truth beside them."""
    from behavioral_analytics.generator import generate as run_generator

    summary = run_generator(
        out_dir=out,
        persons=persons,
        days=days,
        seed=seed,
        start_date=date.fromisoformat(start_date.strftime("%Y-%m-%d")),
        file_format=file_format,
        progress=not quiet,
    )
    console.print(
        f"[bold]{summary['lines']:,}[/] lines in {out / 'events'} "
        f"({summary['valid_events']:,} events, {summary['duplicates']:,} retries, "
        f"{summary['bad_lines']:,} bad lines); truth in {out / 'truth'}"
    )


def _dbt(args: list[str], env: dict) -> None:
    command = [str(Path(sys.executable).with_name("dbt")), *args]
    console.print(f"[dim]$ dbt {' '.join(args)}[/]")
    completed = subprocess.run(command, cwd=project.PROJECT_ROOT, env=env, check=False)
    if completed.returncode != 0:
        raise click.ClickException(f"dbt {' '.join(args)} failed (exit {completed.returncode})")


@main.command()
@click.option("--persons", default=300, show_default=True, type=click.IntRange(min=1))
@click.option("--days", default=21, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=42, show_default=True)
@click.option(
    "--events",
    "events_path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Build these events instead of generating a sample.",
)
def demo(persons, days, seed, events_path) -> None:
    """Generate a sample (unless --events), run `dbt build`, print a summary.

    A demo with other sizes or another seed than the last one regenerates the sample
    and rebuilds the warehouse from scratch (--full-refresh), and says so: the new files
    have the names of the old ones, which an incremental build would take as loaded.
    """
    full_refresh = False
    generated = events_path is None
    if generated:
        sample = project.DEFAULT_SAMPLE_PATH
        before = _sample_parameters(sample)
        generate.callback(
            persons=persons,
            days=days,
            seed=seed,
            out=sample,
            start_date=datetime(2026, 1, 5),
            file_format="jsonl",
            quiet=False,
        )
        after = _sample_parameters(sample)
        if before is not None and before != after:
            full_refresh = True
            console.print(
                f"[yellow]The sample changed[/] ({_describe(before)} -> {_describe(after)}): "
                "the warehouse is rebuilt from scratch (dbt build --full-refresh)."
            )
        events_path = sample / "events"
    warehouse = project.duckdb_path()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    env = project.dbt_environment(events_path=events_path.resolve(), warehouse=warehouse)
    salt_source = project.ensure_pii_salt(env, warehouse)
    console.print(f"[dim]PII salt from {salt_source}[/]")
    build = ["build", "--target", "duckdb", "--vars", json.dumps(DEMO_VARS)]
    _dbt(build + (["--full-refresh"] if full_refresh else []), env)
    _dbt(["run-operation", "publish_serving", "--target", "duckdb"], env)
    _print_summary(warehouse)
    _print_models(warehouse)
    if generated:
        console.print(PLANTED_NOTE)
    console.print(
        f"BI tools (Metabase, Superset, Evidence, DBeaver) open [bold]{serving_path(warehouse)}[/]"
        " read-only: a consistent snapshot of every mart, replaced atomically on publish."
    )
    _print_next()


PLANTED_NOTE = (
    "[dim]On the generated sample the build's warnings are expected: the generator plants "
    "bad lines of every reason (quarantined), retries, bots, shared devices and consent "
    "opt-outs, and two event names the taxonomy does not know (promo_banner_click, "
    "chat_opened: test assert_event_names_in_taxonomy and the schema-drift new_key test "
    "warn on them); volume anomalies and feature drift warnings come from a few hundred "
    "simulated persons. On your own events a warning is worth reading.[/]"
)


def _sample_parameters(sample: Path) -> dict | None:
    summary = sample / "truth" / "summary.json"
    if not summary.is_file():
        return None
    return json.loads(summary.read_text(encoding="utf-8")).get("parameters")


def _describe(parameters: dict) -> str:
    return f"{parameters['persons']} persons, {parameters['days']} days, seed {parameters['seed']}"


# A few weeks of sample events cannot train the default 28-day churn horizon (training
# needs two horizons of history): the demo scores a 7-day horizon, with weekly snapshots.
DEMO_VARS = {"behavior__churn_horizon_days": 7, "behavior__feature_snapshot_weeks": 1}


def _print_models(path: Path) -> None:
    from behavioral_analytics.warehouse import model_summary

    summary = model_summary(path)
    if summary is None:
        return
    table = Table(title=f"Models as of {summary['as_of_date']}", show_header=False)
    for label, persons in summary["segments"].items():
        table.add_row(f"segment: {label}", f"{persons:,} persons")
    if summary["churn"]:
        churn = summary["churn"]
        table.add_row(
            f"churn ({churn['horizon_days']}-day horizon, {churn['champion']})",
            f"{churn['scored']:,} persons scored: "
            + ", ".join(f"{band} {count:,}" for band, count in churn["risk_bands"].items()),
        )
        table.add_row(
            "churn holdout ROC AUC",
            f"{churn['champion_auc']:.3f} (Pareto/NBD {churn['pareto_nbd_auc']:.3f}), "
            f"ECE {churn['champion_ece']:.3f}",
        )
    else:
        table.add_row("churn", summary["churn_note"])
    console.print(table)


@main.command()
@warehouse_option
def publish(warehouse) -> None:
    """Publish every mart for BI: Parquet in a new version folder and serving.duckdb
    (BEHAVIOR_SERVING_PATH) switched to it atomically; old versions pruned."""
    warehouse = existing_warehouse(warehouse)
    env = project.dbt_environment(warehouse=warehouse.resolve())
    _dbt(["run-operation", "publish_serving", "--target", "duckdb"], env)
    console.print(f"BI tools open {serving_path(warehouse)} (read-only)")


@main.command()
@warehouse_option
def summary(warehouse) -> None:
    """Summarize a built warehouse: lines, bad lines by reason, sessions."""
    _print_summary(existing_warehouse(warehouse))
    _print_next()


def _print_summary(path: Path) -> None:
    from behavioral_analytics.warehouse import summarize

    result = summarize(path)
    table = Table(title=f"Warehouse {result.path}", show_header=False)
    table.add_row("raw files", f"{result.files:,}")
    if result.unreadable_files:
        table.add_row("[red]unreadable files (quarantined)[/]", f"{len(result.unreadable_files):,}")
        for name, error in result.unreadable_files.items():
            table.add_row(f"  {name}", error)
    table.add_row("lines read", f"{result.lines_read:,}")
    table.add_row("events staged", f"{result.events:,}")
    table.add_row("duplicates (retries)", f"{result.duplicates:,}")
    table.add_row("bad lines (quarantined)", f"{result.bad_lines:,}")
    for reason, count in result.bad_lines_by_reason.items():
        table.add_row(f"  {reason}", f"{count:,}")
    table.add_row("lines lost", f"{result.lines_lost:,}")
    analysis = result.analysis
    if analysis:
        table.add_row("[bold]staged events → analysed[/]", f"{analysis['staged']:,}")
        table.add_row(
            "  without analytics consent (counted only)", f"−{analysis['without_consent']:,}"
        )
        table.add_row(
            "  after the person's opt-out (counted only)", f"−{analysis['after_opt_out']:,}"
        )
        table.add_row("  on bot devices (dim_devices.is_bot)", f"−{analysis['bot_events']:,}")
        table.add_row("  = human events analysed (fct_events)", f"{analysis['human_events']:,}")
        table.add_row(
            "    of them on shared devices (no person)", f"{analysis['shared_device_events']:,}"
        )
    table.add_row("sessions", f"{result.sessions:,}")
    table.add_row("devices of people (in sessions)", f"{result.devices:,}")
    table.add_row("bot devices (flagged, not analysed)", f"{result.bot_devices:,}")
    table.add_row("persons (accounts and anonymous devices)", f"{result.persons:,}")
    table.add_row("user_ids seen", f"{result.user_ids:,}")
    if result.unknown_event_names:
        table.add_row("event names not in taxonomy", ", ".join(result.unknown_event_names))
    console.print(table)
    marts = Table(title=f"Marts (schema {result.marts_schema})")
    marts.add_column("relation")
    marts.add_column("rows", justify="right")
    for name, rows in result.relations.items():
        marts.add_row(name, f"{rows:,}")
    console.print(marts)
    console.print(
        f"Marts: schema {result.marts_schema} in {result.path}; read it with "
        f"duckdb.connect({str(result.path)!r}, read_only=True) or any DuckDB client."
    )


def _print_next() -> None:
    """What to do with a built warehouse: the last lines a command prints."""
    console.print(
        "Next: [bold]behavior report[/] (charts of the marts in one HTML file), "
        "[bold]behavior docs[/] (dbt docs and data docs on loopback), "
        "[bold]behavior validate[/] (Great Expectations suites), "
        "[bold]behavior score[/] (a generated sample against its truth)."
    )


@main.command("model-card")
@warehouse_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: project.PROJECT_ROOT / "docs" / "model_cards",
    show_default="docs/model_cards in the project",
    help="Folder the cards are written to.",
)
def model_card(warehouse, out_dir) -> None:
    """Write every churn model card of the warehouse (churn_model_cards) as markdown."""
    import duckdb

    from behavioral_analytics.relations import layout

    with duckdb.connect(str(existing_warehouse(warehouse)), read_only=True) as connection:
        cards = connection.execute(
            "select model_name, model_version, markdown"
            f" from {layout(connection).marts}.churn_model_cards"
            " order by as_of_date, model_version"
        ).fetchall()
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, version, markdown in cards:
        path = out_dir / f"{name}-{version}.md"
        path.write_text(markdown, encoding="utf-8")
        console.print(f"wrote {path}")
    if not cards:
        console.print("no model cards: build the Python models first (dbt build)")


@main.command()
@warehouse_option
@click.option("--suite", "suites", multiple=True, help="Run only this suite (repeatable).")
@click.option("--no-docs", is_flag=True, help="Skip building the HTML data docs.")
@click.option(
    "--target",
    type=click.Choice(["duckdb", "postgres", "spark"]),
    default="duckdb",
    show_default=True,
    help="postgres: the warehouse of BEHAVIOR_PG_* through Great Expectations' SQL route;"
    " spark: a DuckDB copy of the suites' relations (pandas route).",
)
def validate(warehouse, suites, no_docs, target) -> None:
    """Run the Great Expectations suites against the warehouse; exit 1 on a failure.

    On --target spark the suites' relations are copied from the local Spark
    session (BEHAVIOR_SPARK_WAREHOUSE, by .venv-spark's Python) into a DuckDB file
    under target/gx, then validated there as on DuckDB: Great Expectations' Spark
    route would need pyspark in this environment, which breaks it (STACK_NOTES).
    """
    from behavioral_analytics.quality.gx_suites import (
        data_docs_index,
        suites_dir,
        validate_postgres,
        validate_warehouse,
    )

    known = {path.stem for path in suites_dir().glob("*.json")}
    unknown = sorted(set(suites) - known)
    if unknown:
        raise click.BadParameter(
            f"no suite named {', '.join(unknown)} in {suites_dir()}"
            f" (one of: {', '.join(sorted(known))})",
            param_hint="--suite",
        )
    if target == "postgres":
        from behavioral_analytics.postgres_env import sqlalchemy_url

        results, missing = validate_postgres(
            sqlalchemy_url(), list(suites) or None, build_docs=not no_docs
        )
        for name in missing:
            console.print(f"skipped {name}: its relation is not on postgres (a Python model)")
    elif target == "spark":
        from behavioral_analytics.quality.gx_suites import spark_copy

        copy, held, missing = spark_copy(list(suites) or None)
        for name in missing:
            console.print(f"skipped {name}: a relation it reads is not on spark")
        results = validate_warehouse(copy, held, build_docs=not no_docs) if held else []
    else:
        results = validate_warehouse(
            existing_warehouse(warehouse), list(suites) or None, build_docs=not no_docs
        )
    table = Table(title="Great Expectations suites")
    for column in ("suite", "relation", "rows", "expectations", "failed"):
        table.add_column(column)
    for result in results:
        table.add_row(
            result.suite,
            result.relation,
            f"{result.rows:,}",
            str(result.evaluated),
            f"[red]{len(result.failures)}[/]" if result.failures else "0",
        )
    console.print(table)
    failures = [failure for result in results for failure in result.failures]
    for failure in failures:
        console.print(f"[red]FAIL[/] {failure.describe()}")
    if not no_docs:
        console.print(f"Data docs: {data_docs_index()}")
    if failures:
        raise SystemExit(1)
    console.print(f"{len(results)} suites passed")


@main.command()
@warehouse_option
@click.option(
    "--truth",
    "truth_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: project.DEFAULT_SAMPLE_PATH / "truth",
    show_default="data/sample/truth in the project",
    help="The truth folder the generator wrote beside the events.",
)
@click.option(
    "--target",
    type=click.Choice(["duckdb", "postgres", "spark"]),
    default="duckdb",
    show_default=True,
    help="postgres, spark: run the Python models (segments, churn) on that warehouse first.",
)
@click.option(
    "--vars",
    "dbt_vars",
    default=None,
    help="dbt vars (YAML or JSON) for the Python models' settings on --target postgres|spark.",
)
def score(warehouse, truth_dir, target, dbt_vars) -> None:
    """Score stitching, bots, segments and churn scores against the generator's truth.

    On --target postgres or spark, where dbt cannot run Python models, this runs
    them instead: the same model files, with the config and refs dbt's parse of the
    project gives for that target, on the tables `dbt build --target ...` left there,
    and writes their tables back (incremental by their unique key, as dbt would).
    The connection: BEHAVIOR_PG_* (postgres); the local session on
    BEHAVIOR_SPARK_WAREHOUSE, run with .venv-spark/bin/behavior (spark). The
    comparison with the truth then needs the DuckDB warehouse: it is skipped there.
    """
    if target != "duckdb":
        _score_on(target, dbt_vars)
        return
    from behavioral_analytics.model_truth import model_scores
    from behavioral_analytics.scoring import score as score_warehouse
    from behavioral_analytics.truth_match import TruthMismatch, check_truth_matches

    warehouse = existing_warehouse(warehouse)
    try:
        check_truth_matches(warehouse, truth_dir)
    except TruthMismatch as error:
        raise click.ClickException(str(error)) from error
    table = Table(title=f"Against the truth in {truth_dir}")
    for column in ("what", "precision", "recall", "correct / predicted", "found / actual"):
        table.add_column(column)
    for result in score_warehouse(warehouse, truth_dir).values():
        table.add_row(
            result.name,
            f"{result.precision:.3f}",
            f"{result.recall:.3f}",
            f"{result.correct} / {result.predicted}",
            f"{result.found} / {result.actual}",
        )
    console.print(table)
    models = model_scores(warehouse, truth_dir)
    table = Table(title="Models against the truth (latest as-of date)")
    for column in ("model", "as of", "measure", "value", "persons matched"):
        table.add_column(column)
    segments, churn = models["segments"], models["churn"]
    if segments:
        ari = segments["adjusted_rand_index"]
        scored = ari is not None and ari == ari  # NaN: no model-scored person
        table.add_row(
            "segments vs personas",
            segments["as_of_date"],
            "adjusted Rand index",
            f"{ari:.3f}" if scored else "n/a",
            f"{segments['persons']} ({segments['coverage']:.0%} of model-scored)"
            if scored
            else "none model-scored: every person got a rule segment (too little history)",
        )
    if churn:
        for measure, key in (
            ("ROC AUC vs truth", "roc_auc"),
            ("ECE vs truth (10 bins)", "ece"),
            ("holdout ROC AUC, champion", "holdout_champion_roc_auc"),
            ("holdout ROC AUC, Pareto/NBD", "holdout_pareto_nbd_roc_auc"),
            ("holdout ECE, champion", "holdout_champion_ece"),
        ):
            value = churn.get(key)
            table.add_row(
                f"churn, {churn['horizon_days']}-day horizon",
                churn["as_of_date"],
                measure,
                "n/a" if value is None else f"{value:.3f}",
                f"{churn['persons']} ({churn['coverage']:.0%} of scored)",
            )
    if not (segments or churn):
        table.add_row("(no person_segments or person_churn_scores rows)", "", "", "", "")
    console.print(table)


def _score_on(target: str, dbt_vars: str | None) -> None:
    """`behavior score --target postgres|spark`: the Python models on that warehouse."""
    from behavioral_analytics.warehouse_models import engines, plan, runner

    started = time.perf_counter()
    try:
        models = plan.plan(plan.parse_manifest(target, dbt_vars, project.dbt_environment()))
        warehouse = engines.connect(target)
    except (plan.PlanError, engines.EngineError) as error:
        raise click.ClickException(str(error)) from error
    try:
        with console.status("Python models") as status:
            written = runner.run(models, warehouse, progress=status.update)
    except runner.MissingInput as error:
        raise click.ClickException(str(error)) from error
    finally:
        warehouse.close()
    table = Table(title=f"Python models run on {target} ({time.perf_counter() - started:.1f} s)")
    for column in ("model", "table", "rows", "rows this run"):
        table.add_column(column)
    for result in written:
        table.add_row(
            result.model, str(result.relation), f"{result.rows:,}", f"{result.new_rows:,}"
        )
    console.print(table)


CONVERTERS = {
    # source format: (file prefix, module, function)
    "snowplow": ("snowplow", "snowplow", "convert_atomic_events_csv"),
    "ga4": ("ga4", "ga4", "convert_ga4_events_csv"),
    "online-retail": ("online-retail", "online_retail", "convert_online_retail"),
    "dbt-product-analytics": (
        "dbt-product-analytics",
        "product_analytics",
        "convert_product_analytics_orders",
    ),
    "cdnow": ("cdnow", "cdnow", "convert_cdnow"),
}


@main.command()
@click.argument("source_format", type=click.Choice(list(CONVERTERS)))
@click.argument("input_path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=None,
    help="File number NNNN of the files written (default: the next free one in OUT_DIR).",
)
@click.option(
    "--keep-anonymous",
    is_flag=True,
    help="online-retail: write invoices without a CustomerID as anonymous events.",
)
@click.option(
    "--before",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="cdnow: write only records dated before this day (YYYY-MM-DD).",
)
def convert(source_format, input_path, out_dir, batch, keep_anonymous, before) -> None:
    """Convert another tracker's events or a public data set into contract JSONL.

    snowplow (atomic events CSV), ga4 (dbt-ga4 events CSV), online-retail (UCI Online
    Retail, Parquet or CSV: one event per invoice), dbt-product-analytics
    (mjirv/dbt_product_analytics raw_orders CSV: one event per row), cdnow (the CDNOW
    master file: one purchase per record).

    A second input into the same OUT_DIR is written as the next batch beside the first;
    the same input again adds nothing (OUT_DIR/_conversions.json records each input).
    """
    import importlib

    from behavioral_analytics.adapters import batches

    if keep_anonymous and source_format != "online-retail":
        raise click.UsageError("--keep-anonymous applies to online-retail only")
    if before is not None and source_format != "cdnow":
        raise click.UsageError("--before applies to cdnow only")
    digest = batches.file_digest(input_path)
    done = batches.already_converted(out_dir, source_format, digest)
    if done is not None:
        console.print(
            f"{input_path} was already converted into {out_dir} as batch {done['batch']} "
            f"({done['lines_written']:,} lines): nothing added"
        )
        return
    prefix, module_name, function_name = CONVERTERS[source_format]
    batch = batch or batches.next_batch(out_dir, prefix)
    module = importlib.import_module(f"behavioral_analytics.adapters.{module_name}")
    options = {"batch": batch}
    if source_format == "online-retail":
        options["keep_anonymous"] = keep_anonymous
    if source_format == "cdnow" and before is not None:
        options["before"] = before.date()
    try:
        with _convert_progress(input_path):
            summary = getattr(module, function_name)(input_path, out_dir, **options)
    except (KeyError, ValueError, TypeError) as error:
        detail = str(error)
        detail = detail if len(detail) <= 200 else detail[:200] + "..."
        raise click.ClickException(
            f"{input_path} could not be converted as {source_format}: {detail}. Nothing was "
            f"written. Check the format argument (one of {', '.join(CONVERTERS)}) or fix "
            "that row, then run again."
        ) from error
    batches.record_conversion(
        out_dir, source_format, digest, input_path, batch, summary["lines_written"]
    )
    console.print(_convert_message(source_format, summary, out_dir, batch))


LARGE_INPUT_BYTES = 20 * 1024 * 1024


@contextlib.contextmanager
def _convert_progress(input_path: Path):
    """A progress bar of lines written, for inputs above LARGE_INPUT_BYTES on a terminal."""
    from behavioral_analytics.adapters.snowplow import WRITE_PROGRESS

    if input_path.stat().st_size < LARGE_INPUT_BYTES or not console.is_terminal:
        yield
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()) as bar:
        task = bar.add_task(f"converting {input_path.name}: 0 lines written", total=None)

        def report(lines: int) -> None:
            bar.update(task, description=f"converting {input_path.name}: {lines:,} lines written")

        token = WRITE_PROGRESS.set(report)
        try:
            yield
        finally:
            WRITE_PROGRESS.reset(token)


def _convert_message(source_format: str, summary: dict, out_dir: Path, batch: int) -> str:
    files = f"{len(summary['files'])} files, batch {batch}"
    if source_format == "online-retail":
        without_customer = (
            summary["purchases_without_customer"] + summary["cancellations_without_customer"]
        )
        return (
            f"{summary['invoices']:,} invoices ({summary['cancellations']:,} cancellations) "
            f"in {summary['lines_read']:,} lines ({summary['lines_without_customer']:,} "
            f"without a customer); written to {out_dir}: {summary['purchases_written']:,} "
            f"purchases + {summary['cancellations_written']:,} cancellations = "
            f"{summary['lines_written']:,} events ({files}); left out: "
            f"{without_customer:,} invoices without a customer, "
            f"{summary['non_positive_orders']:,} orders of revenue <= 0, "
            f"{summary['adjustments']:,} adjustments"
        )
    if source_format == "cdnow":
        return (
            f"{summary['records_read']:,} records read; written to {out_dir}: "
            f"{summary['lines_written']:,} purchases of {summary['customers']:,} customers "
            f"({files}); held back (on or after --before): {summary['held_back']:,}"
        )
    return (
        f"{summary['rows_read']:,} rows read, {summary['lines_written']:,} lines written "
        f"to {out_dir} ({files})"
    )


def _add_commands() -> None:
    from behavioral_analytics.docs_site import docs
    from behavioral_analytics.load.command import load
    from behavioral_analytics.report.command import report

    main.add_command(report)
    main.add_command(docs)
    main.add_command(load)


_add_commands()


if __name__ == "__main__":
    main()
