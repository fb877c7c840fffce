#!/usr/bin/env bash
# README command 1: install everything, generate a sample of raw events,
# `dbt build` it into the embedded DuckDB warehouse and print a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/behavior demo "$@"
