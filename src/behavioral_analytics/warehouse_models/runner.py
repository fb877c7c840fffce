"""Run the plan's Python models in a DuckDB session and write their tables back.

Each model file's ``model(dbt, session)`` is called as dbt-duckdb calls it:
``dbt.ref`` gives a DuckDB relation of the ref (a SQL model copied from the
warehouse, or a Python model's table as this run left it), ``dbt.this`` the
model's own table as the warehouse had it before this run, ``dbt.config.get``
the config dbt rendered for the target. The returned relation is written with
the model's materialization: incremental delete+insert (the earlier rows
whose key the new rows do not have, then the new rows) or the whole table.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

from behavioral_analytics.dbt_models.contract import declared_columns

from .engines import WarehouseIO, quoted
from .engines import session as new_session
from .plan import Plan, PythonModel, Relation


class MissingInput(RuntimeError):
    """A relation a Python model reads is not in the warehouse."""


@dataclass(frozen=True)
class Written:
    model: str
    relation: Relation
    rows: int
    new_rows: int


class _Config:
    """``dbt.config``: the call declares (dbt took it from the manifest), ``get`` reads."""

    def __init__(self, values: dict):
        self._values = values

    def __call__(self, **_declared) -> None:
        pass

    def get(self, key: str, default=None):
        return self._values.get(key, default)


class _Dbt:
    def __init__(self, connection, model: PythonModel, tables: dict[str, str], this: str):
        self._connection = connection
        self._tables = tables
        self.config = _Config(model.config)
        self.this = quoted(this)
        self._model = model

    def ref(self, name: str):
        if name not in self._tables:
            raise MissingInput(f"{self._model.name} refs {name}, which this run has not got")
        return self._connection.table(self._tables[name])


def _module(model: PythonModel):
    spec = importlib.util.spec_from_file_location(f"behavior_python_model_{model.name}", model.path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def merge_rows(connection, model: PythonModel, new: str, this: str | None, out: str) -> None:
    names = ", ".join(quoted(name) for name, _ in declared_columns(model.name))
    key = model.unique_key
    if key is None or this is None:
        connection.execute(f"create or replace table {quoted(out)} as select {names} from {new}")
        return
    connection.execute(
        f"create or replace table {quoted(out)} as"
        f" select {names} from {quoted(this)}"
        f" where {quoted(key)} not in (select {quoted(key)} from {new}"
        f" where {quoted(key)} is not null)"
        f" union all select {names} from {new}"
    )


def run(
    plan: Plan, warehouse: WarehouseIO, progress: Callable[[str], None] = lambda _: None
) -> list[Written]:
    """Every model of the plan, parents first; the tables written, in that order."""
    connection = new_session()
    tables: dict[str, str] = {}
    for name, relation in plan.inputs.items():
        progress(f"reading {relation}")
        table = f"ref__{name}"
        if not warehouse.fetch(relation, connection, table):
            raise MissingInput(
                f"{relation} (model {name}) is not in the {warehouse.target} warehouse:"
                f" run `dbt build --target {warehouse.target}` first"
            )
        tables[name] = table
    written = []
    for model in plan.models:
        progress(f"running {model.name}")
        this = f"this__{model.name}"
        had_table = warehouse.fetch(model.relation, connection, this)
        output = _module(model).model(_Dbt(connection, model, tables, this), connection)
        new = f"new__{model.name}"
        output.create(new)
        out = f"ref__{model.name}"
        merge_rows(connection, model, quoted(new), this if had_table else None, out)
        tables[model.name] = out
        progress(f"writing {model.relation}")
        rows = warehouse.replace(model.relation, connection, out, declared_columns(model.name))
        (new_rows,) = connection.execute(f"select count(*) from {quoted(new)}").fetchone()
        written.append(Written(model.name, model.relation, rows, new_rows))
    connection.close()
    return written
