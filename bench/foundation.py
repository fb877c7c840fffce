"""Benchmark of the foundation: event generation and a full `dbt build`.

Not a test: it measures, prints and writes its figures (with the machine and
versions) to bench/results/, where the README quotes them. Timings on a
shared machine are noisy; compare the ratios measured in one run.

    .venv/bin/python bench/foundation.py --persons 2200 --days 30   # about 1M events
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from behavioral_analytics import project  # noqa: E402
from behavioral_analytics.generator import generate  # noqa: E402


def machine() -> dict:
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            name: version(name)
            for name in ("dbt-core", "dbt-duckdb", "duckdb", "pandas", "pyarrow")
        },
    }


def run_dbt(args: list[str], env: dict, work: Path) -> tuple[float, float, dict]:
    """Run dbt; return wall seconds, peak RSS of the dbt process (MiB), run results."""
    dbt = str(Path(sys.executable).with_name("dbt"))
    target = work / "target"
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(
        [dbt, *args, "--target-path", str(target), "--log-path", str(work / "logs")],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    results = json.loads((target / "run_results.json").read_text())
    return wall, max(peak, before) / 1024, results


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

    env = project.dbt_environment(events_path=work / "data" / "events", warehouse=work / "w.duckdb")
    build_seconds, peak_mib, results = run_dbt(["build", "--target", "duckdb"], env, work)
    models = sorted(
        (
            {
                "node": result["unique_id"].split(".")[-1],
                "seconds": round(result["execution_time"], 3),
            }
            for result in results["results"]
            if result["unique_id"].startswith("model.")
        ),
        key=lambda row: -row["seconds"],
    )
    model_seconds = sum(row["seconds"] for row in models)
    tests = sorted(
        (
            {
                # test.<project>.<name>.<hash>, unit_test.<project>.<model>.<name>
                "node": ".".join(result["unique_id"].split(".")[2:4])
                if result["unique_id"].startswith("unit_test.")
                else result["unique_id"].split(".")[2],
                "seconds": round(result["execution_time"], 3),
            }
            for result in results["results"]
            if result["unique_id"].startswith(("test.", "unit_test."))
        ),
        key=lambda row: -row["seconds"],
    )

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
