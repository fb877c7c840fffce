#!/usr/bin/env bash
# Create .venv-spark: the spark target (dbt-spark with a local Spark session,
# pyspark) and this package, apart from .venv (pyspark there would make
# `python -c` skip Great Expectations' code, ../shared/STACK_NOTES.md).
# scripts/bootstrap.sh runs it (BEHAVIOR_SKIP_SPARK=1 leaves it out);
# scripts/test.sh runs it in the background while the DuckDB checks run.
# Spark needs Java 17. Safe to run again: it only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
# python_bin: Python 3.11 ($PYTHON, else python3.11 or python3)
source scripts/python311.sh

if [ ! -x .venv-spark/bin/python ]; then
  "$python_bin" -m venv .venv-spark
fi
spark_stamp=.venv-spark/.installed
if [ ! -f "$spark_stamp" ] || [ pyproject.toml -nt "$spark_stamp" ] \
   || [ constraints.txt -nt "$spark_stamp" ]; then
  .venv-spark/bin/python -m pip install --quiet --upgrade pip==26.3
  .venv-spark/bin/python -m pip install --quiet -c constraints.txt -e '.[spark]'
  touch "$spark_stamp"
fi
if ! command -v java >/dev/null 2>&1; then
  echo "bootstrap: java is missing: the spark target needs Java 17" >&2
fi
