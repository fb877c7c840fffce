"""Writing event files: grouping received copies into files by received date,
stream and time chunk, and writing JSONL, Parquet or CSV one received date at a
time from the sink's spool, with the planned bad lines inserted.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from behavioral_analytics.generator.common import (
    MS_PER_DAY,
    ROW_COLUMNS,
    ROW_NULL,
    _day_string,
    _encode,
)
from behavioral_analytics.generator.emission import _line_from_row
from behavioral_analytics.generator.faults import _BAD_KINDS, _bad_line_text, _plan_bad_lines
from behavioral_analytics.generator.sink import _Sink
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

_OUTPUT_COLUMNS = ROW_COLUMNS
_JSON_COLUMNS = ("properties", "context")
_ROW_SCHEMA = pa.schema(
    [(name, pa.int64() if name == "schema_version" else pa.string()) for name in ROW_COLUMNS]
)


def _row_values(line: str) -> list[Any]:
    obj = json.loads(line)
    values = []
    for column in _OUTPUT_COLUMNS:
        value = obj.get(column)
        if column in _JSON_COLUMNS and value is not None:
            value = _encode(value)
        values.append(value)
    return values


def _row_from_text(text: str) -> list[Any]:
    """A row the emitter wrote (``ROW_COLUMNS`` tab-separated) or a bad line (JSON) as
    values."""
    if text.startswith("{"):
        return _row_values(text)
    values: list[Any] = [None if value == ROW_NULL else value for value in text.split("\t")]
    if values[10] is not None:
        values[10] = int(values[10])  # schema_version
    return values


def _write_event_file(
    path: Path, lines: list[str], file_format: str, stream: str, rows: bool = False
) -> None:
    """Write one JSONL or CSV event file from its ``lines`` (JSON; with ``rows``, the
    emitter's rows or JSON bad lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if file_format == "jsonl":
        payload = ("\n".join(lines) + "\n").encode("utf-8")
        if stream == "mobile":
            payload = gzip.compress(payload, compresslevel=1, mtime=0)
        path.write_bytes(payload)
        return
    values = [_row_from_text(line) if rows else _row_values(line) for line in lines]
    if file_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(_OUTPUT_COLUMNS)
        writer.writerows(["" if value is None else value for value in row] for row in values)
        path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
        return
    columns = list(zip(*values, strict=True)) if values else [() for _ in _OUTPUT_COLUMNS]
    _write_parquet(path, _rows_table(columns))


def _rows_table(columns: list) -> pa.Table:
    return pa.Table.from_arrays(
        [
            pa.array(list(values), type=_ROW_SCHEMA.field(i).type)
            for i, values in enumerate(columns)
        ],
        schema=_ROW_SCHEMA,
    )


def _write_parquet(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="snappy")


def _read_row_spool(path: Path) -> pa.Table:
    """A received date's rows spool (``ROW_COLUMNS`` tab-separated) as a table."""
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=list(ROW_COLUMNS), block_size=1 << 26),
        parse_options=pacsv.ParseOptions(
            delimiter="\t", quote_char=False, double_quote=False, escape_char=False
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=_ROW_SCHEMA, null_values=[ROW_NULL], strings_can_be_null=True
        ),
    )
    path.unlink()
    return table


def _template_line(
    day_lines: list[str] | None, day_rows: list[str] | pa.Table | None, position: int
) -> str:
    """The JSON line of the copy at ``position`` of a day's spool (rebuilt from its row
    for Parquet/CSV files)."""
    if day_lines is not None:
        return day_lines[position]
    if isinstance(day_rows, pa.Table):
        return _line_from_row(day_rows.slice(position, 1).to_pylist()[0])
    assert day_rows is not None
    return _line_from_row(dict(zip(ROW_COLUMNS, _row_from_text(day_rows[position]), strict=True)))


def _write_parquet_rows(
    path: Path,
    day_rows: pa.Table,
    spool_positions: np.ndarray,
    is_bad: np.ndarray,
    texts: list[tuple[int, str, str]],
) -> None:
    """One Parquet event file: the day's spooled rows at ``spool_positions``, bad lines
    (parsed) where ``is_bad``."""
    order = np.empty(len(is_bad), dtype=np.int64)
    order[~is_bad] = spool_positions
    source = day_rows
    if texts:
        order[is_bad] = np.arange(day_rows.num_rows, day_rows.num_rows + len(texts))
        bad_values = [_row_values(text) for _, _, text in texts]
        source = pa.concat_tables([day_rows, _rows_table(list(zip(*bad_values, strict=True)))])
    _write_parquet(path, source.take(order).combine_chunks())


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


class EventFile(NamedTuple):
    path: str  # relative to events/
    stream: str
    day: int
    copies: np.ndarray  # copy numbers in line order (bad lines not included)


