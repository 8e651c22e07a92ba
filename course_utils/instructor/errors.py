"""The build's errors, and how they name a cell."""
from __future__ import annotations

from pathlib import Path

from . import markers


class BuildError(Exception):
    """The build cannot go on; the message names the file and the cell."""


class StaleError(BuildError):
    """``--check`` found a solution that is missing or was built from other inputs."""


def where(path: Path, index: int, cell) -> str:
    """Return how an error names a cell: file, index and first line."""
    return f"{path.name} cell {index} ({markers.first_line(cell.get('source', ''))[:60]!r})"
