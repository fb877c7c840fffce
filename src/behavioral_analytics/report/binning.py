"""10 equal-width bins of a probability, the binning of every churn chart of the report.

Bin i holds probabilities in [i / 10, (i + 1) / 10); the last bin also holds 1.0. This is
the binning churn_model_metrics states for its expected calibration error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BINS = 10
BINNING = "10 equal-width bins of the predicted probability ([0, 0.1), ..., [0.9, 1.0])"


def bin_index(probabilities: pd.Series) -> pd.Series:
    """0 .. 9: the equal-width bin of each probability."""
    values = probabilities.astype(float).clip(0.0, 1.0).to_numpy()
    return pd.Series(np.minimum((values * BINS).astype(int), BINS - 1), index=probabilities.index)


def bin_labels() -> list[str]:
    return [f"{i / BINS:.1f}–{(i + 1) / BINS:.1f}" for i in range(BINS)]


def reliability(probabilities: pd.Series, outcomes: pd.Series) -> pd.DataFrame:
    """One row per non-empty bin: persons, mean predicted probability, observed rate."""
    frame = pd.DataFrame(
        {
            "bin": bin_index(probabilities),
            "probability": probabilities.astype(float).to_numpy(),
            "outcome": outcomes.astype(float).to_numpy(),
        }
    )
    table = (
        frame.groupby("bin")
        .agg(
            persons=("outcome", "size"),
            mean_probability=("probability", "mean"),
            observed_rate=("outcome", "mean"),
        )
        .reset_index()
        .sort_values("bin")
    )
    table["label"] = [bin_labels()[i] for i in table["bin"]]
    return table


def expected_calibration_error(table: pd.DataFrame) -> float:
    """sum over bins of (bin persons / persons) x |mean probability - observed rate|."""
    weights = table["persons"] / table["persons"].sum()
    return float((weights * (table["mean_probability"] - table["observed_rate"]).abs()).sum())


def histogram(probabilities: pd.Series) -> pd.DataFrame:
    """Persons per bin, every bin listed (zeros included)."""
    counts = bin_index(probabilities).value_counts().reindex(range(BINS), fill_value=0)
    return pd.DataFrame({"bin": range(BINS), "label": bin_labels(), "persons": counts.to_numpy()})
