"""Churn candidates: logistic regression, gradient boosting and calibrated Pareto/NBD,
each calibrated, one chosen on a later period.

Rules:

- **Features** of ``gradient_boosting``: every numeric column of the snapshot frame except
  keys, dates and the label (``EXCLUDED_COLUMNS``): the mart's features plus the BTYD
  columns (``features.BTYD_COLUMNS``). ``logistic`` uses the short list
  ``LOGISTIC_FEATURES`` (the BTYD logits, the scale-free recency and rate, and a few mart
  features): a linear model on ~50 collinear counts extrapolated badly to the next
  snapshot in the benchmarks (its holdout calibration error was 2-3 times larger).
  ``pareto_nbd_calibrated`` has one column, ``pareto_nbd_churn_probability``: the BTYD
  baseline itself, through the same calibration, so that the champion is never a model
  that ranks worse than the baseline on the holdout.
  Columns absent from the frame, or with fewer than ``MIN_VALUES`` (50; half the rows on
  smaller snapshots) non-missing values in the fitting rows, are dropped: a feature seen
  on a handful of persons cannot be learned, and an imputer fitted on a calibration fold
  without any value of it would change the matrix' width between folds.
- ``logistic``: signed log1p (heavy-tailed counts and money), median imputation with
  missing-value indicators, standard scaling, ``LogisticRegression(C=1)``.
  ``gradient_boosting``: ``HistGradientBoostingClassifier`` (100 trees, learning rate 0.1,
  15 leaves, 50 rows per leaf, L2 1.0, no early stopping; NaN handled natively).
  ``pareto_nbd_calibrated``: ``ProbabilityColumn`` passes the probability through; a
  person without activity before the snapshot (NaN) gets the churn rate of such persons
  in the fitting rows (the base rate when there are none).
- **Class imbalance**: the logistic regression uses ``class_weight='balanced'`` (each class
  weighs half of the fit). The gradient boosting is unweighted: any sample weight makes
  scikit-learn 1.9.1's histogram boosting about 8 times slower here (measured 2.4 s →
  19.9 s on 23k rows), and log-loss boosting ranks the minority class without them. In
  both cases the calibrator below maps scores to probabilities of the true base rate.
- **Calibration**: out-of-fold scores of the fitting rows (3 stratified folds, seeded) fit
  both an isotonic regression and a Platt (sigmoid: logistic regression on the logit of
  the score) calibrator; the estimator is then refitted on all fitting rows. Which
  calibrator a model uses is chosen on the time holdout by the lower Brier score.
- **Model choice**: the candidate with the highest holdout ROC AUC (of its calibrated
  probabilities); candidates within 0.002 of it are tied, and among tied ones the first of
  ``PREFERENCE`` is kept: the logistic regression (it reads the BTYD logits too and is
  simple to audit), then calibrated Pareto/NBD, then gradient boosting. On data that
  follow the Pareto/NBD story (the simulated CDNOW worlds of ``bench/cdnow.py``) no model
  ranks better than Pareto/NBD in expectation, and then it is shipped itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from behavioral_analytics.churn.params import InsufficientHistory

CANDIDATES = ("logistic", "gradient_boosting", "pareto_nbd_calibrated")
PREFERENCE = ("logistic", "pareto_nbd_calibrated", "gradient_boosting")
CALIBRATIONS = ("isotonic", "sigmoid")
CALIBRATION_FOLDS = 3
AUC_TIE = 0.002
MIN_VALUES = 50
BTYD_CANDIDATE_COLUMNS = ("pareto_nbd_churn_probability",)
LOGISTIC_FEATURES = (
    "bg_nbd_churn_logit",
    "pareto_nbd_churn_logit",
    "days_since_last_activity",
    "activity_days",
    "btyd_age_days",
    "recency_ratio",
    "activity_rate",
    "revenue",
    "average_order_value",
    "events_last_28_days",
    "events_last_90_days",
    "engagement_score",
)
EXCLUDED_COLUMNS = frozenset(
    {"person_id", "user_id", "as_of_date", "first_seen_at", "last_seen_at", "churned"}
)


def feature_columns(frame: pd.DataFrame, model: str = "gradient_boosting") -> list[str]:
    """The model's feature columns present in ``frame`` (see the module rules)."""
    if model == "logistic":
        return [column for column in LOGISTIC_FEATURES if column in frame.columns]
    if model == "pareto_nbd_calibrated":
        return [column for column in BTYD_CANDIDATE_COLUMNS if column in frame.columns]
    columns = []
    for column in frame.columns:
        if column in EXCLUDED_COLUMNS:
            continue
        dtype = frame[column].dtype
        numeric = pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype)
        if numeric and not pd.api.types.is_datetime64_any_dtype(dtype):
            columns.append(column)
    return columns


