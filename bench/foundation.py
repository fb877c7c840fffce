"""Benchmark of the foundation: event generation and a full `dbt build`.

Not a test: it measures, prints and writes its figures (with the machine and
versions) to bench/results/, where the README quotes them. Timings on a
shared machine are noisy; compare the ratios measured in one run.

    .venv/bin/python bench/foundation.py --persons 2200 --days 30   # about 1M events
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import ROOT, dbt_env, machine, node_timings, run_dbt

from behavioral_analytics.generator import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=2200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--format", default="jsonl", choices=["jsonl", "parquet", "csv"])
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "work")
    parser.add_argument("--keep", action="store_true", help="Keep the generated files.")
    args = parser.parse_args()

    work = args.work / f"foundation-{args.persons}x{args.days}-{args.format}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    started = time.perf_counter()
    summary = generate(
        out_dir=work / "data",
        persons=args.persons,
        days=args.days,
        seed=args.seed,
        file_format=args.format,
        progress=True,
    )
    generation_seconds = time.perf_counter() - started

    env = dbt_env(events=work / "data" / "events", warehouse=work / "w.duckdb")
    build_seconds, peak_mib, results = run_dbt(["build", "--target", "duckdb"], env, work)
    timings = node_timings(results)
    models, tests = timings["models"], timings["tests"]
    model_seconds = sum(row["seconds"] for row in models)

    figures = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "input": {
            "persons": args.persons,
            "days": args.days,
            "format": args.format,
            "lines": summary["lines"],
            "events": summary["valid_events"],
            "bytes_on_disk": sum(
                path.stat().st_size
                for path in (work / "data" / "events").rglob("*")
                if path.is_file()
            ),
        },
        "generation": {
            "seconds": round(generation_seconds, 2),
            "lines_per_second": round(summary["lines"] / generation_seconds),
        },
        "dbt_build": {
            "wall_seconds": round(build_seconds, 2),
            "lines_per_second": round(summary["lines"] / build_seconds),
            "models_seconds": round(model_seconds, 2),
            "models_lines_per_second": round(summary["lines"] / model_seconds),
            "peak_rss_mib": round(peak_mib),
            "models": models,
            "tests_seconds": round(sum(row["seconds"] for row in tests), 2),
            "tests": len(tests),
            "slowest_tests": tests[:6],
        },
    }
    out = ROOT / "bench" / "results" / f"foundation-{args.format}-{summary['lines'] // 1000}k.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    print(f"written to {out}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
