"""One row per model version x split x model x segment: holdout metrics (see the YAML)."""

from behavioral_analytics.dbt_models import churn_scores


def model(dbt, session):
    dbt.config(
        materialized="incremental", incremental_strategy="delete+insert", unique_key="model_version"
    )
    refs = {
        "person_features": dbt.ref("person_features"),
        "int_as_of_dates": dbt.ref("int_as_of_dates"),
        "int_churn_activity_days": dbt.ref("int_churn_activity_days"),
        "int_person_attributes": dbt.ref("int_person_attributes"),
        "person_segments": dbt.ref("person_segments"),
    }
    previous = dbt.ref("person_churn_scores").df()
    settings = dbt.config.get("churn_settings")
    segmentation = dbt.config.get("segmentation_settings")
    return churn_scores.table(
        "churn_model_metrics", refs, settings, session, previous, segmentation
    )
