"""The dbt Python models (segments, churn) built by dbt on generated events, against the
generator's truth: contracts, data tests and suites, persona recovery and churn ranking
above floors that a broken model fails, rebuilds and incremental loads that change
nothing, and no lookahead.

Floors (measured on this fixture, 300 persons x 35 days, seed 3, horizon 7 days):

- persona recovery: the issue's adjusted Rand index 0.6. Features shuffled across
  persons (the same marginals, no behaviour left) give about 0.
- churn ROC AUC against the truth (persons the generator churned by T + H): 0.85. A
  plain recency rule already ranks well here; shuffled labels give about 0.5.
- holdout ROC AUC ceiling 0.99: no honest model ranks "no activity in the next 7 days"
  perfectly (the champion's is about 0.94 here); a lookahead feature does.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from behavioral_analytics.churn import run_churn
from behavioral_analytics.churn.truth import score_against_truth
from behavioral_analytics.dbt_models import churn_scores, contract
from behavioral_analytics.generator import PERSONAS, generate
from behavioral_analytics.model_truth import model_scores
from behavioral_analytics.quality.gx_suites import load_suites, validate_warehouse
from behavioral_analytics.segmentation import run_segmentation
from behavioral_analytics.segmentation.truth import persona_recovery

from .conftest import run_dbt
from .test_behavior_marts import add_later_events
from .test_incremental import deliver

pytestmark = pytest.mark.e2e

PERSONA_FLOOR = 0.6
CHURN_TRUTH_FLOOR = 0.85
HOLDOUT_AUC_CEILING = 0.99
HORIZON = 7
VARS = {
    "behavior__churn_horizon_days": HORIZON,
    "behavior__feature_snapshot_weeks": 2,
    "behavior__churn_challenger": "gradient_boosting",
}
# the Python models and what they stand on (dim_persons: their relationships tests)
MODELS_BUILD = [
    "build",
    "--target",
    "duckdb",
    "--select",
    "+tag:python_models",
    "+dim_persons",
    "--exclude",
    "resource_type:test",
]
PYTHON_MODELS = sorted(
    path.stem for path in contract.PYTHON_MODELS.rglob("*.py") if not path.name.startswith("_")
)
COMPARED = {
    "person_churn_scores": ["as_of_date", "person_id"],
    "person_segments": ["as_of_date", "person_id"],
    "segment_model_runs": ["as_of_date"],
    "churn_model_metrics": ["model_version", "model", "segment"],
}


@dataclass
class Models:
    root: Path
    events: Path
    warehouse: Path
    truth: pd.DataFrame

    def table(self, name: str, warehouse: Path | None = None) -> pd.DataFrame:
        with duckdb.connect(str(warehouse or self.warehouse), read_only=True) as connection:
            frame = connection.execute(f"select * from main_marts.{name}").df()
        return frame.sort_values(COMPARED.get(name, list(frame.columns)[:2])).reset_index(drop=True)


def build_models(events: Path, warehouse: Path, extra_vars: dict | None = None) -> str:
    variables = json.dumps({**VARS, **(extra_vars or {})})
    _, output = run_dbt([*MODELS_BUILD, "--vars", variables], events, warehouse, python_models=True)
    return output


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Models:
    root = tmp_path_factory.mktemp("python_models")
    generate(out_dir=root, persons=300, days=35, seed=3, progress=False)
    warehouse = root / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir(parents=True)
    build_models(root / "events", warehouse)
    truth = pd.read_csv(root / "truth" / "persons.csv", keep_default_na=False, dtype=str)
    return Models(root, root / "events", warehouse, truth)


class _Ref:
    """What dbt.ref gives a Python model: a relation with ``.df()``."""

    def __init__(self, warehouse: Path, relation: str):
        self.warehouse, self.relation = warehouse, relation

    def df(self) -> pd.DataFrame:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            return connection.execute(f"select * from {self.relation}").df()


def churn_inputs(models: Models):
    schemas = {
        "person_features": "main_marts",
        "person_segments": "main_marts",
        "int_as_of_dates": "main_intermediate",
        "int_churn_activity_days": "main_intermediate",
        "int_person_attributes": "main_intermediate",
    }
    refs = {name: _Ref(models.warehouse, f"{schema}.{name}") for name, schema in schemas.items()}
    return churn_scores.inputs(refs, json.dumps({"horizon_days": HORIZON, "seed": 42}), None)


def _holdout(result, model: str = "champion") -> pd.Series:
    metrics = result.churn_model_metrics
    return metrics[(metrics["model"] == model) & (metrics["segment"] == "all")].iloc[0]


# ------------------------------------------------------------------------------ contracts


def test_every_python_model_table_has_its_declared_columns_and_types(models):
    with duckdb.connect(str(models.warehouse), read_only=True) as connection:
        for name in PYTHON_MODELS:
            built = connection.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'main_marts' and table_name = ?"
                " order by ordinal_position",
                [name],
            ).fetchall()
            declared = [(column, kind.upper()) for column, kind in contract.declared_columns(name)]
            assert built == declared, name


def test_a_frame_off_its_contract_fails_naming_model_and_columns():
    session = duckdb.connect()
    frame = pd.DataFrame({"model_version": ["v1"], "feature": ["x"], "surprise": [1.0]})
    with pytest.raises(contract.ContractError) as error:
        contract.conform(frame, "churn_feature_importance", session)
    message = str(error.value)
    assert "churn_feature_importance" in message
    assert "'importance_mean'" in message and "'surprise'" in message
    empty = contract.conform(pd.DataFrame(), "churn_feature_importance", session)
    assert empty.columns == ["model_version", "feature", "importance_mean", "importance_std"]
    assert empty.fetchall() == []


def test_data_tests_and_suites_pass_on_the_models(models):
    run_dbt(
        ["test", "--target", "duckdb", "--select", "tag:python_models", "--vars", json.dumps(VARS)],
        models.events,
        models.warehouse,
    )
    names = [suite.name for suite in load_suites() if suite.name.startswith("models_")]
    assert len(names) >= 10
    results = validate_warehouse(models.warehouse, suites=names, build_docs=False)
    assert all(result.success for result in results), [
        failure.describe() for result in results for failure in result.failures
    ]
    empty = {result.relation for result in results if result.rows == 0}
    # with two earlier snapshots, a challenger and a 7-day horizon, every table has rows
    # but score drift and past calibration (they need scores of an earlier build)
    assert empty <= {"main_marts.fct_score_drift", "main_marts.fct_past_score_calibration"}


def test_broken_model_tables_fail_their_suites_by_name(models, tmp_path):
    broken = tmp_path / "broken.duckdb"
    shutil.copy(models.warehouse, broken)
    with duckdb.connect(str(broken)) as connection:
        connection.execute(
            "update main_marts.person_churn_scores set churn_probability = 1.5"
            " where person_id = (select min(person_id) from main_marts.person_churn_scores)"
        )
        connection.execute(
            "insert into main_marts.person_segments"
            " select * from main_marts.person_segments limit 1"
        )
    results = validate_warehouse(
        broken, suites=["models_churn_scores", "models_person_segments"], build_docs=False
    )
    failed = {(f.suite, f.expectation) for result in results for f in result.failures}
    assert failed == {
        ("models_churn_scores", "expect_column_values_to_be_between"),
        ("models_person_segments", "expect_compound_columns_to_be_unique"),
    }


# ------------------------------------------------------------------ quality against truth


def test_segments_recover_the_personas_and_shuffled_features_fail_the_floor(models):
    segments = models.table("person_segments")
    latest = segments[segments["as_of_date"] == segments["as_of_date"].max()]
    recovery = persona_recovery(latest, models.truth)
    assert recovery["persons"] >= 100 and recovery["personas"] == len(PERSONAS)
    assert recovery["adjusted_rand_index"] >= PERSONA_FLOOR, recovery

    features = models.table("person_features")
    features = features[features["as_of_date"] == features["as_of_date"].max()]
    rng = np.random.default_rng(0)
    shuffled = features.copy()
    for column in shuffled.columns.drop(["person_id", "as_of_date"]):
        shuffled[column] = rng.permutation(shuffled[column].to_numpy())
    garbage = run_segmentation(shuffled).person_segments
    assert persona_recovery(garbage, models.truth)["adjusted_rand_index"] < PERSONA_FLOOR / 3


def test_churn_scores_rank_the_generators_churners(models):
    scores = models.table("person_churn_scores")
    assert scores["as_of_date"].nunique() == 1 and (scores["horizon_days"] == HORIZON).all()
    truth = score_against_truth(scores, models.truth)
    assert truth["roc_auc"] >= CHURN_TRUTH_FLOOR, truth
    reported = model_scores(models.warehouse, models.root / "truth")
    assert reported["churn"]["roc_auc"] == pytest.approx(truth["roc_auc"])
    assert reported["segments"]["adjusted_rand_index"] >= PERSONA_FLOOR
    holdout = reported["churn"]["holdout_champion_roc_auc"]
    assert CHURN_TRUTH_FLOOR <= holdout <= HOLDOUT_AUC_CEILING


def test_shuffled_labels_fail_the_churn_floor(models):
    features, activity, persons, params, _ = churn_inputs(models)
    rng = np.random.default_rng(1)
    ids = activity["person_id"].unique()
    relabel = dict(zip(ids, rng.permutation(ids), strict=True))
    shuffled = activity.assign(person_id=activity["person_id"].map(relabel))
    # the shuffled activity moves labels and recency alike: features stay as they were
    result = run_churn(features, shuffled, persons, params)
    truth = score_against_truth(result.person_churn_scores, models.truth)
    assert truth["roc_auc"] < CHURN_TRUTH_FLOOR, truth


def test_a_lookahead_feature_breaks_the_holdout_ceiling(models):
    features, activity, persons, params, _ = churn_inputs(models)
    honest = run_churn(features, activity, persons, params)
    leaky = features.copy()
    leaky["activity_days_next_horizon"] = 0.0
    days = pd.to_datetime(activity["activity_date"])
    for as_of in pd.to_datetime(leaky["as_of_date"]).unique():
        window = activity[(days >= as_of) & (days < as_of + pd.Timedelta(days=HORIZON))]
        counts = window.groupby("person_id").size()
        rows = pd.to_datetime(leaky["as_of_date"]) == as_of
        leaky.loc[rows, "activity_days_next_horizon"] = (
            leaky.loc[rows, "person_id"].map(counts).fillna(0).to_numpy()
        )
    leaked = run_churn(leaky, activity, persons, params)
    assert _holdout(honest)["roc_auc"] <= HOLDOUT_AUC_CEILING
    assert _holdout(leaked, "gradient_boosting")["roc_auc"] > HOLDOUT_AUC_CEILING


# ------------------------------------------------------------ rebuilds, loads, lookahead


def test_an_incremental_load_scores_as_a_full_build_and_later_events_change_nothing(
    models, tmp_path
):
    days = sorted(path for path in models.events.iterdir() if path.is_dir())
    events = tmp_path / "events"
    warehouse = tmp_path / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir(parents=True)
    deliver([file for day in days[:-7] for file in sorted(day.iterdir())], events)
    build_models(events, warehouse)
    deliver([file for day in days[-7:] for file in sorted(day.iterdir())], events)
    build_models(events, warehouse)
    full, daily = (
        models.table("person_churn_scores"),
        models.table("person_churn_scores", warehouse),
    )
    assert daily["as_of_date"].nunique() == 2  # the first load's scores are kept
    latest = daily[daily["as_of_date"] == full["as_of_date"].max()].reset_index(drop=True)
    pd.testing.assert_frame_equal(full, latest)
    # the second load had earlier scores: their drift is measured
    assert len(models.table("fct_score_drift", warehouse)) == 1
    # Segments: the same partition of persons. Their ids are those of the load's own
    # history (matched run to run since its first fit), which a full build that starts
    # later cannot know, so they may be a relabelling (README, segmentation).
    segments = [models.table("person_segments", w) for w in (models.warehouse, warehouse)]
    latest = [frame[frame["as_of_date"] == frame["as_of_date"].max()] for frame in segments]
    both = latest[0].merge(latest[1], on=["person_id", "as_of_date"])
    assert len(both) == len(latest[0])
    assert adjusted_rand_score(both["segment_id_x"], both["segment_id_y"]) >= 0.95

    # A rebuild with the as-of date pinned and later events delivered (each model reads
    # its previous rows: the stable-id path) changes no row and no segment id.
    as_of = pd.Timestamp(full["as_of_date"].iloc[0])
    before = {name: models.table(name, warehouse) for name in COMPARED}
    # the last week's events again, 10 days later: all after the as-of date
    last_week = (as_of - pd.Timedelta(days=7)).tz_localize("UTC").to_pydatetime()
    assert add_later_events(events, last_week, timedelta(days=10)) > 1000
    build_models(events, warehouse, {"behavior__as_of_date": str(as_of.date())})
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, models.table(name, warehouse), obj=name)


def test_rule_based_fallback_and_untrained_card_on_a_short_history(built_jsonl, tmp_path):
    """Ten days of events and the default 28-day horizon: no churn model can be trained;
    the build still passes, with a card saying why, and every person gets a segment."""
    warehouse = tmp_path / "short.duckdb"
    shutil.copy(built_jsonl.warehouse, warehouse)
    run_dbt(
        ["build", "--target", "duckdb", "--select", "tag:python_models"],
        built_jsonl.events,
        warehouse,
    )
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        card = connection.execute(
            "select model_version, markdown from main_marts.churn_model_cards"
        ).fetchall()
        scored = connection.execute(
            "select count(*) from main_marts.person_churn_scores"
        ).fetchone()[0]
        segments = connection.execute(
            "select count(*), count(*) filter (where is_rule_based) from main_marts.person_segments"
        ).fetchone()
        persons = connection.execute(
            "select count(*) from main_marts.person_features"
            " where as_of_date = (select max(as_of_date) from main_marts.person_features)"
        ).fetchone()[0]
    assert len(card) == 1 and card[0][0].startswith("not-trained-")
    assert "two churn horizons" in card[0][1] and scored == 0
    assert segments[0] == persons and segments[1] > 0
