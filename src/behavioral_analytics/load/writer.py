"""What a warehouse must do for `behavior load`: the engine-specific part.

The loader (``loader.py``) is the same for every engine; an engine gives a
``RawWriter``. PostgreSQL's is ``postgres.PostgresWriter`` (COPY); Spark's
would write the same tables with its own reader and writer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from behavioral_analytics.load.files import RawFile
from behavioral_analytics.load.lines import Line


@dataclass(frozen=True)
class LoadedFile:
    """A file's loaded mark: what it was when its lines were written."""

    file_name: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class UnreadableFile:
    raw: RawFile
    error: str


class RawWriter(Protocol):
    def prepare(self) -> None:
        """Create the raw schema and tables when missing."""

    def loaded_files(self) -> dict[str, LoadedFile]:
        """The files already loaded, by file name."""

    def write_file(self, raw: RawFile, sha256: str, lines: Iterable[Line]) -> int:
        """Write the file's lines and its loaded mark atomically (both or neither);
        returns the number of lines written."""

    def replace_unreadable(self, files: list[UnreadableFile]) -> None:
        """Make the unreadable-files table list exactly these files."""

    def close(self) -> None: ...
