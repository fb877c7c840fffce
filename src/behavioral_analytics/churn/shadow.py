"""Challenger scores beside the champion's, and the baselines' probabilities.

Rules:

- A baseline's churn probability on snapshot rows: BG/NBD or Pareto/NBD
  ``<model>_churn_probability`` (``features``); where that is NaN (no activity before the
  snapshot), the rule baseline's probability (its rate for persons without activity).
- ``churn_shadow_scores`` (when ``ChurnParams.challenger`` is set): the challenger is
  refitted on the T − H snapshot like the champion (an ML model with the calibrator it
  was given on the holdout; the rule refitted on T − H; a BTYD model fitted on the
  activity before T) and scores the same rows at T. ``absolute_difference`` = |champion −
  challenger|; ``same_risk_band`` = both probabilities fall in the same band.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from behavioral_analytics.churn.baselines import RecencyFrequencyRule
from behavioral_analytics.churn.models import CANDIDATES, fit_model
from behavioral_analytics.churn.params import risk_band

SHADOW_COLUMNS = [
    "person_id",
    "as_of_date",
    "champion_probability",
    "challenger_probability",
    "champion_model",
    "challenger_model",
    "absolute_difference",
    "same_risk_band",
]


def baseline_probability(rows: pd.DataFrame, model: str, rule: RecencyFrequencyRule) -> np.ndarray:
    """A baseline's churn probabilities on rows (BTYD NaN → the rule's no-activity rate)."""
    rule_probability = rule.predict(rows)
    if model == "recency_frequency_rule":
        return rule_probability
    btyd = rows[f"{model}_churn_probability"].to_numpy(dtype=float)
    return np.where(np.isnan(btyd), rule_probability, btyd)


def shadow_scores(
    params, champion, probability, score_rows, holdout, methods, cuts
) -> pd.DataFrame:
    """Champion vs challenger scores at T (challenger refitted on T − H like the champion)."""
    columns = SHADOW_COLUMNS
    name = params.challenger
    if name is None:
        return pd.DataFrame(columns=columns)
    if name in CANDIDATES:
        challenger = fit_model(name, holdout, params.seed)
        if challenger is None:  # no usable column (e.g. a BTYD fit failed)
            other = np.full(len(score_rows), np.nan)
        else:
            challenger.method = methods.get(name, "isotonic")
            other = challenger.predict(score_rows)
    else:
        rule = RecencyFrequencyRule.fit(holdout, holdout["churned"].to_numpy())
        other = baseline_probability(score_rows, name, rule)
    shadow = pd.DataFrame(
        {
            "person_id": score_rows["person_id"].to_numpy(),
            "as_of_date": score_rows["as_of_date"].dt.date.to_numpy(),
            "champion_probability": probability,
            "challenger_probability": other,
            "champion_model": champion,
            "challenger_model": name,
            "absolute_difference": np.abs(probability - other),
            "same_risk_band": (risk_band(probability, cuts) == risk_band(other, cuts)).to_numpy(),
        }
    )
    return shadow[columns]
