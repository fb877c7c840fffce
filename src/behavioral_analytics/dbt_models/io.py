"""Reading refs and config in a dbt Python model, and running work once."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any

import pandas as pd

_RESULTS: dict[str, Any] = {}
_LOCK = threading.Lock()


# Float inputs are rounded to this many decimals: DuckDB's parallel sums differ in
# the last bits from build to build (an incremental build's person_features equals a
# full build's within 1e-9, not bit for bit), and a tree model's split on such a
# value would make the same data give different scores.
INPUT_DECIMALS = 9


def read(refs: dict, name: str) -> pd.DataFrame:
    """A ref as a DataFrame, rows in a fixed order, floats rounded to
    ``INPUT_DECIMALS`` (deterministic). ``refs`` maps names to the relations the
    model file got from ``dbt.ref`` (dbt finds a Python model's parents by its
    literal ``dbt.ref("...")`` calls)."""
    frame = refs[name].df()
    floats = frame.select_dtypes("float").columns
    frame[floats] = frame[floats].round(INPUT_DECIMALS)
    return frame.sort_values(list(frame.columns)[:2], kind="stable").reset_index(drop=True)


def read_this(dbt, session) -> pd.DataFrame | None:
    """The model's own table as the previous build left it, or None."""
    try:
        return session.sql(f"select * from {dbt.this}").df()
    except Exception:  # noqa: BLE001 - a first build has no table yet
        return None


def settings(value: Any) -> dict:
    """The settings a model got from its config (``dbt.config.get("..._settings")``:
    dbt_project.yml renders the vars into one JSON object per model folder)."""
    if value is None or value == "":
        return {}
    parsed = json.loads(value) if isinstance(value, str) else value
    if not isinstance(parsed, dict):
        raise ValueError(f"model settings must be a JSON object, got {value!r}")
    return parsed


def fingerprint(*parts: Any) -> str:
    """A stable hash of DataFrames and plain values."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, pd.DataFrame):
            digest.update(",".join(map(str, part.columns)).encode())
            digest.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def once(key: str, compute: Callable[[], Any]) -> Any:
    """The result of ``compute`` for this key, computed once per process: the
    Python models of one build share one fit (dbt-duckdb runs them in dbt's
    own process); another process recomputes the same deterministic result."""
    with _LOCK:
        if key not in _RESULTS:
            _RESULTS[key] = compute()
        return _RESULTS[key]
