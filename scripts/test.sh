#!/usr/bin/env bash
# README command 2: every test. Lint (ruff, sqlfluff), pytest (unit and end
# to end against the generator's truth), `dbt build` with its unit and data
# tests on a generated sample, and the Great Expectations suites.
set -euo pipefail
cd "$(dirname "$0")/.."
# The Spark tests are opt-in (BEHAVIOR_SPARK_TESTS=1: 6 minutes on 2 idle
# cores plus the Spark venv's install, beyond CI's budget); without them, no
# Spark venv either.
if [ "${BEHAVIOR_SPARK_TESTS:-0}" != 1 ]; then
  export BEHAVIOR_SKIP_SPARK="${BEHAVIOR_SKIP_SPARK:-1}"
fi
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
export DBT_PROFILES_DIR="$PWD"
export BEHAVIOR_THREADS="${BEHAVIOR_THREADS:-$(nproc 2>/dev/null || echo 2)}"
# IP pseudonyms need a secret salt; tests use a throwaway one.
export BEHAVIOR_PII_SALT="${BEHAVIOR_PII_SALT:-test-only-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')}"

work="${BEHAVIOR_TEST_WORK:-$(mktemp -d)}"
echo "== test work folder: $work"

echo "== lint: ruff"
ruff check .
ruff format --check .

echo "== dbt: sample events, then dbt build (models, unit tests, data tests)"
behavior generate --persons 150 --days 10 --seed 1 --out "$work/sample" --quiet
export BEHAVIOR_EVENTS_PATH="$work/sample/events"
export BEHAVIOR_DUCKDB_PATH="$work/warehouse.duckdb"
dbt build --target duckdb --target-path "$work/target" --log-path "$work/logs"

echo "== schema drift tests (CI gate for payload changes)"
dbt test --target duckdb --select tag:schema_drift --target-path "$work/target" --log-path "$work/logs"

echo "== Great Expectations suites on the built warehouse"
behavior validate

echo "== lint: sqlfluff (dbt templater, DuckDB dialect)"
sqlfluff lint models macros tests analyses

echo "== pytest (two workers; a test file stays on one worker, its fixtures built once)"
pytest -q -n 2 --dist loadfile
