"""Load, build and export on the spark target in ONE process (one JVM start, not three).

Run with .venv-spark's Python: ``python spark_pipeline.py OUT DBT_ARG...``.
``behavior load --target spark``'s loader writes the raw tables, dbt (its
programmatic runner) builds with the session the loader started (dbt-spark's
``method: session`` takes the active one), then the Python models run as
``behavior score --target spark`` runs them (``warehouse_models``, the same
session), then ``spark_export`` writes every table and view of the layers to
OUT; then the load runs again (it must add nothing). Prints one JSON line:
files and lines of both loads, the seconds of each step.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import time
from pathlib import Path


def main(out: str, dbt_args: list[str]) -> int:
    os.environ["TZ"] = "UTC"
    time.tzset()
    from dbt.cli.main import dbtRunner

    from behavioral_analytics import spark_export, spark_session
    from behavioral_analytics.load.loader import load
    from behavioral_analytics.load.spark import SparkWriter
    from behavioral_analytics.warehouse_models import engines, plan, runner

    def load_events():
        writer = SparkWriter(spark_session.session())
        try:
            return load(Path(os.environ["BEHAVIOR_EVENTS_PATH"]), writer, show_progress=False)
        finally:
            writer.close()

    started = time.perf_counter()
    result = load_events()
    loaded = time.perf_counter()
    outcome = dbtRunner().invoke(dbt_args)
    built = time.perf_counter()
    if not outcome.success:
        print(f"dbt {' '.join(dbt_args)} failed: {outcome.exception}", file=sys.stderr)
        return 1
    dbt_vars = dbt_args[dbt_args.index("--vars") + 1] if "--vars" in dbt_args else None
    models = plan.plan(plan.parse_manifest("spark", dbt_vars))
    written = runner.run(models, engines.SparkIO(spark_session.session()))
    modelled = time.perf_counter()
    with open(out, "wb") as handle:
        layers = ["main_staging", "main_intermediate", "main_marts"]
        pickle.dump(spark_export.export(layers), handle)
    exported = time.perf_counter()
    rerun = load_events()
    summary = {
        "files": result.files_loaded,
        "lines": result.lines_loaded,
        "unreadable": len(result.unreadable),
        "rerun_files": rerun.files_loaded,
        "rerun_lines": rerun.lines_loaded,
        "rerun_skipped": rerun.files_skipped,
        "load_seconds": round(loaded - started, 1),
        "build_seconds": round(built - loaded, 1),
        "python_models": {result.model: result.rows for result in written},
        "python_models_seconds": round(modelled - built, 1),
        "export_seconds": round(exported - modelled, 1),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