@dataclass
class FileLayout:
    """Where every line went: per copy its file number and line number; the bad lines."""

    paths: list[str]
    copy_file: np.ndarray | None
    copy_line: np.ndarray | None
    lines_per_file: list[int]
    bad_per_file: list[int]
    # (file number, line number, reason, raw line), by file and line
    bad_rows: list[tuple[int, int, str, str]]


def _assemble_files(copies: dict[str, np.ndarray], file_format: str) -> list[EventFile]:
    """Group copies into files (by received date, stream, time chunk), sorted by path.

    Within a file, lines are in order of receipt, ties in order of emission.
    """
    received = copies["received"]
    stream_codes = copies["stream"].astype(np.int64)
    chunk_ms = np.asarray([_STREAM_CHUNK_MS[name] for name in STREAMS], dtype=np.int64)
    days = received // MS_PER_DAY
    within_day = received - days * MS_PER_DAY
    group = (days * len(STREAMS) + stream_codes) * 4 + within_day // chunk_ms[stream_codes]
    del stream_codes
    # One stable sort on (day, stream, chunk, time of day): 2**27 ms > one day.
    order = np.argsort((group << 27) | within_day, kind="stable")
    del within_day
    sorted_group = group[order]
    del group
    starts = np.flatnonzero(sorted_group[1:] != sorted_group[:-1]) + 1
    numbers: dict[tuple[int, int], int] = defaultdict(int)
    files: list[EventFile] = []
    for start, block in zip(
        [0, *starts.tolist()], np.split(order, starts) if len(order) else [], strict=False
    ):
        day, stream_code = divmod(int(sorted_group[start]) // 4, len(STREAMS))
        stream = STREAMS[stream_code]
        numbers[(day, stream_code)] += 1
        name = _file_name(stream, numbers[(day, stream_code)], file_format)
        files.append(EventFile(f"received_date={_day_string(day)}/{name}", stream, day, block))
    files.sort(key=lambda item: item.path)
    return files


def _write_event_files(
    sink: _Sink,
    files: list[EventFile],
    events_dir: Path,
    file_format: str,
    seed: int,
) -> FileLayout:
    """Write every event file, one received date at a time, bad lines inserted."""
    bad_lines, placed = _plan_bad_lines([len(f.copies) for f in files], file_format, seed)
    reasons = dict(_BAD_KINDS)
    copy_count = sum(len(f.copies) for f in files)
    copy_file = np.zeros(copy_count, dtype=np.int32)
    copy_line = np.zeros(copy_count, dtype=np.int32)
    # Line numbers as a person reads the file: a CSV's header is line 1.
    first_line = 2 if file_format == "csv" else 1
    bad_rows: list[tuple[int, int, str, str]] = []
    numbers_by_day: dict[int, list[int]] = defaultdict(list)
    for number, event_file in enumerate(files):
        numbers_by_day[event_file.day].append(number)
    for day, file_numbers in sorted(numbers_by_day.items()):
        day_rows: list[str] | pa.Table | None = None
        if file_format == "parquet":
            day_rows = _read_row_spool(sink.spool_path(day))
            day_lines = None
        else:
            day_lines = sink.day_lines(day)
            if file_format == "csv":
                day_rows, day_lines = day_lines, None
        day_copies = np.sort(np.concatenate([files[number].copies for number in file_numbers]))
        for number in file_numbers:
            event_file = files[number]
            spool_positions = np.searchsorted(day_copies, event_file.copies)
            bad = [
                (
                    position,
                    bad_lines[n],
                    _template_line(
                        day_lines, day_rows, int(spool_positions[bad_lines[n].template])
                    ),
                )
                for position, n in placed[number]
            ]
            texts = [
                (position, line.kind, _bad_line_text(line, template))
                for position, line, template in bad
            ]
            is_bad = np.zeros(len(spool_positions) + len(texts), dtype=bool)
            for position, kind, text in texts:
                is_bad[position] = True
                bad_rows.append((number, position + first_line, reasons[kind], text))
            copy_file[event_file.copies] = number
            copy_line[event_file.copies] = np.flatnonzero(~is_bad) + first_line
            path = events_dir / event_file.path
            if isinstance(day_rows, pa.Table):
                _write_parquet_rows(path, day_rows, spool_positions, is_bad, texts)
                continue
            source = day_rows if day_lines is None else day_lines
            lines = [source[position] for position in spool_positions.tolist()]
            for position, _, text in texts:
                lines.insert(position, text)
            _write_event_file(path, lines, file_format, event_file.stream, day_rows is not None)
        del day_lines, day_rows, day_copies
    return FileLayout(
        paths=[f.path for f in files],
        copy_file=copy_file,
        copy_line=copy_line,
        lines_per_file=[len(f.copies) + len(p) for f, p in zip(files, placed, strict=True)],
        bad_per_file=[len(p) for p in placed],
        bad_rows=bad_rows,
    )
