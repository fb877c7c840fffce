"""Segmentation (issue 10, section 1) on plain DataFrames: every module, and the run.

Synthetic person_features rows are built from behaviour groups whose rates
differ (visits per day, events per session, page-view share, features used);
the tests check that the groups are recovered, that ids are stable, that a
broken input fails the quality floor, and each module's rules.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from behavioral_analytics.segmentation import SegmentationParams, model_version, run_segmentation
from behavioral_analytics.segmentation.fallback import is_rule_based, rule_based_segment_ids
from behavioral_analytics.segmentation.features import (
    DEFAULT_FEATURES,
    FeatureSpace,
    raw_matrix,
)
from behavioral_analytics.segmentation.identity import canonical_ids, ids_from_history, match_ids
from behavioral_analytics.segmentation.labels import label_rule, segment_labels
from behavioral_analytics.segmentation.model import Clustering
from behavioral_analytics.segmentation.profiles import (
    MEDIAN_FEATURES,
    PROFILE_COLUMNS,
    snapshot_profiles,
)
from behavioral_analytics.segmentation.selection import (
    Candidate,
    choose,
    fit_candidates,
    null_references,
    null_silhouettes,
    sample_indices,
)
from behavioral_analytics.segmentation.stability import centroid_movement, stability_row

PERSONA_FLOOR = 0.6  # the floor for persona recovery (adjusted Rand index)
DAY = pd.Timestamp("2026-02-02")

# (sessions per active day, active-day share, events per session, page-view share, features)
GROUPS = {
    "heavy": (3.0, 0.9, 20.0, 0.40, 7),
    "regular": (1.2, 0.6, 10.0, 0.50, 3),
    "light": (1.0, 0.2, 4.0, 0.65, 0),
}


def person_rows(group: str, count: int, seed: int, prefix: str = "p") -> pd.DataFrame:
    """person_features-like rows of one behaviour group, with a little noise."""
    sessions_per_day, day_share, per_session, page_share, features = GROUPS[group]
    rng = np.random.default_rng(seed)
    tenure = rng.integers(30, 43, count)
    recency = rng.integers(1, 4, count)
    span = tenure - recency + 1
    active = np.maximum(2, np.round(span * day_share * rng.uniform(0.9, 1.1, count)))
    sessions = np.maximum(1, np.round(active * sessions_per_day * rng.uniform(0.9, 1.1, count)))
    per_session_noisy = per_session * rng.uniform(0.9, 1.1, count)
    events = np.maximum(3, np.round(sessions * per_session_noisy))
    orders = rng.poisson(sessions * 0.05)
    revenue = orders * rng.uniform(20, 60, count)
    return pd.DataFrame(
        {
            "person_id": [f"{prefix}{group}_{i:04d}" for i in range(count)],
            "as_of_date": DAY,
            "tenure_days": tenure,
            "recency_days": recency,
            "active_days": active.astype(int),
            "event_count": events.astype(int),
            "session_count": sessions.astype(int),
            "events_per_session": events / sessions,
            "page_view_count": np.round(events * page_share * rng.uniform(0.95, 1.05, count)),
            "distinct_features_used": np.full(count, features),
            "order_count": orders,
            "revenue": revenue,
            "average_order_value": np.where(orders > 0, revenue / np.maximum(orders, 1), np.nan),
            "engagement_score": events * 0.3,
            "repeat_action_share": rng.uniform(0.2, 0.4, count),
            "navigation_entropy": rng.uniform(2, 4, count),
            "backtrack_rate": np.where(rng.random(count) < 0.2, np.nan, 0.05),
            "burstiness": rng.uniform(0.4, 0.8, count),
            "group": group,
        }
    )


def blobs(counts=(60, 120, 120), seed: int = 1) -> pd.DataFrame:
    frames = [
        person_rows(group, count, seed + i)
        for i, (group, count) in enumerate(zip(GROUPS, counts, strict=True))
    ]
    return pd.concat(frames, ignore_index=True)


def recovered_ari(result, frame: pd.DataFrame) -> float:
    merged = result.person_segments.merge(frame[["person_id", "group"]], on="person_id")
    merged = merged[~merged["is_rule_based"]]
    return adjusted_rand_score(merged["group"], merged["segment_id"])


# ----------------------------------------------------------------------------- the run


def test_empty_input_gives_empty_tables_with_their_columns():
    result = run_segmentation(blobs().iloc[0:0], None, None, SegmentationParams())
    assert list(result.segment_profiles.columns) == PROFILE_COLUMNS
    assert "segment_id" in result.person_segments.columns
    assert result.segment_stability.empty


def test_well_separated_groups_are_recovered():
    frame = blobs()
    result = run_segmentation(frame, None, None, SegmentationParams())
    assert recovered_ari(result, frame) > 0.95
    run = result.segment_model_runs.iloc[0]
    assert (run["k"], run["refit_reason"], bool(run["is_refit"])) == (3, "first_fit", True)
    assert set(json.loads(run["features_used"])) == set(DEFAULT_FEATURES)
    assert len(json.loads(run["candidates"])) > 3
    segments = result.person_segments
    assert segments["person_id"].is_unique
    assert segments["segment_id"].min() >= 1  # nobody here is rule-based
    heavy = segments[segments["person_id"].str.startswith("pheavy")]
    assert heavy["segment_id"].nunique() == 1
    assert heavy["segment_id"].iloc[0] == 1  # canonical ids: most engaged segment first


def test_garbage_features_fail_the_floor():
    """Features shuffled across persons (column by column): nothing to recover."""
    frame = blobs()
    rng = np.random.default_rng(3)
    garbage = frame.copy()
    for column in ("session_count", "events_per_session", "page_view_count", "active_days"):
        garbage[column] = rng.permutation(garbage[column].to_numpy())
    garbage["distinct_features_used"] = rng.permutation(garbage["distinct_features_used"])
    garbage["event_count"] = rng.permutation(garbage["event_count"].to_numpy())
    result = run_segmentation(garbage, None, None, SegmentationParams())
    assert recovered_ari(result, frame) < PERSONA_FLOOR / 3
    # and the truth itself, shuffled, is far below the floor against a good segmentation
    good = run_segmentation(frame, None, None, SegmentationParams())
    shuffled = frame.assign(group=rng.permutation(frame["group"].to_numpy()))
    assert recovered_ari(good, shuffled) < 0.05


def test_same_data_next_week_keeps_ids_with_and_without_refit():
    frame = blobs()
    later = frame.assign(as_of_date=DAY + pd.Timedelta(days=7))
    both = pd.concat([frame, later], ignore_index=True)
    for refit_every in (4, 1):
        params = SegmentationParams(refit_every_snapshots=refit_every)
        result = run_segmentation(both, None, None, params)
        by_date = result.person_segments.pivot(
            index="person_id", columns="as_of_date", values="segment_id"
        )
        assert (by_date.iloc[:, 0] == by_date.iloc[:, 1]).all()
        stability = result.segment_stability.iloc[0]
        assert stability["persons_in_both"] == len(frame)
        assert stability["reassignment_rate"] == 0
        assert stability["adjusted_rand_index"] == pytest.approx(1.0)
        assert stability["centroid_movement"] == pytest.approx(0.0, abs=1e-9)
        runs = result.segment_model_runs
        expected = "cadence" if refit_every == 1 else "none"
        assert runs["refit_reason"].tolist() == ["first_fit", expected]


def test_deterministic_and_independent_of_row_order():
    frame = blobs()
    first = run_segmentation(frame, None, None, SegmentationParams())
    shuffled = frame.sample(frac=1.0, random_state=9)
    second = run_segmentation(shuffled, None, None, SegmentationParams())
    for name in ("person_segments", "segment_profiles", "segment_model_runs"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))


def _three_weeks() -> pd.DataFrame:
    weeks = []
    for week in range(3):
        frame = blobs(seed=10 * week + 1)
        frame["as_of_date"] = DAY + pd.Timedelta(days=7 * week)
        frame["tenure_days"] += 7 * week
        weeks.append(frame)
    extra = person_rows("heavy", 20, 99, prefix="new")
    extra["as_of_date"] = DAY + pd.Timedelta(days=14)
    return pd.concat([*weeks, extra], ignore_index=True)


@pytest.mark.parametrize("refit_every", [4, 2])
def test_incremental_run_equals_full_run(refit_every):
    features = _three_weeks()
    params = SegmentationParams(refit_every_snapshots=refit_every, refit_drift_threshold=10.0)
    full = run_segmentation(features, None, None, params)
    last = features["as_of_date"].max()
    earlier = features[features["as_of_date"] < last]
    previous = full.person_segments[full.person_segments["as_of_date"] < last]
    incremental = run_segmentation(
        features[features["as_of_date"] == last], previous, earlier, params
    )
    for name in ("person_segments", "segment_profiles", "segment_model_runs", "segment_stability"):
        expected = getattr(full, name)
        expected = expected[expected["as_of_date"] == last].reset_index(drop=True)
        pd.testing.assert_frame_equal(getattr(incremental, name), expected)
    reasons = full.segment_model_runs["refit_reason"].tolist()
    assert reasons == (
        ["first_fit", "none", "cadence"] if refit_every == 2 else ["first_fit"] + ["none"] * 2
    )


def test_new_persons_are_assigned_without_refit():
    features = _three_weeks()
    params = SegmentationParams(refit_drift_threshold=10.0)
    result = run_segmentation(features, None, None, params)
    run = result.segment_model_runs.iloc[-1]
    assert not run["is_refit"]
    new = result.person_segments[result.person_segments["person_id"].str.startswith("new")]
    heavy = result.person_segments[result.person_segments["person_id"].str.startswith("pheavy")]
    assert set(new["segment_id"]) == set(heavy["segment_id"])
    assert not new["is_rule_based"].any()


def test_a_stored_model_of_other_parameters_is_matched_not_renumbered():
    features = _three_weeks()
    old = SegmentationParams(code_version="old")
    last = features["as_of_date"].max()
    earlier = features[features["as_of_date"] < last]
    previous = run_segmentation(earlier, None, None, old).person_segments
    new = SegmentationParams(code_version="new")
    result = run_segmentation(features[features["as_of_date"] == last], previous, earlier, new)
    run = result.segment_model_runs.iloc[0]
    assert run["refit_reason"] == "first_fit" and run["is_refit"]
    merged = result.person_segments.merge(
        previous[previous["as_of_date"] == previous["as_of_date"].max()],
        on="person_id",
        suffixes=("", "_before"),
    )
    assert (merged["segment_id"] == merged["segment_id_before"]).mean() > 0.95
    assert result.segment_stability["reassignment_rate"].iloc[0] < 0.05


def test_drift_triggers_a_refit():
    frame = blobs()
    moved = frame.assign(as_of_date=DAY + pd.Timedelta(days=7))
    moved["event_count"] = moved["event_count"] * 8
    moved["events_per_session"] = moved["event_count"] / moved["session_count"]
    result = run_segmentation(pd.concat([frame, moved]), None, None, SegmentationParams())
    assert result.segment_model_runs["refit_reason"].tolist() == ["first_fit", "drift"]


# ----------------------------------------------------------------------------- modules


def test_params_validate_and_version_hashes_every_input():
    with pytest.raises(ValueError):
        SegmentationParams(k_range=(1, 5))
    with pytest.raises(ValueError):
        SegmentationParams(algorithms=("dbscan",))
    base = model_version(SegmentationParams(), DAY)
    assert base == model_version(SegmentationParams(), DAY.date())
    assert len(base) == 16
    assert base != model_version(SegmentationParams(), DAY + pd.Timedelta(days=1))
    assert base != model_version(SegmentationParams(seed=1), DAY)
    assert base != model_version(SegmentationParams(code_version="other"), DAY)


def test_features_log1p_fill_values_and_missing_indicators():
    frame = blobs(counts=(3, 3, 3))
    frame.loc[0, "burstiness"] = np.nan
    frame.loc[1, "average_order_value"] = np.nan
    names = ("log_event_count", "burstiness", "log_average_order_value", "page_view_share")
    raw = raw_matrix(frame, names)
    assert list(raw.columns) == [
        "log_event_count",
        "burstiness_is_missing",
        "burstiness",
        "log_average_order_value_is_missing",
        "log_average_order_value",
        "page_view_share",
    ]
    assert raw["log_event_count"].iloc[2] == pytest.approx(np.log1p(frame["event_count"].iloc[2]))
    assert (raw.loc[0, "burstiness"], raw.loc[0, "burstiness_is_missing"]) == (0.0, 1.0)
    assert raw.loc[1, "log_average_order_value"] == 0.0
    assert raw["page_view_share"].iloc[3] == pytest.approx(
        frame["page_view_count"].iloc[3] / frame["event_count"].iloc[3]
    )


def test_a_feature_without_fill_value_refuses_nulls():
    frame = blobs(counts=(3, 3, 3))
    frame.loc[0, "events_per_session"] = np.nan
    with pytest.raises(ValueError, match="log_events_per_session"):
        raw_matrix(frame)


def test_feature_space_scalers_pca_and_drift():
    frame = blobs()
    for scaler in ("standard", "robust"):
        points = FeatureSpace(scaler=scaler).fit(frame).transform(frame)
        assert points.shape == (len(frame), len(DEFAULT_FEATURES))
        centre = points.mean(axis=0) if scaler == "standard" else np.median(points, axis=0)
        assert np.allclose(centre, 0, atol=1e-9)
    space = FeatureSpace(pca_components=2).fit(frame)
    assert space.transform(frame).shape == (len(frame), 2)
    assert space.drift(frame) == pytest.approx(0.0)
    heavier = frame.assign(event_count=frame["event_count"] * 3)
    assert space.drift(heavier) > 0.5
    with pytest.raises(RuntimeError):
        FeatureSpace().transform(frame)


def test_sample_indices_are_fixed_by_the_seed():
    assert list(sample_indices(5, 10, 1)) == [0, 1, 2, 3, 4]
    first = sample_indices(1000, 100, 42)
    assert len(first) == 100 and (np.diff(first) > 0).all()
    assert (first == sample_indices(1000, 100, 42)).all()
    assert not (first == sample_indices(1000, 100, 43)).all()


def _candidate(algorithm, k, silhouette, eligible=True):
    clustering = Clustering(algorithm, np.zeros((k, 2)))
    return Candidate(algorithm, k, clustering, np.zeros(1), silhouette, 1.0, 0.1, 0.0, eligible)


def test_choice_rule_tolerance_ties_go_to_more_segments():
    params = SegmentationParams(silhouette_tolerance=0.035)  # near-best: >= 0.465
    candidates = [
        _candidate("kmeans", 2, 0.50),
        _candidate("kmeans", 3, 0.46),
        _candidate("kmeans", 4, 0.40),
        _candidate("gmm", 3, 0.47),
        _candidate("kmeans", 5, 0.60, eligible=False),  # too small a segment
    ]
    chosen = choose(candidates, params)
    assert (chosen.algorithm, chosen.k) == ("gmm", 3)  # two near-best: more segments
    strict = choose(candidates, SegmentationParams(silhouette_tolerance=0.0))
    assert (strict.algorithm, strict.k) == ("kmeans", 2)
    nothing = [_candidate("gmm", 2, 0.3, False), _candidate("kmeans", 3, 0.3, False)]
    assert choose(nothing, params).algorithm == "kmeans"


def test_null_references_fill_the_principal_box_and_are_seeded():
    rng = np.random.default_rng(3)
    points = rng.normal(0, 1, (300, 3)) @ np.array([[3, 1, 0], [0, 1, 0], [0, 0, 0.2]])
    references = null_references(points, 2, seed=7)
    assert len(references) == 2 and all(r.shape == points.shape for r in references)
    assert null_references(np.tile(points, (5, 1)), 1, seed=7)[0].shape == (1000, 3)
    assert np.allclose(references[0], null_references(points, 2, seed=7)[0])
    assert not np.allclose(references[0], references[1])
    # Inside the box spanned by the points' principal axes, and spread over it.
    centre = points.mean(axis=0)
    _, _, axes = np.linalg.svd(points - centre, full_matrices=False)
    inside, box = (references[0] - centre) @ axes.T, (points - centre) @ axes.T
    assert (inside >= box.min(axis=0) - 1e-9).all() and (inside <= box.max(axis=0) + 1e-9).all()
    assert (inside.std(axis=0) > 0.4 * box.std(axis=0)).all()


def test_null_silhouette_falls_with_k_and_is_far_below_real_clusters():
    rng = np.random.default_rng(0)
    blobs = np.vstack([rng.normal(centre, 0.2, (60, 2)) for centre in ((0, 0), (4, 0), (0, 4))])
    nulls = null_silhouettes(blobs, [2, 3, 6], SegmentationParams(null_references=2))
    assert 0.2 < nulls[6] < nulls[2] < 0.6
    chosen = choose(fit_candidates(blobs, SegmentationParams(k_range=(2, 6))), SegmentationParams())
    assert chosen.k == 3 and chosen.calibrated_silhouette > 0.3
    assert chosen.summary()["null_silhouette"] == pytest.approx(chosen.null_silhouette, abs=1e-6)


def test_choice_rule_compares_silhouettes_with_their_null():
    # Raw silhouettes favour k = 2; against structureless data of the same
    # spread k = 4 separates best (0.12 above its null vs 0.07 and 0.08).
    candidates = [
        _candidate("kmeans", 2, 0.40),
        _candidate("kmeans", 4, 0.36),
        _candidate("kmeans", 8, 0.29),
    ]
    for candidate, null in zip(candidates, (0.33, 0.24, 0.21), strict=True):
        candidate.null_silhouette = null
    assert choose(candidates, SegmentationParams(silhouette_tolerance=0.02)).k == 4
    candidates[2].silhouette = 0.325  # 0.115: within 0.02 of the best, more segments
    assert choose(candidates, SegmentationParams(silhouette_tolerance=0.02)).k == 8
    assert choose(candidates, SegmentationParams(silhouette_tolerance=0.0)).k == 4


def test_choice_rule_takes_the_consensus_of_three_or_more_near_best():
    # Four near-best partitions of 8 points: k = 2 and the two k = 4 agree
    # with the k = 3 one more than with each other, so k = 3 is the medoid
    # even though k = 4 has the higher calibrated silhouette.
    labelings = {
        ("kmeans", 2): [0, 0, 0, 0, 1, 1, 1, 1],
        ("kmeans", 3): [0, 0, 1, 1, 2, 2, 2, 2],
        ("kmeans", 4): [0, 0, 1, 1, 2, 2, 3, 3],
        ("gmm", 4): [0, 1, 1, 2, 2, 2, 3, 3],
    }
    candidates = []
    for (algorithm, k), labels in labelings.items():
        candidate = _candidate(algorithm, k, 0.30 + 0.001 * k)
        candidate.labels = np.array(labels)
        candidates.append(candidate)
    candidates.append(_candidate("kmeans", 5, 0.20))  # not near-best: left out
    chosen = choose(candidates, SegmentationParams(silhouette_tolerance=0.02))
    assert (chosen.algorithm, chosen.k) == ("kmeans", 3)
    # Two near-best only: the one with more segments.
    pair = choose(candidates[2:], SegmentationParams(silhouette_tolerance=0.02))
    assert (pair.algorithm, pair.k) == ("kmeans", 4)


def test_candidates_respect_the_minimum_segment_size():
    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal(0, 0.1, (97, 2)), rng.normal(5, 0.1, (3, 2))])
    candidates = fit_candidates(points, SegmentationParams(k_range=(2, 3)))
    two = next(c for c in candidates if c.algorithm == "kmeans" and c.k == 2)
    assert two.min_share == pytest.approx(0.03) and two.eligible
    strict = fit_candidates(points, SegmentationParams(k_range=(2, 3), min_size_share=0.05))
    assert not any(c.eligible for c in strict if c.algorithm == "kmeans" and c.k == 2)


def test_hdbscan_outliers_are_flagged_but_keep_the_nearest_segment():
    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal(0, 0.2, (100, 2)), rng.normal(6, 0.2, (100, 2)), [[3.0, 30.0]]])
    candidates = fit_candidates(points, SegmentationParams(algorithms=("hdbscan",)))
    (hdbscan,) = candidates
    assert hdbscan.k == 2 and hdbscan.noise[-1]
    assignment = hdbscan.clustering.assign(np.array([[3.0, 30.0], [0.0, 0.0]]))
    assert assignment.is_outlier.tolist() == [True, False]
    assert np.isfinite(assignment.distance).all()
    assert np.isnan(assignment.probability).all()


def test_mixture_assignment_gives_posterior_probabilities():
    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal(0, 0.3, (80, 2)), rng.normal(5, 0.3, (80, 2))])
    candidates = fit_candidates(points, SegmentationParams(k_range=(2, 2), algorithms=("gmm",)))
    assignment = candidates[0].clustering.assign(points)
    assert ((assignment.probability > 0.5) & (assignment.probability <= 1)).all()
    assert not assignment.is_outlier.any()


def test_canonical_ids_follow_engagement():
    assert canonical_ids(np.array([1.0, 3.0, 2.0])) == {1: 1, 2: 2, 0: 3}
    assert canonical_ids(np.array([1.0, 1.0]), first_id=5) == {0: 5, 1: 6}


def test_hungarian_matching_keeps_ids_and_gives_fresh_ones():
    reference = {7: np.array([0.0, 0.0]), 3: np.array([10.0, 0.0])}
    centroids = np.array([[9.5, 0.2], [0.3, 0.1], [5.0, 9.0]])
    engagement = np.array([1.0, 2.0, 3.0])
    assert match_ids(centroids, reference, engagement, {1, 3, 7}) == {0: 3, 1: 7, 2: 8}
    fewer = match_ids(centroids[:1], reference, engagement[:1], {3, 7})
    assert fewer == {0: 3}  # id 7 retired, not reused
    assert match_ids(centroids, {}, engagement, {4}) == {2: 5, 1: 6, 0: 7}


def test_ids_from_history_maps_each_label_to_its_stored_id():
    labels = np.array([0, 0, 1, 1, 1])
    assert ids_from_history(labels, np.array([4, 4, 2, 2, 4]), 2) == {0: 4, 1: 2}
    assert ids_from_history(labels, np.array([4, 4, 4, 4, 4]), 2) is None  # two labels, one id
    assert ids_from_history(labels, np.array([4, 4, 0, -1, 0]), 2) is None  # label unseen


def _profile(count, **medians):
    return pd.DataFrame({column: [value] * count for column, value in medians.items()})


BASE = dict(
    recency_days=2,
    tenure_days=40,
    active_days=10,
    event_count=100,
    order_count=0,
    revenue=0.0,
    average_order_value=np.nan,
)


def test_label_rules_in_order():
    population = pd.concat(
        [
            _profile(50, **BASE),
            _profile(
                50, **{**BASE, "order_count": 1, "revenue": 50.0, "average_order_value": 50.0}
            ),
        ],
        ignore_index=True,
    )

    def label(**changes):
        return label_rule(_profile(10, **{**BASE, **changes}), population)

    assert label(recency_days=20) == "dormant"
    assert label(recency_days=5, order_count=1) == "at risk"
    assert label(recency_days=5) == "lapsing visitor"
    assert label(tenure_days=10) == "new and exploring"
    loyal = dict(order_count=3, revenue=150.0, average_order_value=50.0, active_days=20)
    assert label(**loyal) == "high-value loyal"
    assert label(order_count=1, revenue=10.0, average_order_value=10.0) == "bargain buyer"
    assert label(order_count=1, revenue=50.0, average_order_value=50.0) == "occasional buyer"
    assert label(event_count=200) == "engaged browser"
    assert label(event_count=20) == "casual visitor"


def test_duplicate_labels_get_the_segment_id():
    frame = pd.concat([_profile(5, **BASE), _profile(5, **BASE)], ignore_index=True)
    labels = segment_labels(frame, np.array([1] * 5 + [2] * 5))
    assert labels == {1: "engaged browser (1)", 2: "engaged browser (2)"}


def test_fallback_rules():
    frame = pd.DataFrame(
        {
            "tenure_days": [3, 30, 30, 30],
            "event_count": [50, 2, 50, 50],
            "active_days": [3, 2, 1, 5],
        }
    )
    params = SegmentationParams()
    assert is_rule_based(frame, params).tolist() == [True, True, True, False]
    assert rule_based_segment_ids(frame, params)[:3].tolist() == [0, -1, -2]


def test_rule_based_persons_in_a_run():
    frame = blobs()
    newcomers = person_rows("light", 5, 50, prefix="fresh")
    newcomers["tenure_days"] = 2
    result = run_segmentation(pd.concat([frame, newcomers]), None, None, SegmentationParams())
    fresh = result.person_segments[result.person_segments["person_id"].str.startswith("fresh")]
    assert fresh["is_rule_based"].all() and (fresh["segment_id"] == 0).all()
    assert (fresh["segment_label"] == "new (rule-based)").all()
    assert fresh["assignment_distance"].isna().all()
    profiles = result.segment_profiles
    assert profiles["persons"].sum() == len(frame) + 5
    assert profiles.loc[profiles["segment_id"] == 0, "persons"].item() == 5


def test_stability_measures():
    before = pd.DataFrame(
        {
            "person_id": list("abcde"),
            "segment_id": [1, 1, 2, 2, 0],
            "is_rule_based": [False] * 4 + [True],
        }
    )
    after = before.assign(segment_id=[1, 2, 2, 2, 1], is_rule_based=False)
    row = stability_row(before, after, 0.5)
    assert row["persons_in_both"] == 4  # e was rule-based before
    assert row["reassignment_rate"] == pytest.approx(0.25)
    assert row["adjusted_rand_index"] < 1
    assert stability_row(before, before, 0.0)["adjusted_rand_index"] == pytest.approx(1.0)
    points = np.array([[0.0, 0.0], [2.0, 0.0]])
    moved = centroid_movement(points, np.array([1, 2]), points + [0, 1], np.array([1, 2]))
    assert moved == pytest.approx(1.0)
    assert np.isnan(centroid_movement(points, np.array([1, 1]), points, np.array([2, 2])))


def test_profiles_lifts_and_medians():
    snapshot = pd.DataFrame({column: [1.0, 1.0, 1.0, 1.0] for column in MEDIAN_FEATURES})
    snapshot["order_count"] = [1, 1, 0, 0]
    snapshot["recency_days"] = [1, 30, 1, 30]
    snapshot["as_of_date"] = DAY
    segments = pd.DataFrame({"segment_id": [1, 1, 2, 2], "segment_label": ["x", "x", "y", "y"]})
    profiles = snapshot_profiles(snapshot, segments)
    assert list(profiles.columns) == PROFILE_COLUMNS
    profiles = profiles.set_index("segment_id")
    assert profiles.loc[1, "conversion_lift"] == pytest.approx(2.0)
    assert profiles.loc[2, "conversion_lift"] == pytest.approx(0.0)
    assert profiles.loc[1, "retention_lift"] == pytest.approx(1.0)
    assert profiles.loc[1, "share"] == pytest.approx(0.5)
    assert profiles.loc[1, "median_order_count"] == pytest.approx(1.0)
    assert profiles.loc[1, "description"].startswith("x: 2 persons (50.0%)")


def test_silhouette_matches_scikit_learn():
    from sklearn.metrics import silhouette_score

    from behavioral_analytics.segmentation.scores import BLOCK_ROWS, silhouettes

    rng = np.random.default_rng(0)
    points = rng.normal(size=(BLOCK_ROWS + 300, 4))  # more than one block of rows
    labels = rng.integers(0, 4, len(points))
    labels[0] = 9  # a cluster of one scores 0
    other = rng.integers(0, 2, len(points))
    constant = np.zeros(len(points), dtype=int)
    scores = silhouettes(points, [labels, other, constant])
    assert scores[0] == pytest.approx(silhouette_score(points, labels), abs=1e-9)
    assert scores[1] == pytest.approx(silhouette_score(points, other), abs=1e-9)
    assert np.isnan(scores[2])


def test_too_few_persons_to_fit_are_unscored_not_mislabelled():
    frame = blobs(counts=(2, 2, 2))
    result = run_segmentation(frame, None, None, SegmentationParams())
    segments = result.person_segments
    assert segments["is_rule_based"].all() and (segments["segment_id"] == -3).all()
    assert (segments["segment_label"] == "unscored (too few persons to fit)").all()
    run = result.segment_model_runs.iloc[0]
    assert (run["algorithm"], run["k"], bool(run["is_refit"])) == ("none", 0, False)


def test_density_outliers_in_a_run_keep_a_segment_and_are_flagged():
    frame = blobs()
    odd = person_rows("regular", 1, 77, prefix="odd")
    odd["events_per_session"] = 400.0
    odd["distinct_features_used"] = 7
    params = SegmentationParams(algorithms=("hdbscan",))
    result = run_segmentation(pd.concat([frame, odd]), None, None, params)
    assert result.segment_model_runs["algorithm"].item() == "hdbscan"
    row = result.person_segments.set_index("person_id").loc["oddregular_0000"]
    assert row["is_outlier"] and row["segment_id"] >= 1 and not row["is_rule_based"]
    assert result.person_segments["is_outlier"].mean() < 0.1


def test_optional_features_pca_and_robust_scaler_run_end_to_end():
    frame = blobs()
    params = SegmentationParams(
        features=(*DEFAULT_FEATURES, "burstiness", "log_revenue", "backtrack_rate"),
        scaler="robust",
    )
    result = run_segmentation(frame, None, None, params)
    used = json.loads(result.segment_model_runs["features_used"].item())
    assert "backtrack_rate_is_missing" in used and "log_revenue" in used
    assert result.person_segments["segment_id"].notna().all()
    reduced = run_segmentation(frame, None, None, SegmentationParams(pca_components=3))
    assert recovered_ari(reduced, frame) > 0.95
    with pytest.raises(ValueError):
        SegmentationParams(features=("no_such_feature",))
