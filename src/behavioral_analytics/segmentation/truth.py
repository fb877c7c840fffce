"""Segments against the event generator's truth (``truth/persons.csv``).

Rules:

- A warehouse ``person_id`` is matched to a truth person through its account,
  ``scoring.person_hash(user_id)``; persons never identified cannot be matched and
  are left out (``coverage`` says how many model-scored rows were matched).
- Only the model-scored persons of one as-of date count (``is_rule_based`` false):
  the rule-based fallback is for persons too new to show their persona.
- Recovery is scikit-learn's adjusted Rand index between ``segment_id`` and the
  generator's ``persona`` (1 = the same partition, 0 = chance; labels need not match).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from behavioral_analytics.scoring import person_hash


def persona_of_person(truth_persons: pd.DataFrame) -> pd.Series:
    """The persona of every identified truth person, indexed by warehouse person_id."""
    persons = truth_persons[truth_persons["user_id"].astype("string").fillna("") != ""]
    index = pd.Index([person_hash(str(user)) for user in persons["user_id"]], name="person_id")
    return pd.Series(persons["persona"].to_numpy(), index=index, name="persona")


def persona_recovery(segments: pd.DataFrame, truth_persons: pd.DataFrame) -> dict:
    """ARI of one as-of date's model segments against the personas, with its coverage."""
    scored = segments[~segments["is_rule_based"].astype(bool)]
    personas = persona_of_person(truth_persons)
    matched = scored[scored["person_id"].isin(personas.index)]
    truth = personas.reindex(matched["person_id"]).to_numpy()
    ari = adjusted_rand_score(truth, matched["segment_id"]) if len(matched) > 1 else np.nan
    return {
        "adjusted_rand_index": float(ari),
        "persons": int(len(matched)),
        "segments": int(matched["segment_id"].nunique()),
        "personas": int(pd.Series(truth).nunique()),
        "coverage": float(len(matched) / len(scored)) if len(scored) else np.nan,
    }
