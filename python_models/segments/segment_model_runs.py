"""One row per as-of date: the segmentation run that assigned it (see the YAML)."""

from behavioral_analytics.dbt_models import segments


def model(dbt, session):
    dbt.config(
        materialized="incremental", incremental_strategy="delete+insert", unique_key="as_of_date"
    )
    refs = {
        "person_features": dbt.ref("person_features"),
        "int_as_of_dates": dbt.ref("int_as_of_dates"),
    }
    previous = dbt.ref("person_segments").df()
    settings = dbt.config.get("segmentation_settings")
    return segments.table("segment_model_runs", refs, settings, session, previous)
