#!/usr/bin/env bash
# Spark local-mode anchor for docs/scale.md: load, build (seeds and SQL models,
# no tests) and the Python models on the spark target, timed, into
# bench/results/spark-<label>.json.
#   bash bench/spark_1m.sh EVENTS_FOLDER [SPARK_WAREHOUSE] [LABEL]
# EVENTS_FOLDER: e.g. the 1M JSONL events `bench/scale.py --events 1000000 --keep`
# generates; SPARK_WAREHOUSE: a new folder (default a temporary one), removed first.
set -uo pipefail
cd "$(dirname "$0")/.."
events="$(cd "$1" && pwd)"
warehouse="${2:-$(mktemp -d)/spark}"
label="${3:-1m}"
export BEHAVIOR_SPARK_WAREHOUSE="$warehouse" BEHAVIOR_EVENTS_PATH="$events" TZ=UTC
export BEHAVIOR_PII_SALT="${BEHAVIOR_PII_SALT:-bench-only-salt}"
export BEHAVIOR_SPARK_DRIVER_MEMORY="${BEHAVIOR_SPARK_DRIVER_MEMORY:-6g}"
export DBT_LOG_PATH="$warehouse.logs" DBT_TARGET_PATH="$warehouse.target"
rm -rf "$warehouse"
step() {  # name, command...: seconds and exit code of one step
  local name="$1"; shift
  local started; started=$(date +%s.%N)
  "$@" > "$warehouse.$name.log" 2>&1
  local code=$?
  echo "\"${name}_seconds\": $(echo "$(date +%s.%N) - $started" | bc), \"${name}_exit\": $code,"
}
{
  echo "{"
  step load .venv-spark/bin/behavior load --target spark --quiet
  step build .venv-spark/bin/dbt build --target spark --exclude resource_type:test resource_type:unit_test
  step score .venv-spark/bin/behavior score --target spark
  echo "\"lines\": $(grep -o '[0-9]* line(s)' "$warehouse.load.log" | grep -o '^[0-9]*' || echo null),"
  echo "\"driver_memory\": \"$BEHAVIOR_SPARK_DRIVER_MEMORY\", \"commit\": \"$(git rev-parse --short HEAD)\","
  echo "\"measured_at\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\", \"nproc\": $(nproc)"
  echo "}"
} > "bench/results/spark-$label.json"
cat "bench/results/spark-$label.json"
