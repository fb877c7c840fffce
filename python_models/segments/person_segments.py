"""One row per person x as-of date: the person's behavioural segment (see the YAML)."""

from behavioral_analytics.dbt_models import io, segments


def model(dbt, session):
    dbt.config(
        materialized="incremental", incremental_strategy="delete+insert", unique_key="as_of_date"
    )
    refs = {
        "person_features": dbt.ref("person_features"),
        "int_as_of_dates": dbt.ref("int_as_of_dates"),
    }
    previous = io.read_this(dbt, session)
    settings = dbt.config.get("segmentation_settings")
    return segments.table("person_segments", refs, settings, session, previous)
