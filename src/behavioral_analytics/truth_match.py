"""Does a generator's truth folder describe the data set a warehouse was built from?

Rule: the fingerprint of a data set is its files and their line counts. The truth's
``summary.json`` lists every file it wrote (``lines_per_file``); the warehouse lists the
files it read with their lines (``fct_raw_file_reconciliation``). They match
when both hold the same files with the same line counts; otherwise ``TruthMismatch``
says how many files differ, so ``behavior score`` refuses instead of printing scores of
0 / 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from behavioral_analytics import relations


class TruthMismatch(ValueError):
    """The truth folder is not the truth of the warehouse's data."""


def truth_files(truth_dir: Path) -> dict[str, int]:
    summary = truth_dir / "summary.json"
    if not summary.is_file():
        raise TruthMismatch(
            f"{summary} does not exist: {truth_dir} is not a truth folder written by "
            "`behavior generate` (pass --truth <sample>/truth)"
        )
    return {
        name: int(lines)
        for name, lines in json.loads(summary.read_text())["lines_per_file"].items()
    }


def warehouse_files(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        layout = relations.layout(connection)
        rows = connection.execute(
            f"select file_name, lines_read from {layout.marts}.fct_raw_file_reconciliation"
        ).fetchall()
    return {name: int(lines or 0) for name, lines in rows}


def check_truth_matches(warehouse: Path, truth_dir: Path) -> None:
    """Raise ``TruthMismatch`` unless the truth describes the warehouse's files."""
    truth, built = truth_files(truth_dir), warehouse_files(warehouse)
    if truth == built:
        return
    common = set(truth) & set(built)
    differing = sum(1 for name in common if truth[name] != built[name])
    raise TruthMismatch(
        f"the truth in {truth_dir} is not the truth of {warehouse}: it lists {len(truth)} "
        f"files, the warehouse read {len(built)} ({len(common)} in common, {differing} of "
        "them with other line counts). Score the warehouse built from that sample "
        "(behavior demo rebuilds it) or pass the --truth folder written with its events."
    )
