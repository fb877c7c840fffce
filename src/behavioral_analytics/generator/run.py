"""The generator's entry point: world, simulation (spooled to disk), files, truth."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from behavioral_analytics.contract_rules import MAX_SESSION_MINUTES, SESSION_TIMEOUT_MINUTES
from behavioral_analytics.generator.common import FILE_FORMATS, GENERATOR_VERSION
from behavioral_analytics.generator.emission import _Emitter
from behavioral_analytics.generator.files import _assemble_files, _write_event_files
from behavioral_analytics.generator.simulation import _simulate_all, _Simulator
from behavioral_analytics.generator.sink import _Sink
from behavioral_analytics.generator.truth import _write_truth
from behavioral_analytics.generator.world import _World

# --------------------------------------------------------------------------- main entry


def generate(
    out_dir: Path,
    persons: int = 200,
    days: int = 14,
    seed: int = 42,
    start_date: date = date(2026, 1, 5),
    file_format: str = "jsonl",
    progress: bool = True,
    timeout_minutes: float = SESSION_TIMEOUT_MINUTES,
    max_session_minutes: float | None = MAX_SESSION_MINUTES,
) -> dict[str, Any]:
    """Write synthetic raw events to ``out_dir/events`` and their truth to ``out_dir/truth``.

    Deterministic for a given ``seed`` (and parameters). Existing ``events/`` and
    ``truth/`` folders under ``out_dir`` are replaced. Returns the summary that is
    also written to ``truth/summary.json``.
    """
    if persons < 1 or days < 1:
        raise ValueError("persons and days must be at least 1")
    if file_format not in FILE_FORMATS:
        raise ValueError(f"file_format must be one of {FILE_FORMATS}, got {file_format!r}")
    out_dir = Path(out_dir)
    events_dir = out_dir / "events"
    truth_dir = out_dir / "truth"
    # a killed run leaves its spool folder behind: the next run removes it
    for folder in (events_dir, truth_dir, *out_dir.glob(".spool-*")):
        if folder.exists():
            shutil.rmtree(folder)
    events_dir.mkdir(parents=True)
    truth_dir.mkdir(parents=True)

    world = _World(persons, days, seed, start_date)
    spool_dir = Path(tempfile.mkdtemp(prefix=".spool-", dir=out_dir))
    try:
        sink = _Sink(spool_dir)
        simulator = _Simulator(world, _Emitter(world, sink, rows=file_format != "jsonl"))
        _simulate_all(world, simulator, progress)
        sink.close()
        files = _assemble_files(sink.copy_columns(), file_format)
        layout = _write_event_files(sink, files, events_dir, file_format, seed)
        del files
        summary = _write_truth(world, sink, layout, truth_dir, timeout_minutes, max_session_minutes)
    finally:
        shutil.rmtree(spool_dir, ignore_errors=True)
    summary["parameters"] = {
        "persons": persons,
        "days": days,
        "seed": seed,
        "start_date": start_date.isoformat(),
        "file_format": file_format,
        "timeout_minutes": timeout_minutes,
        "max_session_minutes": max_session_minutes,
        "generator_version": GENERATOR_VERSION,
    }
    (truth_dir / "summary.json").write_text(
        json.dumps(summary, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    return summary
