"""Compare two built warehouses relation by relation, row for row, every column.

Used to prove that incremental builds equal a full rebuild. Rows are compared
as sets of complete rows (sorted on every column); columns that record when
a run wrote a row (``_loaded_at``) are left out. Floats are equal within a
relative 1e-9: DuckDB's parallel aggregates add in no fixed order, so a sum
may differ in its last bit between two builds of the same data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

RUN_BOOKKEEPING_COLUMNS = {"_loaded_at"}
# Models that hold the state of the last run's increment, not data: they
# differ between an incremental and a full build by design (a full build
# lists every device as `full_build` and every file as `pending`, a daily
# build the day's devices and files), so the equivalence tests pass them as
# ``ignore_tables`` and check them on their own (tests/python/test_incremental.py).
RUN_STATE_TABLES = frozenset(
    {
        "main_intermediate.int_attributed_devices_touched",
        "main_intermediate.int_devices_touched",
        "main_intermediate.int_funnel_persons_touched",
        "main_intermediate.int_mart_devices_touched",
        "main_intermediate.int_mart_persons_touched",
        "main_staging.stg_tracker__files",
    }
)


@dataclass
class Difference:
    relation: str
    detail: str

    def __str__(self) -> str:
        return f"{self.relation}: {self.detail}"


def tables(warehouse: Path, schemas: tuple[str, ...]) -> list[str]:
    """The base tables (not views) of the given schemas, as schema.table."""
    names = ", ".join(f"'{schema}'" for schema in schemas)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
            f" where table_type = 'BASE TABLE' and table_schema in ({names})"
            " order by 1"
        ).fetchall()
    return [row[0] for row in rows]


def _frame(
    warehouse: Path, relation: str, ignore: set[str], where: str | None = None
) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        frame = connection.execute(f"select * from {relation} where {where or 'true'}").df()
    frame = frame.drop(columns=[c for c in frame.columns if c in RUN_BOOKKEEPING_COLUMNS | ignore])
    frame = frame[sorted(frame.columns)]
    # floats sort by 9 significant digits: a parallel sum may differ in the last bit
    as_text = pd.DataFrame(
        {
            column: (
                frame[column].map(lambda value: "" if pd.isna(value) else f"{value:.9g}")
                if pd.api.types.is_float_dtype(frame[column])
                else frame[column].astype(str)
            )
            for column in frame.columns
        }
    )
    order = as_text.sort_values(list(as_text.columns), kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def _unequal(left: pd.Series, right: pd.Series) -> pd.Series:
    """Rows that differ: floats beyond a relative 1e-9 (summation order), others exactly."""
    both_missing = left.isna() & right.isna()
    if pd.api.types.is_float_dtype(left) and pd.api.types.is_float_dtype(right):
        close = np.isclose(left.to_numpy(), right.to_numpy(), rtol=1e-9, atol=1e-12)
        return ~(pd.Series(close, index=left.index) | both_missing)
    return ~((left == right) | both_missing)


def compare(
    expected: Path,
    actual: Path,
    schemas: tuple[str, ...] = ("main_marts",),
    ignore_columns: frozenset[str] = frozenset(),
    snapshot_tables: dict[str, str] | None = None,
    ignore_tables: frozenset[str] = frozenset(),
) -> list[Difference]:
    """Every difference between the two warehouses' tables in these schemas.

    ``ignore_columns``: columns that differ by construction (``file_path`` when
    the two warehouses read the same files from different folders).
    ``snapshot_tables``: relation -> snapshot column of tables that keep the
    snapshots of earlier builds (``person_features`` by ``as_of_date``): only
    the snapshots the expected warehouse has are compared, and each of them
    must be in the actual one. ``ignore_tables``: relations left out of the
    comparison (the Python models' tables when one warehouse did not build them).
    """
    ignore = set(ignore_columns)
    differences: list[Difference] = []
    expected_tables = [table for table in tables(expected, schemas) if table not in ignore_tables]
    actual_tables = [table for table in tables(actual, schemas) if table not in ignore_tables]
    for missing in sorted(set(expected_tables) ^ set(actual_tables)):
        differences.append(Difference(missing, "exists in only one warehouse"))
    for relation in sorted(set(expected_tables) & set(actual_tables)):
        where = None
        if snapshot_tables and relation in snapshot_tables:
            column = snapshot_tables[relation]
            with duckdb.connect(str(expected), read_only=True) as connection:
                values = [
                    row[0]
                    for row in connection.execute(
                        f"select distinct cast({column} as varchar) from {relation}"
                    ).fetchall()
                ]
            quoted = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
            where = f"cast({column} as varchar) in ({quoted or 'null'})"
        left = _frame(expected, relation, ignore, where)
        right = _frame(actual, relation, ignore, where)
        if list(left.columns) != list(right.columns):
            differences.append(Difference(relation, "columns differ"))
            continue
        if len(left) != len(right):
            differences.append(Difference(relation, f"{len(left)} rows vs {len(right)}"))
            continue
        for column in left.columns:
            unequal = _unequal(left[column], right[column])
            if unequal.any():
                first = unequal.idxmax()
                differences.append(
                    Difference(
                        relation,
                        f"column {column}: {int(unequal.sum())} rows differ, e.g. "
                        f"{left.loc[first, column]!r} vs {right.loc[first, column]!r}",
                    )
                )
    return differences
