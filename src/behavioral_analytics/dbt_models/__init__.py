"""Glue of the dbt Python models: read their refs, take their settings from
the model config (vars rendered in dbt_project.yml), run a model package
once per build, and hand each model its table under its contract
(``contract``). The models in ``python_models/`` are one call each; every
rule lives in ``segmentation`` and ``churn``."""
