"""The segmentation models' shared run: person_features of the build's
as-of dates, the previous build's assignments for stable ids."""

from __future__ import annotations

import pandas as pd

from behavioral_analytics import __version__

from .contract import conform
from .io import fingerprint, once, read, settings

SEGMENTED_SNAPSHOT_KINDS = ("current", "weekly")


def _params(values: dict):
    from behavioral_analytics.segmentation import SegmentationParams

    defaults = SegmentationParams()
    k_range = values.get("k_range") or defaults.k_range
    return SegmentationParams(
        k_range=(int(k_range[0]), int(k_range[-1])),
        min_size_share=float(values.get("min_size_share", defaults.min_size_share)),
        refit_every_snapshots=int(
            values.get("refit_every_snapshots", defaults.refit_every_snapshots)
        ),
        refit_drift_threshold=float(
            values.get("refit_drift_threshold", defaults.refit_drift_threshold)
        ),
        seed=int(values.get("seed", defaults.seed)),
        code_version=f"segmentation-{__version__}",
    )


def inputs(refs: dict, previous_segments: pd.DataFrame | None):
    """(features of the build's snapshots, previous assignments, their features)."""
    as_of_dates = read(refs, "int_as_of_dates")
    dates = as_of_dates.loc[
        as_of_dates["snapshot_kind"].isin(SEGMENTED_SNAPSHOT_KINDS), "as_of_date"
    ]
    all_features = read(refs, "person_features")
    features = all_features[all_features["as_of_date"].isin(dates)]
    features = features.sort_values(["as_of_date", "person_id"]).reset_index(drop=True)
    previous = previous_features = None
    if previous_segments is not None and len(previous_segments) and len(features):
        earlier = previous_segments[previous_segments["as_of_date"] < features["as_of_date"].min()]
        if len(earlier):
            latest = earlier["as_of_date"].max()
            previous = earlier[earlier["as_of_date"] == latest].sort_values("person_id")
            previous_features = all_features[all_features["as_of_date"] == latest]
            previous_features = previous_features.sort_values("person_id")
    return features, previous, previous_features


def result(refs: dict, settings_value, previous_segments: pd.DataFrame | None):
    """run_segmentation on this build's inputs, once per process."""
    from behavioral_analytics.segmentation import run_segmentation

    features, previous, previous_features = inputs(refs, previous_segments)
    params = _params(settings(settings_value))
    key = "segments:" + fingerprint(features, previous, previous_features, repr(params))
    return once(
        key,
        lambda: run_segmentation(
            features=features,
            previous=previous,
            previous_features=previous_features,
            params=params,
        ),
    )


def table(name: str, refs: dict, settings_value, session, previous_segments):
    """One output table of the segmentation run, under the model's contract."""
    return conform(getattr(result(refs, settings_value, previous_segments), name), name, session)
