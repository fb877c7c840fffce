"""One row per person x as-of date: the calibrated churn probability (see the YAML)."""

from behavioral_analytics.dbt_models import churn_scores, io


def model(dbt, session):
    dbt.config(
        materialized="incremental", incremental_strategy="delete+insert", unique_key="as_of_date"
    )
    refs = {
        "person_features": dbt.ref("person_features"),
        "int_as_of_dates": dbt.ref("int_as_of_dates"),
        "int_churn_activity_days": dbt.ref("int_churn_activity_days"),
        "int_person_attributes": dbt.ref("int_person_attributes"),
        "person_segments": dbt.ref("person_segments"),
    }
    previous = io.read_this(dbt, session)
    settings = dbt.config.get("churn_settings")
    segmentation = dbt.config.get("segmentation_settings")
    return churn_scores.table(
        "person_churn_scores", refs, settings, session, previous, segmentation
    )
