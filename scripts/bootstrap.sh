#!/usr/bin/env bash
# Create .venv (Python 3.11) and install the project with every pinned
# dependency. Safe to run again: it only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# python_bin: Python 3.11 ($PYTHON, else python3.11 or python3)
source scripts/python311.sh

if [ ! -x .venv/bin/python ]; then
  "$python_bin" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip==26.3
  .venv/bin/python -m pip install --quiet -c constraints.txt -e '.[dev]'
  touch "$stamp"
fi

# .venv-spark, the spark target's environment (scripts/bootstrap-spark.sh;
# BEHAVIOR_SKIP_SPARK=1 leaves it out, and test.sh makes it in the background).
if [ "${BEHAVIOR_SKIP_SPARK:-0}" != 1 ]; then
  PYTHON="$python_bin" bash scripts/bootstrap-spark.sh
fi

# Headless Chromium for the browser tests of the docs site and the report
# (Debian's package; skipped where it is already installed).
if ! command -v chromium >/dev/null 2>&1 && [ "${BEHAVIOR_SKIP_CHROMIUM:-0}" != 1 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing Debian's chromium (browser tests)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "bootstrap: chromium is missing and cannot be installed here (not root or no apt);" \
      "the browser tests will fail: install Debian's chromium package" >&2
  fi
fi

# PostgreSQL 15's server (initdb, pg_ctl) for the postgres target's tests
# (scripts/postgres.sh starts a throwaway cluster); Debian's package, only
# where it is missing.
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
   && [ "${BEHAVIOR_SKIP_POSTGRES:-0}" != 1 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing Debian's postgresql (the postgres target's tests)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "bootstrap: PostgreSQL's initdb is missing and cannot be installed here (not root" \
      "or no apt); the postgres tests are skipped: install Debian's postgresql package" >&2
  fi
fi

# The scripts and styles of Great Expectations' data docs (they load them from
# CDNs; `behavior docs` serves local copies): npm packages at pinned versions
# (src/behavioral_analytics/web_assets.py), fetched once.
if ! .venv/bin/python -c 'import sys; from behavioral_analytics.web_assets import is_current; sys.exit(not is_current())'; then
  if command -v npm >/dev/null 2>&1; then
    .venv/bin/python -m behavioral_analytics.web_assets
  else
    echo "bootstrap: npm is missing: the data docs will load their styles from the internet" >&2
  fi
fi
