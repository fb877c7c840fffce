#!/usr/bin/env bash
# README command 2: every test. Lint (ruff, sqlfluff), pytest (unit and end
# to end against the generator's truth, and the PostgreSQL and Spark
# equivalence), `dbt build` with its unit and data tests on a generated
# sample, and the Great Expectations suites.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${BEHAVIOR_TEST_WORK:-$(mktemp -d)}"
echo "== $(date +%T) test work folder: $work"

# The Spark equivalence tests run unless BEHAVIOR_SPARK_TESTS=0: .venv-spark
# (2-3 minutes of pip) installs in the background while the DuckDB checks
# below run, and pytest waits for it.
spark_tests="${BEHAVIOR_SPARK_TESTS:-1}"
BEHAVIOR_SKIP_SPARK=1 bash scripts/bootstrap.sh
spark_pid=
if [ "$spark_tests" = 1 ]; then
  echo "== $(date +%T) .venv-spark: installing in the background (log: $work/bootstrap-spark.log)"
  bash scripts/bootstrap-spark.sh >"$work/bootstrap-spark.log" 2>&1 &
  spark_pid=$!
fi
export PATH="$PWD/.venv/bin:$PATH"
export DBT_PROFILES_DIR="$PWD"
export BEHAVIOR_THREADS="${BEHAVIOR_THREADS:-$(nproc 2>/dev/null || echo 2)}"
# IP pseudonyms need a secret salt; tests use a throwaway one.
export BEHAVIOR_PII_SALT="${BEHAVIOR_PII_SALT:-test-only-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')}"

echo "== $(date +%T) lint: ruff"
ruff check .
ruff format --check .

echo "== $(date +%T) dbt: sample events, then dbt build (models, unit tests, data tests)"
behavior generate --persons 150 --days 10 --seed 1 --out "$work/sample" --quiet
export BEHAVIOR_EVENTS_PATH="$work/sample/events"
export BEHAVIOR_DUCKDB_PATH="$work/warehouse.duckdb"
dbt build --target duckdb --target-path "$work/target" --log-path "$work/logs"

# sqlfluff (a minute on one core) lints against a copy of the built warehouse
# (the dbt templater opens it: is_incremental(), seeds read while compiling)
# while the drift tests, the suites and pytest use the warehouse itself.
echo "== $(date +%T) lint: sqlfluff in the background (dbt templater, DuckDB dialect; log: $work/sqlfluff.log)"
cp "$work/warehouse.duckdb" "$work/lint.duckdb"
BEHAVIOR_DUCKDB_PATH="$work/lint.duckdb" DBT_TARGET_PATH="$work/lint-target" sqlfluff lint models macros tests analyses \
  >"$work/sqlfluff.log" 2>&1 &
lint_pid=$!

echo "== $(date +%T) schema drift tests (CI gate for payload changes)"
dbt test --target duckdb --select tag:schema_drift --target-path "$work/target" --log-path "$work/logs"

echo "== $(date +%T) Great Expectations suites on the built warehouse"
behavior validate

echo "== $(date +%T) lint: sqlfluff's result"
if ! wait "$lint_pid"; then
  grep -v "^WARNING\|^\s*$" "$work/sqlfluff.log" >&2
  echo "test: sqlfluff lint failed" >&2
  exit 1
fi
tail -1 "$work/sqlfluff.log"

if [ -n "$spark_pid" ]; then
  echo "== $(date +%T) waiting for .venv-spark"
  if ! wait "$spark_pid"; then
    cat "$work/bootstrap-spark.log" >&2
    echo "test: installing .venv-spark failed (BEHAVIOR_SPARK_TESTS=0 leaves the Spark tests out)" >&2
    exit 1
  fi
fi
# 1: the Spark tests run and fail (not skip) if Spark cannot start
export BEHAVIOR_SPARK_TESTS="$spark_tests"

echo "== $(date +%T) pytest (two workers; a test file stays on one worker, its fixtures built once)"
# files handed out slowest first (tests/python/conftest.py), not by test count;
# the 25 slowest tests are listed at the end, to see where CI's time goes
pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=25
