"""The raw event files under the events folder, as the DuckDB path sees them."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet", ".csv")
_RECEIVED_DATE = re.compile(r"received_date=(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class RawFile:
    """One raw events file: the columns every line of it carries, and its identity."""

    file_path: str
    file_name: str
    file_format: str
    received_date: date | None
    size_bytes: int

    def checksum(self) -> str:
        """SHA-256 of the file's bytes (hex)."""
        digest = hashlib.sha256()
        with open(self.file_path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()


def file_format(path: str) -> str:
    """jsonl (also .jsonl.gz), parquet or csv, from the extension."""
    if path.endswith(".parquet"):
        return "parquet"
    if path.endswith(".csv"):
        return "csv"
    return "jsonl"


def received_date(path: str) -> date | None:
    """The date of the path's received_date=YYYY-MM-DD folder; None when absent or invalid."""
    match = _RECEIVED_DATE.search(path)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def raw_files(root: Path) -> list[RawFile]:
    """Every raw events file under the folder (recursively), sorted by path.

    ``file_name`` is the path relative to the folder, as the DuckDB path's
    ``substr(file_path, len(root) + 2)``.
    """
    root_text = str(root).rstrip("/") or "/"
    found: list[RawFile] = []
    for folder, _, names in os.walk(root_text):
        for name in names:
            if not name.endswith(SUFFIXES):
                continue
            path = os.path.join(folder, name)
            found.append(
                RawFile(
                    file_path=path,
                    file_name=path[len(root_text) + 1 :],
                    file_format=file_format(path),
                    received_date=received_date(path),
                    size_bytes=os.path.getsize(path),
                )
            )
    return sorted(found, key=lambda raw: raw.file_path)
