"""The generator streams through spool files (issue #11) and still writes what it wrote
when it held every event in memory.

The digests were taken from the output of the in-memory generator (commit ba298dc).
Parquet files are digested by content (their bytes name the pyarrow version).
Small flush and batch sizes make the run use many event spool flushes, truth
batches and row groups, as a 10M run does.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from behavioral_analytics.generator import generate, sink, truth_events

SMALL = {"persons": 30, "days": 5, "seed": 7, "progress": False}
# seed 7, 30 persons, 5 days, from the in-memory generator (ba298dc)
PRE_STREAMING_DIGESTS = {
    "jsonl": "5ec4d91807a4f2f76c2bfe064b5106069589eab760e1d3d68ce709ca9b5186cc",
    "parquet": "86ec155a81b322b835b1f6e4d972eb2336ec94a9093f75fa6368c1f5b6d19827",
}


def output_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            content = repr(pq.read_table(path).to_pylist()).encode()
        else:
            content = path.read_bytes()
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()


@pytest.mark.parametrize("file_format", sorted(PRE_STREAMING_DIGESTS))
def test_streamed_output_equals_the_in_memory_generator(tmp_path, monkeypatch, file_format):
    monkeypatch.setattr(sink, "_FLUSH_EVENTS", 97)
    monkeypatch.setattr(truth_events, "_BATCH_ROWS", 150)
    killed = tmp_path / ".spool-killed"  # what a killed run leaves behind
    killed.mkdir()
    (killed / "2026-01-05.lines").write_text("{}\n")
    generate(tmp_path, file_format=file_format, **SMALL)
    assert not list(tmp_path.glob(".spool-*")), "this run's spool and a killed run's are removed"
    assert output_digest(tmp_path) == PRE_STREAMING_DIGESTS[file_format]


def test_truth_events_in_row_groups_equal_one_parquet_write(tmp_path, monkeypatch):
    monkeypatch.setattr(truth_events, "ROW_GROUP_SIZE", 400)
    generate(tmp_path / "out", persons=12, days=3, seed=5, progress=False)
    written = tmp_path / "out" / "truth" / "events.parquet"
    table = pq.read_table(written)
    assert pq.ParquetFile(written).num_row_groups == -(-table.num_rows // 400) > 1
    one_write = tmp_path / "one_write.parquet"
    pq.write_table(table.combine_chunks(), one_write, row_group_size=400, compression="snappy")
    assert written.read_bytes() == one_write.read_bytes()
