"""Compare the tables one data set built on two engines (DuckDB, PostgreSQL), row for row.

``equivalence.py`` compares two DuckDB warehouses; across engines the same
value comes back in different Python types (a PostgreSQL ``numeric`` as
``Decimal``, a ``jsonb`` as a dict, a timestamp with another tzinfo), so each
value is first made canonical:

- timestamps: UTC milliseconds since the epoch (equal to the millisecond);
- dates: ISO text; intervals: milliseconds;
- numbers: ints exactly; a float (or a non-integral decimal) against any
  number within ``FLOAT_RTOL`` relative (``FLOAT_ATOL`` absolute near 0):
  engines evaluate ``exp``, ``ln``, ``stddev`` and sums in their own order;
- JSON (objects, lists, and text holding one): parsed and written with
  sorted keys (jsonb reorders keys and spaces), numbers by value (6.0 is 6:
  Spark writes JSON through its variant type, which drops the ``.0``);
- everything else (ids, names): text, exactly.

Rows are compared as sorted lists of complete rows; ``_loaded_at`` (when a
run wrote a row) is left out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from behavioral_analytics.equivalence import RUN_BOOKKEEPING_COLUMNS, Difference

FLOAT_RTOL = 1e-9
FLOAT_ATOL = 1e-9


def canonical(value):
    """The value in a form both engines' results share (see the module docstring)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        delta = value - datetime(1970, 1, 1, tzinfo=UTC)
        return ("ts", delta // timedelta(milliseconds=1))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, timedelta):
        return ("interval", value // timedelta(milliseconds=1))
    if isinstance(value, dict | list | tuple):
        return json.dumps(_json_numbers(value), sort_keys=True, default=str)
    text = str(value)
    if text[:1] in "{[":
        try:
            return json.dumps(json.loads(text, parse_float=_json_number), sort_keys=True)
        except ValueError:
            return text
    return text


def _json_number(text: str) -> int | float:
    """A JSON number by value: 6.0 as 6 (Spark's variant writes 6.0 back as 6)."""
    number = float(text)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _json_numbers(value):
    """Parsed JSON (a jsonb from psycopg2) with its numbers by value, as ``_json_number``."""
    if isinstance(value, dict):
        return {key: _json_numbers(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_numbers(item) for item in value]
    if isinstance(value, float) and not isinstance(value, bool):
        return _json_number(repr(value))
    return value


def _sort_key(row: tuple) -> tuple:
    key = []
    for value in row:
        if value is None:
            key.append((0, ""))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            key.append((1, f"{float(value):.6e}"))
        else:
            key.append((2, str(value)))
    return tuple(key)


def _equal(left, right) -> bool:
    if left is None or right is None:
        return left is right
    numbers = (int, float)
    if isinstance(left, numbers) and isinstance(right, numbers):
        if isinstance(left, bool) or isinstance(right, bool):
            return left == right
        if isinstance(left, int) and isinstance(right, int):
            return left == right
        return math.isclose(left, right, rel_tol=FLOAT_RTOL, abs_tol=FLOAT_ATOL)
    return left == right


def canonical_rows(columns: list[str], rows: Iterable[tuple]) -> tuple[list[str], list[tuple]]:
    """Columns sorted by name (bookkeeping left out) and the rows canonical and sorted."""
    keep = sorted(
        (name, index) for index, name in enumerate(columns) if name not in RUN_BOOKKEEPING_COLUMNS
    )
    names = [name for name, _ in keep]
    canonical_list = [tuple(canonical(row[index]) for _, index in keep) for row in rows]
    return names, sorted(canonical_list, key=_sort_key)


def compare_relation(
    relation: str,
    left: tuple[list[str], list[tuple]],
    right: tuple[list[str], list[tuple]],
) -> list[Difference]:
    """Differences between one relation's canonical rows on two engines."""
    (left_columns, left_rows), (right_columns, right_rows) = left, right
    if left_columns != right_columns:
        only = sorted(set(left_columns) ^ set(right_columns))
        return [Difference(relation, f"columns differ: {only}")]
    if len(left_rows) != len(right_rows):
        return [Difference(relation, f"{len(left_rows)} rows vs {len(right_rows)}")]
    differences = []
    for position, column in enumerate(left_columns):
        unequal = [
            (a[position], b[position])
            for a, b in zip(left_rows, right_rows, strict=True)
            if not _equal(a[position], b[position])
        ]
        if unequal:
            differences.append(
                Difference(
                    relation,
                    f"column {column}: {len(unequal)} rows differ, e.g. "
                    f"{unequal[0][0]!r} vs {unequal[0][1]!r}",
                )
            )
    return differences
