"""Where things are: the dbt project, the warehouse file and the events folder."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_EVENTS_PATH = PROJECT_ROOT / "data" / "events"
DEFAULT_SAMPLE_PATH = PROJECT_ROOT / "data" / "sample"
DEFAULT_DUCKDB_PATH = PROJECT_ROOT / "warehouse" / "behavior.duckdb"


def duckdb_path() -> Path:
    """The warehouse file dbt writes (BEHAVIOR_DUCKDB_PATH, else the default)."""
    configured = os.environ.get("BEHAVIOR_DUCKDB_PATH")
    if not configured:
        return DEFAULT_DUCKDB_PATH
    path = Path(configured)
    return path if path.is_absolute() else PROJECT_ROOT / path


def dbt_environment(events_path: Path | None = None, warehouse: Path | None = None) -> dict:
    """Environment variables for a dbt run of this project."""
    env = dict(os.environ)
    if events_path is not None:
        env["BEHAVIOR_EVENTS_PATH"] = str(events_path)
    if warehouse is not None:
        env["BEHAVIOR_DUCKDB_PATH"] = str(warehouse)
    env.setdefault("BEHAVIOR_THREADS", str(os.cpu_count() or 1))
    env.setdefault("DBT_PROFILES_DIR", str(PROJECT_ROOT))
    return env
