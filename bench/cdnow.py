"""Churn on CDNOW through dbt, scored against the purchases that followed.

For each as-of date T: the CDNOW master records dated before T (``behavior convert
cdnow --before T``) are built with ``dbt build`` and the vars of the issue
(``behavior__as_of_date: T``, ``behavior__churn_horizon_days: H``,
``behavior__churn_activity_events: [purchase]``); then ``person_churn_scores`` is
scored against the held-back records in [T, T + H): churned = no purchase there.

Independent of the package: the labels, ROC AUC (scikit-learn), the expected
calibration error (10 equal-width bins, computed here) and the Pareto/NBD and BG/NBD
baselines (``lifetimes`` fitted here on the purchase days before T, in weeks, no
sampling) on the same persons.

    .venv/bin/python bench/cdnow.py [--as-of 1997-10-01 ...] [--horizon-days 91]
        [--simulate SEED ...]

Writes ``bench/results/cdnow.json``. The master file is the copy ``lifetimes`` 0.11.3
ships (``lifetimes/datasets/CDNOW_master.txt``). ``--simulate`` adds, per seed, a
CDNOW-style world drawn from the Pareto/NBD story with the parameters published for CDNOW
(r = 0.55, α = 10.58, s = 0.61, β = 11.67, weeks; Fader, Hardie & Lee 2005): 23,570
customers whose first purchase falls in the first 12 weeks of 1997, purchases at a
Gamma-distributed rate while alive, an exponential lifetime, observed to 1998-06-30,
written in the master file's format. There Pareto/NBD is the true model: no model can
rank better in expectation, so a tie is the best possible result.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

import duckdb
import lifetimes
import numpy as np
import pandas as pd
from _common import ROOT, dbt_env, dbt_run, git_state, machine
from sklearn.metrics import roc_auc_score

from behavioral_analytics.adapters.cdnow import convert_cdnow, read_cdnow

MASTER = Path(lifetimes.__file__).parent / "datasets" / "CDNOW_master.txt"
DEFAULT_AS_OF = ("1997-10-01", "1998-01-01", "1998-04-01")


def ece(labels: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> float:
    index = np.minimum((probabilities * bins).astype(int), bins - 1)
    return float(
        sum(
            (index == b).mean() * abs(labels[index == b].mean() - probabilities[index == b].mean())
            for b in range(bins)
            if (index == b).any()
        )
    )


PARETO_NBD_CDNOW = {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}
OBSERVED_TO = dt.date(1998, 6, 30)


def simulate_master(path: Path, seed: int, customers: int = 23_570) -> Path:
    """A CDNOW-style master file drawn from Pareto/NBD (see the module docstring)."""
    rng = np.random.default_rng(seed)
    p = PARETO_NBD_CDNOW
    start = dt.date(1997, 1, 1)
    end_day = (OBSERVED_TO - start).days
    first = rng.integers(0, 84, customers)
    rate = rng.gamma(p["r"], 1 / p["alpha"], customers) / 7  # purchases per day
    death = rng.gamma(p["s"], 1 / p["beta"], customers) / 7
    stop = np.minimum(first + rng.exponential(1 / death), end_day + 1)
    counts = rng.poisson(rate * np.maximum(stop - first, 0))
    who = np.repeat(np.arange(customers), counts)
    when = first[who] + rng.uniform(0, 1, counts.sum()) * (stop - first)[who]
    days = np.concatenate([first, np.floor(when).astype(int)])
    people = np.concatenate([np.arange(customers), who])
    order = np.lexsort((days, people))
    values = np.round(rng.lognormal(3.0, 0.8, len(order)), 2)
    with path.open("w") as out:
        out.write("customer_id date number_of_cds dollar_value\n")
        for index, row in enumerate(order):
            day = start + dt.timedelta(days=int(days[row]))
            out.write(f"{people[row] + 1:05d} {day:%Y%m%d} 1 {values[index]:.2f}\n")
    return path


def btyd_churn(records: pd.DataFrame, users: pd.Series, as_of: pd.Timestamp, weeks: float):
    """P(no purchase in the horizon) of BG/NBD and Pareto/NBD fitted on days before T."""
    days = records.loc[records["day"] < as_of].drop_duplicates(["user_id", "day"])
    grouped = days.groupby("user_id")["day"].agg(["min", "max", "count"]).reindex(users)
    x = (grouped["count"] - 1).to_numpy(float)
    recency = (grouped["max"] - grouped["min"]).dt.days.to_numpy(float) / 7
    age = (as_of - grouped["min"]).dt.days.to_numpy(float) / 7
    out = {}
    pareto = lifetimes.ParetoNBDFitter(0.001).fit(x, recency, age)
    out["pareto_nbd"] = pareto.conditional_probability_of_n_purchases_up_to_time(
        0, weeks, x, recency, age
    )
    bg = lifetimes.BetaGeoFitter(0.001).fit(x, recency, age)
    alive = bg.conditional_probability_alive(x, recency, age)
    r, alpha = bg.params_["r"], bg.params_["alpha"]
    out["bg_nbd"] = 1 - alive + alive * ((alpha + age) / (alpha + age + weeks)) ** (r + x)
    return {name: np.clip(np.asarray(p, float), 0, 1) for name, p in out.items()}


def evaluate(as_of: str, horizon: int, work: Path, master: Path = MASTER) -> dict:
    cut = dt.date.fromisoformat(as_of)
    events = work / "events"
    converted = convert_cdnow(master, events, before=cut)
    env = dbt_env(events=events, warehouse=work / "cdnow.duckdb")
    variables = json.dumps(
        {
            "behavior__as_of_date": as_of,
            "behavior__churn_horizon_days": horizon,
            "behavior__churn_activity_events": ["purchase"],
            "behavior__active_events": ["purchase"],
        }
    )
    run = dbt_run(["build", "--vars", variables], env, work, check=False)
    with duckdb.connect(str(work / "cdnow.duckdb"), read_only=True) as con:
        scores = con.sql(
            "select user_id, churn_probability, model_version "
            "from main_marts.person_churn_scores where as_of_date = ?::date",
            params=[as_of],
        ).df()
        metrics = con.sql(
            "select model, calibration, roc_auc, ece, base_rate "
            "from main_marts.churn_model_metrics where segment = 'all' and model_version = ?",
            params=[scores["model_version"].iloc[0]] if len(scores) else [""],
        ).df()
    records = pd.DataFrame(read_cdnow(master))
    records = pd.DataFrame({"user_id": records["customer"], "day": pd.to_datetime(records["day"])})
    t = pd.Timestamp(cut)
    window = records.loc[(records["day"] >= t) & (records["day"] < t + pd.Timedelta(days=horizon))]
    churned = (~scores["user_id"].isin(set(window["user_id"]))).to_numpy(int)
    probability = scores["churn_probability"].to_numpy(float)
    baselines = btyd_churn(records, scores["user_id"], t, horizon / 7)
    result = {
        "data": "CDNOW" if master == MASTER else master.name,
        "as_of_date": as_of,
        "horizon_days": horizon,
        "events_written": converted["lines_written"],
        "dbt_build_seconds": round(run.wall_seconds, 1),
        "dbt_failures": run.failures,
        "persons_scored": len(scores),
        "base_rate": float(churned.mean()),
        "mean_probability": float(probability.mean()),
        "roc_auc": float(roc_auc_score(churned, probability)),
        "ece_10_equal_width": ece(churned, probability),
        "baselines": {
            name: {"roc_auc": float(roc_auc_score(churned, p)), "ece": ece(churned, p)}
            for name, p in baselines.items()
        },
        "holdout_metrics_in_warehouse": metrics.to_dict(orient="records"),
    }
    best = max(v["roc_auc"] for v in result["baselines"].values())
    result["beats_best_btyd_by"] = round(result["roc_auc"] - best, 4)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-of", nargs="+", default=list(DEFAULT_AS_OF))
    parser.add_argument("--horizon-days", type=int, default=91)
    parser.add_argument("--simulate", type=int, nargs="*", default=[], metavar="SEED")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cdnow.json")
    args = parser.parse_args()
    started = time.perf_counter()
    runs = []
    cases = [(None, as_of) for as_of in args.as_of]
    cases += [(seed, as_of) for seed in args.simulate for as_of in args.as_of]
    for seed, as_of in cases:
        with tempfile.TemporaryDirectory(prefix="cdnow-") as folder:
            master = MASTER
            if seed is not None:
                master = simulate_master(Path(folder) / f"simulated-seed-{seed}.txt", seed)
            result = evaluate(as_of, args.horizon_days, Path(folder), master)
        runs.append(result)
        print(
            f"{result['data']} T={as_of} H={args.horizon_days}: "
            f"{result['persons_scored']:,} scored, "
            f"ROC AUC {result['roc_auc']:.3f} (Pareto/NBD "
            f"{result['baselines']['pareto_nbd']['roc_auc']:.3f}, BG/NBD "
            f"{result['baselines']['bg_nbd']['roc_auc']:.3f}), ECE "
            f"{result['ece_10_equal_width']:.3f}, build {result['dbt_build_seconds']} s, "
            f"failures {result['dbt_failures']}",
            flush=True,
        )
    report = {
        "benchmark": "cdnow",
        "machine": machine(),
        "git": git_state(),
        "seconds": round(time.perf_counter() - started, 1),
        "runs": runs,
    }
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
