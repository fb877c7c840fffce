"""dbt's Python models (segments, churn) run outside dbt, against a warehouse
where dbt cannot run them (PostgreSQL, plain Spark): ``behavior score
--target postgres|spark``.

The same model files under ``python_models/`` run, with the config and refs
dbt's own parse of the project gives for that target (``plan``); their inputs
are copied from the warehouse into an in-memory DuckDB session, as dbt-duckdb
hands them to a Python model (``engines``); each output table is written
back where dbt would have put it, with its YAML's column types and its
materialization (delete+insert by the unique key, or the whole table)
(``runner``).
"""
