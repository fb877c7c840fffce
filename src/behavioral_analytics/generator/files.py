"""Writing event files: grouping received copies into files by received date,
stream and time chunk, and writing JSONL, Parquet or CSV.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from behavioral_analytics.generator.common import MS_PER_DAY, _day_string, _encode
from behavioral_analytics.generator.emission import _Sink
from behavioral_analytics.generator.faults import _insert_bad_lines
from behavioral_analytics.generator.world import _STREAM_CHUNK_MS, STREAMS

# --------------------------------------------------------------------------- writing


TRUTH_EVENTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_name", pa.string()),
        ("device_id", pa.string()),
        ("anonymous_id", pa.string()),
        ("user_id", pa.string()),
        ("person_id", pa.string()),
        ("resolved_user_id", pa.string()),
        ("platform", pa.string()),
        ("event_at", pa.timestamp("us", tz="UTC")),
        ("received_at", pa.timestamp("us", tz="UTC")),
        ("file", pa.string()),
        ("line_number", pa.int64()),
        ("is_bot", pa.bool_()),
        ("consent_analytics", pa.bool_()),
        ("is_after_opt_out", pa.bool_()),
        ("is_analysed", pa.bool_()),
        ("session_index", pa.int64()),
    ]
)

_OUTPUT_COLUMNS = (
    "event_id",
    "event_name",
    "event_ts",
    "sent_at",
    "received_at",
    "anonymous_id",
    "user_id",
    "platform",
    "properties",
    "context",
    "schema_version",
    "sdk",
)
_JSON_COLUMNS = ("properties", "context")


def _row_values(line: str) -> list[Any]:
    obj = json.loads(line)
    values = []
    for column in _OUTPUT_COLUMNS:
        value = obj.get(column)
        if column in _JSON_COLUMNS and value is not None:
            value = _encode(value)
        values.append(value)
    return values


def _write_event_file(path: Path, lines: list[str], file_format: str, stream: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if file_format == "jsonl":
        payload = ("\n".join(lines) + "\n").encode("utf-8")
        if stream == "mobile":
            payload = gzip.compress(payload, compresslevel=1, mtime=0)
        path.write_bytes(payload)
        return
    rows = [_row_values(line) for line in lines]
    if file_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(_OUTPUT_COLUMNS)
        writer.writerows(["" if value is None else value for value in row] for row in rows)
        path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
        return
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in _OUTPUT_COLUMNS]
    schema = pa.schema(
        [
            (name, pa.int64() if name == "schema_version" else pa.string())
            for name in _OUTPUT_COLUMNS
        ]
    )
    table = pa.Table.from_arrays(
        [pa.array(list(values), type=schema.field(i).type) for i, values in enumerate(columns)],
        schema=schema,
    )
    pq.write_table(table, path, compression="snappy")


def _file_name(stream: str, number: int, file_format: str) -> str:
    if file_format == "jsonl":
        extension = "jsonl.gz" if stream == "mobile" else "jsonl"
    else:
        extension = file_format
    return f"{stream}-{number:04d}.{extension}"


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    frame.to_csv(path, index=False, lineterminator="\n")


def _timestamps_us(values: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(values, unit="us", utc=True)).dt.as_unit("us")


def _assemble_files(sink: _Sink, file_format: str, seed: int) -> list[tuple[str, str, list[int]]]:
    """Group copies into files (by received date, stream, time chunk) and add bad lines.

    Returns (path relative to events/, stream, copy indices in line order), sorted by path.
    """
    received = np.asarray(sink.copy_received, dtype=np.int64)
    stream_codes = np.asarray(sink.copy_stream, dtype=np.int64)
    chunk_ms = np.asarray([_STREAM_CHUNK_MS[name] for name in STREAMS], dtype=np.int64)
    days = received // MS_PER_DAY
    chunks = (received % MS_PER_DAY) // chunk_ms[stream_codes]
    sequence = np.arange(len(received))
    order = np.lexsort((sequence, received, chunks, stream_codes, days))
    sorted_keys = np.stack([days[order], stream_codes[order], chunks[order]])
    starts = np.flatnonzero(np.any(sorted_keys[:, 1:] != sorted_keys[:, :-1], axis=0)) + 1
    groups: dict[tuple[int, int], list[list[int]]] = defaultdict(list)
    for start, block in zip(
        [0, *starts.tolist()], np.split(order, starts) if len(order) else [], strict=False
    ):
        key = (int(sorted_keys[0, start]), int(sorted_keys[1, start]))
        groups[key].append(block.tolist())
    files: list[tuple[str, str, list[int]]] = []
    for (day, stream_code), chunk_lists in groups.items():
        stream = STREAMS[stream_code]
        folder = f"received_date={_day_string(day)}"
        for number, indices in enumerate(chunk_lists, start=1):
            files.append((f"{folder}/{_file_name(stream, number, file_format)}", stream, indices))
    files.sort(key=lambda item: item[0])
    _insert_bad_lines(sink, files, file_format, seed)
    return files