def feature_matrix(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The columns as float64 (nullable integers' NA → NaN; missing columns → NaN)."""
    data = {
        column: pd.to_numeric(frame[column], errors="coerce").astype("float64")
        if column in frame.columns
        else np.full(len(frame), np.nan)
        for column in columns
    }
    return pd.DataFrame(data, index=frame.index)


def _signed_log1p(values):
    return np.sign(values) * np.log1p(np.abs(values))


class ProbabilityColumn(ClassifierMixin, BaseEstimator):
    """A probability given as the only column, passed through (see the module rules)."""

    def fit(self, X, y):
        values = np.asarray(X, dtype=float)[:, 0]
        labels = np.asarray(y, dtype=float)
        missing = np.isnan(values)
        self.classes_ = np.array([0, 1])
        self.fill_value_ = float(labels[missing].mean() if missing.any() else labels.mean())
        return self

    def predict_proba(self, X):
        values = np.asarray(X, dtype=float)[:, 0]
        values = np.clip(np.where(np.isnan(values), self.fill_value_, values), 0.0, 1.0)
        return np.column_stack([1.0 - values, values])


def make_estimator(name: str, seed: int):
    """An unfitted candidate (see the module rules)."""
    if name == "logistic":
        return make_pipeline(
            FunctionTransformer(_signed_log1p, feature_names_out="one-to-one"),
            SimpleImputer(strategy="median", add_indicator=True),
            StandardScaler(),
            LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000),
        )
    if name == "gradient_boosting":
        return HistGradientBoostingClassifier(
            max_iter=100,
            learning_rate=0.1,
            max_leaf_nodes=15,
            min_samples_leaf=50,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=seed,
        )
    if name == "pareto_nbd_calibrated":
        return ProbabilityColumn()
    raise ValueError(f"unknown churn model {name!r}; expected one of {CANDIDATES}")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p)).reshape(-1, 1)


def fit_calibrator(method: str, scores: np.ndarray, labels: np.ndarray):
    """An isotonic or sigmoid map from raw scores to probabilities."""
    if method == "isotonic":
        return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, labels)
    if method == "sigmoid":
        return LogisticRegression(C=1e6, max_iter=1000).fit(_logit(scores), labels)
    raise ValueError(f"unknown calibration {method!r}; expected one of {CALIBRATIONS}")


def apply_calibrator(method: str, calibrator, scores: np.ndarray) -> np.ndarray:
    if method == "isotonic":
        return np.clip(calibrator.predict(scores), 0.0, 1.0)
    return calibrator.predict_proba(_logit(scores))[:, 1]


@dataclass
class FittedModel:
    """An estimator fitted on one snapshot with both calibrators; ``method`` picks one."""

    name: str
    columns: list[str]
    estimator: object
    calibrators: dict
    method: str = "isotonic"

    def raw_scores(self, frame: pd.DataFrame) -> np.ndarray:
        return self.estimator.predict_proba(feature_matrix(frame, self.columns))[:, 1]

    def predict(self, frame: pd.DataFrame, method: str | None = None) -> np.ndarray:
        """Calibrated churn probabilities (the chosen method unless one is given)."""
        method = method or self.method
        return apply_calibrator(method, self.calibrators[method], self.raw_scores(frame))


def usable_columns(matrix: pd.DataFrame) -> list[str]:
    """Columns with at least MIN_VALUES non-missing values (half the rows when fewer)."""
    needed = max(1, min(MIN_VALUES, len(matrix) // 2))
    counts = matrix.notna().sum()
    return [column for column in matrix.columns if counts[column] >= needed]


def fit_model(name: str, frame: pd.DataFrame, seed: int) -> FittedModel | None:
    """Fit a candidate and both calibrators on a labelled snapshot (see the module rules).

    None when the candidate has no usable column (e.g. Pareto/NBD could not be fitted).
    """
    labels = frame["churned"].to_numpy(dtype=int)
    if len(np.unique(labels)) < 2:
        raise InsufficientHistory("the fitting snapshot holds one class only: nothing to learn")
    matrix = feature_matrix(frame, feature_columns(frame, name))
    usable = usable_columns(matrix)
    if not usable:
        return None
    matrix = matrix[usable]
    out_of_fold = np.zeros(len(labels))
    folds = min(CALIBRATION_FOLDS, int(np.bincount(labels).min()))
    if folds >= 2:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        for train_index, test_index in splitter.split(matrix, labels):
            fold = clone(make_estimator(name, seed))
            fold.fit(matrix.iloc[train_index], labels[train_index])
            out_of_fold[test_index] = fold.predict_proba(matrix.iloc[test_index])[:, 1]
    estimator = make_estimator(name, seed).fit(matrix, labels)
    if folds < 2:  # too few of one class for folds: calibrate in sample
        out_of_fold = estimator.predict_proba(matrix)[:, 1]
    calibrators = {m: fit_calibrator(m, out_of_fold, labels) for m in CALIBRATIONS}
    return FittedModel(name, usable, estimator, calibrators)


def choose(holdout: dict[str, dict[str, dict]]) -> tuple[str, dict[str, str]]:
    """Champion name and each model's calibration from holdout metrics.

    ``holdout[model][method]`` holds ``roc_auc`` and ``brier`` of that model on the holdout.
    """
    methods = {
        model: min(CALIBRATIONS, key=lambda m, model=model: holdout[model][m]["brier"])
        for model in holdout
    }
    auc = {model: holdout[model][methods[model]]["roc_auc"] for model in holdout}
    auc = {model: (-1.0 if np.isnan(value) else value) for model, value in auc.items()}
    top = max(auc.values())
    tied = [model for model in auc if auc[model] >= top - AUC_TIE]
    best = min(tied, key=lambda m: PREFERENCE.index(m) if m in PREFERENCE else len(PREFERENCE))
    return best, methods
