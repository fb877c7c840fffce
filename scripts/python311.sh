# Sourced by the bootstraps: sets python_bin to a Python 3.11 ($PYTHON, else
# python3.11 or python3 on the PATH), or stops with the reason.
python_bin="${PYTHON:-}"
if [ -z "$python_bin" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
       && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python_bin="$candidate"; break
    fi
  done
fi
if [ -z "$python_bin" ]; then
  echo "bootstrap: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
