#!/usr/bin/env bash
# README command 1: install everything, generate a sample of raw events,
# `dbt build` it into the embedded DuckDB warehouse and print a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
# The demo runs on DuckDB: the Spark venv (about 1.5 GB) only when asked
# for (BEHAVIOR_SKIP_SPARK=0, or `bash scripts/bootstrap.sh` on its own).
export BEHAVIOR_SKIP_SPARK="${BEHAVIOR_SKIP_SPARK:-1}"
bash scripts/bootstrap.sh
exec .venv/bin/behavior demo "$@"
