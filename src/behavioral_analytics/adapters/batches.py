"""Batches of converted files: the next free number, and the same input converted once.

Rules:

- A converter writes ``<out_dir>/received_date=*/<prefix>-NNNN.jsonl`` (``NNNN`` = the
  batch). ``next_batch`` is one more than the highest batch of that prefix already in
  the folder (1 in an empty folder), so a second input adds files beside the first ones
  instead of failing on a file that exists.
- ``<out_dir>/_conversions.json`` records each converted input by the SHA-256 of its
  bytes: source format, input path, batch, lines written. Converting an input whose
  digest is recorded for the same format adds nothing (``already_converted``). The file
  is JSON, not ``.jsonl``: the warehouse does not read it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

MANIFEST = "_conversions.json"


def file_digest(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def next_batch(out_dir: Path, prefix: str) -> int:
    """One more than the highest ``<prefix>-NNNN.jsonl`` batch under ``out_dir``."""
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d{{4,}})\.jsonl$")
    numbers = [
        int(match.group(1))
        for path in out_dir.glob("received_date=*/*.jsonl")
        if (match := pattern.match(path.name))
    ]
    return max(numbers, default=0) + 1


def _read(out_dir: Path) -> dict:
    path = out_dir / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def already_converted(out_dir: Path, source_format: str, digest: str) -> dict | None:
    """The record of this input if it was converted into ``out_dir`` before, else None."""
    record = _read(out_dir).get(digest)
    return record if record and record.get("source_format") == source_format else None


def record_conversion(
    out_dir: Path, source_format: str, digest: str, input_path: Path, batch: int, lines: int
) -> None:
    """Add this input to the folder's manifest (written whole, then renamed into place)."""
    manifest = _read(out_dir)
    manifest[digest] = {
        "source_format": source_format,
        "input": str(input_path),
        "batch": batch,
        "lines_written": lines,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    temporary = out_dir / f"{MANIFEST}.tmp"
    temporary.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(out_dir / MANIFEST)
