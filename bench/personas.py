"""Persona recovery of the segmentation on generated data sets (the README's ARI table).

For each data set (persons x days, seed) the generator writes events and truth, and
``dbt build`` (models only, churn horizon 7 days, two weekly snapshots) builds
``person_features``. Then the segmentation package runs on the last 1, 2 and 3
as-of dates of it (the model trains on the earliest of them and assigns the
later ones), and the latest date's segments are scored against the generator's
personas (``segmentation.truth.persona_recovery``: adjusted Rand index).

    .venv/bin/python bench/personas.py --work /tmp/personas [--reuse]

``--reuse`` keeps data sets already built under ``--work`` (same layout:
``p<persons>_d<days>_s<seed>/``). Prints the table and writes
``bench/results/personas.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from _common import ROOT, dbt_env, dbt_run, git_state

from behavioral_analytics.generator import generate
from behavioral_analytics.segmentation import SegmentationParams, run_segmentation
from behavioral_analytics.segmentation.truth import persona_recovery

DATA_SETS = (
    (250, 28, 2),
    (300, 21, 42),
    (300, 35, 3),
    (400, 42, 3),
    (500, 60, 7),
    (600, 35, 5),
    (800, 45, 13),
    (1000, 28, 11),
)
BUILD_VARS = '{"behavior__churn_horizon_days": 7, "behavior__feature_snapshot_weeks": 2}'


def build(folder: Path, persons: int, days: int, seed: int) -> Path:
    warehouse = folder / "warehouse" / "behavior.duckdb"
    generate(out_dir=folder, persons=persons, days=days, seed=seed, progress=False)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    env = dbt_env(folder / "events", warehouse)
    dbt_run(
        ["build", "--exclude", "resource_type:test", "--vars", BUILD_VARS],
        env,
        folder / "warehouse",
    )
    return warehouse


def recovery(features: pd.DataFrame, truth: pd.DataFrame, snapshots: int) -> dict:
    """ARI at the latest as-of date, segmentation run on the last ``snapshots`` dates."""
    dates = sorted(features["as_of_date"].unique())[-snapshots:]
    result = run_segmentation(
        features[features["as_of_date"].isin(dates)], params=SegmentationParams()
    )
    segments = result.person_segments
    latest = segments[segments["as_of_date"] == segments["as_of_date"].max()]
    return persona_recovery(latest, truth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    rows = []
    for persons, days, seed in DATA_SETS:
        folder = args.work / f"p{persons}_d{days}_s{seed}"
        warehouse = folder / "warehouse" / "behavior.duckdb"
        if not (args.reuse and warehouse.exists()):
            warehouse = build(folder, persons, days, seed)
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            features = connection.execute("select * from main_marts.person_features").df()
        truth = pd.read_csv(folder / "truth" / "persons.csv", keep_default_na=False, dtype=str)
        scores = [recovery(features, truth, n)["adjusted_rand_index"] for n in (1, 2, 3)]
        rows.append({"persons": persons, "days": days, "seed": seed, "ari": scores})
        print(f"{persons} x {days}, seed {seed}: " + " / ".join(f"{s:.3f}" for s in scores))
    values = np.array([s for row in rows for s in row["ari"]])
    summary = {
        "lowest": float(values.min()),
        "mean": float(values.mean()),
        "below_0_6": int((values < 0.6).sum()),
    }
    print(f"lowest {summary['lowest']:.3f}, mean {summary['mean']:.3f}, below 0.6: ", end="")
    print(summary["below_0_6"])
    out = ROOT / "bench" / "results" / "personas.json"
    out.write_text(
        json.dumps({"git": git_state(), "data_sets": rows, "summary": summary}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
