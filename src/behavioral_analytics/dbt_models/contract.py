"""The contract of a dbt Python model, enforced when it is built.

dbt 1.11 enforces model contracts for SQL models only, so the Python models
enforce theirs here, from the same place: the ``columns`` (name and
``data_type``) of the model in its YAML under ``python_models/``. ``conform``
returns the frame as a DuckDB relation with exactly those columns, in that
order, each cast to its declared type. A column the model did not produce or
a column the YAML does not declare fails the build with the model and column
named (an empty frame, a run with nothing to score, gets typed empty columns).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import yaml

from behavioral_analytics.project import PROJECT_ROOT

PYTHON_MODELS = PROJECT_ROOT / "python_models"


class ContractError(ValueError):
    """A Python model's output does not match the columns its YAML declares."""


@cache
def _declared(root: Path = PYTHON_MODELS) -> dict[str, tuple[tuple[str, str], ...]]:
    models: dict[str, tuple[tuple[str, str], ...]] = {}
    for path in sorted(root.rglob("*.yml")):
        for node in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            columns = []
            for column in node.get("columns", []):
                if "data_type" not in column:
                    raise ContractError(
                        f"{path.name}: model {node['name']} column {column['name']} "
                        "has no data_type (every Python model column declares one)"
                    )
                columns.append((column["name"], column["data_type"]))
            models[node["name"]] = tuple(columns)
    return models


def declared_columns(model_name: str, root: Path = PYTHON_MODELS) -> tuple[tuple[str, str], ...]:
    """(name, data_type) of every column the model's YAML declares, in order."""
    models = _declared(root)
    if model_name not in models or not models[model_name]:
        raise ContractError(f"model {model_name} declares no columns under {root}")
    return models[model_name]


def check(frame: pd.DataFrame, model_name: str, root: Path = PYTHON_MODELS) -> list[str]:
    """The declared column names, after checking the frame has exactly those."""
    names = [name for name, _ in declared_columns(model_name, root)]
    produced = [str(column) for column in frame.columns]
    if frame.empty:
        return names
    missing = [name for name in names if name not in produced]
    extra = [name for name in produced if name not in names]
    if missing or extra:
        raise ContractError(
            f"model {model_name} breaks its contract: "
            f"missing columns {missing or 'none'}, undeclared columns {extra or 'none'}"
        )
    return names


def conform(frame: pd.DataFrame, model_name: str, session, root: Path = PYTHON_MODELS):
    """The frame as a DuckDB relation with the declared columns and types."""
    check(frame, model_name, root)
    declared = declared_columns(model_name, root)
    if frame.empty:
        selects = [f'cast(null as {kind}) as "{name}"' for name, kind in declared]
        return session.sql(f"select {', '.join(selects)} limit 0")
    source = session.from_df(frame.reset_index(drop=True))
    return source.project(
        ", ".join(f'cast("{name}" as {kind}) as "{name}"' for name, kind in declared)
    )
