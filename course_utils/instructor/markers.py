"""Markers that the build and grading tools key on, and the solution-region transforms.

A lesson source marks cells by a comment on their first line (cell ids are not
trusted: Colab and students add, drop, reorder and duplicate cells):

- ``# EXERCISE 04.2``            an exercise cell (lesson 04, exercise 2);
- ``# CHECK 04.2 (2 points)``    the check cell of that exercise;
- ``### BEGIN SOLUTION`` ... ``### END SOLUTION``   lines inside an exercise cell that
  ``course build`` replaces with a stub in ``exercises/`` and keeps in ``solutions/``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

EXERCISE_RE = re.compile(r"^#\s*EXERCISE\s+(\d{2})\.(\d+)\s*$")
CHECK_RE = re.compile(r"^#\s*CHECK\s+(\d{2})\.(\d+)\s+\((\d+)\s+points?\)\s*$")
BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB_LINE = "# YOUR CODE HERE"
EXERCISE_TAG, CHECK_TAG, NBVAL_CHECK_TAG = "exercise", "check", "nbval-check-output"


class MarkerError(ValueError):
    """A lesson source breaks a marker rule; the message names the cell."""


@dataclass(frozen=True)
class CellMarker:
    """What a cell's first line says it is: kind "exercise" or "check", its id and points."""

    kind: str
    exercise: str  # "04.2"
    points: int = 0

    @property
    def lesson(self) -> str:
        return self.exercise.split(".")[0]


def first_line(source: str) -> str:
    """Return the first non-empty line of a cell's source, stripped."""
    for line in source.splitlines():
        if line.strip():
            return line.strip()
    return ""


def cell_marker(cell) -> CellMarker | None:
    """Return the marker of a code cell, or None for an ordinary cell."""
    if cell.get("cell_type") != "code":
        return None
    line = first_line(cell.get("source", ""))
    if m := EXERCISE_RE.match(line):
        return CellMarker("exercise", f"{m[1]}.{m[2]}")
    if m := CHECK_RE.match(line):
        return CellMarker("check", f"{m[1]}.{m[2]}", int(m[3]))
    return None


# What a student may do to a marker line without losing the exercise: write it in
# another case or spacing, or put lines (an import, a comment) above it.
LOOSE_EXERCISE_RE = re.compile(r"^\s*#\s*exercise\s*(\d{2})\s*\.\s*(\d+)\s*:?\s*$", re.IGNORECASE)
LOOSE_CHECK_RE = re.compile(r"^\s*#\s*check\s*(\d{2})\s*\.\s*(\d+)\b", re.IGNORECASE)


def found_marker(cell) -> CellMarker | None:
    """Return the marker of a cell in a student's notebook, found as leniently as is safe.

    The lesson's own form on the first line counts first; else a line anywhere in the
    cell that is only the marker, in any case and spacing (``#exercise 04.2``, an import
    above ``# EXERCISE 04.2``). ``course build`` keeps the strict ``cell_marker``.
    """
    strict = cell_marker(cell)
    if strict is not None or cell.get("cell_type") != "code":
        return strict
    lines = cell.get("source", "")
    lines = ("".join(lines) if isinstance(lines, list) else str(lines)).splitlines()
    for line in lines:
        if m := LOOSE_EXERCISE_RE.match(line):
            return CellMarker("exercise", f"{m[1]}.{m[2]}")
    for line in lines[:1] + [l for l in lines[1:] if l.lstrip().startswith("#")]:
        if m := LOOSE_CHECK_RE.match(line):
            return CellMarker("check", f"{m[1]}.{m[2]}")
    return None


def solution_regions(source: str, where: str = "cell") -> list[tuple[int, int]]:
    """Return ``(begin_line, end_line)`` index pairs of the solution regions in ``source``.

    Raises:
        MarkerError: on a nested, unclosed or unopened region, naming ``where``.
    """
    regions, begin = [], None
    for i, line in enumerate(source.splitlines()):
        stripped = line.strip()
        if stripped == BEGIN:
            if begin is not None:
                raise MarkerError(f"{where}: nested '{BEGIN}' at line {i + 1} (the one at line {begin + 1} is not closed)")
            begin = i
        elif stripped == END:
            if begin is None:
                raise MarkerError(f"{where}: '{END}' at line {i + 1} has no '{BEGIN}' before it")
            regions.append((begin, i))
            begin = None
    if begin is not None:
        raise MarkerError(f"{where}: '{BEGIN}' at line {begin + 1} is never closed with '{END}'")
    return regions


def stub_source(source: str, exercise: str) -> str:
    """Return ``source`` with each solution region replaced by a stub that raises."""
    lines = source.splitlines()
    out, last = [], 0
    for begin, end in solution_regions(source):
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        out += lines[last:begin]
        out += [f"{indent}{STUB_LINE}", f'{indent}raise NotImplementedError("Exercise {exercise}: write your code here")']
        last = end + 1
    out += lines[last:]
    return "\n".join(out)


def solution_source(source: str) -> str:
    """Return ``source`` with the region marker lines removed and the solutions kept."""
    solution_regions(source)  # validates
    return "\n".join(l for l in source.splitlines() if l.strip() not in (BEGIN, END))


def is_stub(source: str, exercise: str) -> bool:
    """Return whether an exercise cell still holds the untouched stub of ``exercise``."""
    return f'raise NotImplementedError("Exercise {exercise}: write your code here")' in source


@dataclass(frozen=True)
class MarkerIndex:
    """The markers of a student's cells, found once (``found_marker``): one per cell, None for an ordinary cell."""

    markers: tuple

    @classmethod
    def of(cls, cells) -> MarkerIndex:
        """Return the index of ``cells`` (a notebook's ``cells``)."""
        return cls(tuple(found_marker(c) for c in cells))

    def marker(self, index: int) -> CellMarker | None:
        """Return the marker of cell ``index``, or None."""
        return self.markers[index]

    def _last(self, kind: str) -> dict[str, int]:
        return {m.exercise: i for i, m in enumerate(self.markers) if m is not None and m.kind == kind}

    def exercise_cells(self) -> dict[str, int]:
        """Return ``{exercise: index of its last exercise cell}`` (the last copy's definition is the one that counts)."""
        return self._last("exercise")

    def check_cells(self) -> dict[str, int]:
        """Return ``{exercise: index of its last check cell}``."""
        return self._last("check")
