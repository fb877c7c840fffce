"""Permutation importance of the champion on the time holdout.

Rule: scikit-learn's ``permutation_importance`` of the champion as fitted on the ``fit``
snapshot (T − 2H), on the holdout rows (T − H, outcomes known), scoring ROC AUC of the
uncalibrated score (calibration is monotone, so it does not change the ranking),
``n_repeats`` = 5, ``random_state`` = the run's seed. Above ``max_rows`` holdout rows, a
seeded random sample of that many rows (documented cost bound: each repeat re-scores every
feature). ``importance_mean`` = mean drop of ROC AUC when the feature's values are
shuffled; ``importance_std`` its standard deviation over the repeats. Sorted by
importance_mean descending, then feature.
"""

from __future__ import annotations

import pandas as pd
from sklearn.inspection import permutation_importance

from behavioral_analytics.churn.models import FittedModel, feature_matrix

N_REPEATS = 5
MAX_ROWS = 5000


def permutation_importances(
    model: FittedModel, holdout: pd.DataFrame, seed: int, max_rows: int = MAX_ROWS
) -> pd.DataFrame:
    """feature, importance_mean, importance_std of ``model`` on ``holdout``."""
    rows = holdout
    if len(rows) > max_rows:
        rows = rows.sample(n=max_rows, random_state=seed).sort_index()
    labels = rows["churned"].to_numpy(dtype=int)
    columns = ["feature", "importance_mean", "importance_std"]
    if len(set(labels)) < 2:
        return pd.DataFrame(
            {
                "feature": model.columns,
                "importance_mean": float("nan"),
                "importance_std": float("nan"),
            }
        )[columns]
    result = permutation_importance(
        model.estimator,
        feature_matrix(rows, model.columns),
        labels,
        scoring="roc_auc",
        n_repeats=N_REPEATS,
        random_state=seed,
        n_jobs=1,
    )
    frame = pd.DataFrame(
        {
            "feature": model.columns,
            "importance_mean": result.importances_mean,
            "importance_std": result.importances_std,
        }
    )
    frame = frame.sort_values(["importance_mean", "feature"], ascending=[False, True])
    return frame.reset_index(drop=True)[columns]
