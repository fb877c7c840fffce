#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback (a spare port), for the postgres
# target: `eval "$(bash scripts/postgres.sh start)"` exports BEHAVIOR_PG_*;
# `bash scripts/postgres.sh stop FOLDER` stops it and removes its folder.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m behavioral_analytics.pg_server "$@"
