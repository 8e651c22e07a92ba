"""Assembly: the notebook ``course grade`` runs, made from a submission and its lesson's record.

The student's cells are kept with their sources only (stored outputs are the
student's, not evidence; ``!pip`` lines made a ``pass``), every check cell the student
has is dropped, and each reference check cell (source and expected outputs) goes in
where the student's check of that exercise was, else after the cell it follows in the
lesson. Each reference check calls a sealed copy of the lesson's checks (``sealed``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import nbformat

from .markers import MarkerIndex
from .record import Anchor, LessonRecord

INSTALL_LINE = re.compile(r"^(?P<indent>\s*)[!%]\s*(pip3?|conda|mamba|uv\s+pip|python3?\s+-m\s+pip)\b.*$", re.MULTILINE)


def without_installs(source: str) -> str:
    """Return ``source`` with each ``!pip``/``%pip`` (or conda) line made a ``pass``: the grader's environment is fixed.

    A Colab notebook often starts with ``!pip install ...``; run by the grader it would
    change the packages every later notebook is graded with. Other shell lines
    (``!echo``, ``!ls``) run as they are.
    """
    return INSTALL_LINE.sub(lambda m: f"{m['indent']}pass  # course grade skipped: {m[0].strip()[:80]}", source)


def _clean_copy(cell):
    """Return a student cell with its source only (stored outputs are the student's, not evidence)."""
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    if cell.get("cell_type") == "code":
        return nbformat.v4.new_code_cell(without_installs(source))
    if cell.get("cell_type") == "markdown":
        return nbformat.v4.new_markdown_cell(source)
    return nbformat.v4.new_raw_cell(source)


def sealed_source(source: str, module: str, exercise: str) -> str:
    """Return a check cell's source that calls a fresh, sealed copy of ``module`` (see ``sealed``), not ``checks``."""
    first, _, rest = source.partition("\n")
    return (f"{first}\n"
            f"checks = __import__('course_utils.instructor.sealed', fromlist=['open_checks']).open_checks("
            f"{module!r}, {exercise!r})\n"
            f"{rest}\n"
            f"checks.close()")


@dataclass
class GradedNotebook:
    """The notebook nbval runs, and where its exercises are, by code cell number (nbval's ``Cell N``)."""

    nb: nbformat.NotebookNode
    check_cells: dict[str, int]      # exercise -> code cell number of its reference check
    exercise_cells: dict[int, str]   # code cell number of a student's exercise cell -> its exercise


@dataclass
class _Kept:
    """The student's cells kept, and what the index says of them, by position among the kept."""

    cells: list
    exercise_at: dict[int, str]     # position -> exercise, of exercise cells
    check_after: dict[str, int]     # exercise -> position of the cell before the student's (last) check of it


def _keep_student_cells(student_nb, index: MarkerIndex, taken: set) -> _Kept:
    """Return the student's cells without their check cells, each a clean copy keeping its id where it is free."""
    kept = _Kept([], {}, {})
    for i, cell in enumerate(student_nb.cells):
        marker = index.marker(i)
        if marker is not None and marker.kind == "check":
            kept.check_after[marker.exercise] = len(kept.cells) - 1  # every check cell is replaced by the reference one
            continue
        copy = _clean_copy(cell)
        if isinstance(cell.get("id"), str) and cell["id"] not in taken:
            taken.add(cell["id"])
            copy.id = cell["id"]  # kept so reference checks can find the cell they follow
        if marker is not None:
            kept.exercise_at[len(kept.cells)] = marker.exercise
        kept.cells.append(copy)
    return kept


def _find_anchor(kept: _Kept, anchor: Anchor) -> int | None:
    """Return the position of the cell a reference check follows, or None."""
    cells = kept.cells
    if anchor.exercise:
        hits = [i for i, ex in kept.exercise_at.items() if ex == anchor.exercise]
        return max(hits) if hits else None  # after the last copy: its definition is the one that counts
    hits = [i for i, c in enumerate(cells) if anchor.id and c.get("id") == anchor.id]
    hits = hits or [i for i, c in enumerate(cells) if c.get("source", "") == anchor.source]
    return hits[-1] if hits else None


def assemble(student_nb, record: LessonRecord, index: MarkerIndex | None = None) -> GradedNotebook:
    """Return the student's cells with the record's reference checks in place (see the module's doc).

    Each reference check goes where the student's own check cell of that exercise was
    (after everything the student wrote for it, even an exercise cell split in two);
    without one, after the exercise cell (or the cell the check follows in the lesson).
    ``index`` is the submission's marker index, when the caller has it already.
    """
    index = index or MarkerIndex.of(student_nb.cells)
    kept = _keep_student_cells(student_nb, index, {check.cell.get("id") for check in record.checks})
    after: dict[int, list] = {}   # position of a kept cell -> reference checks that follow it, in lesson order
    check_of: dict[int, str] = {}
    last = len(kept.cells) - 1
    for check in record.checks:
        at = kept.check_after.get(check.exercise)
        if at is None:
            at = _find_anchor(kept, check.anchor)
        at = last if at is None else at
        cell = nbformat.from_dict(check.cell)
        if record.check_module:
            cell.source = sealed_source(cell.source, record.check_module, check.exercise)
        after.setdefault(at, []).append(cell)
        check_of[id(cell)] = check.exercise
        last = at
    exercise_of = {id(c): kept.exercise_at[i] for i, c in enumerate(kept.cells) if i in kept.exercise_at}
    merged = after.get(-1, [])
    for i, cell in enumerate(kept.cells):
        merged += [cell, *after.get(i, [])]
    nb = nbformat.v4.new_notebook(cells=merged)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    code = [c for c in merged if c.cell_type == "code"]
    return GradedNotebook(nb, {check_of[id(c)]: n for n, c in enumerate(code) if id(c) in check_of},
                          {n: exercise_of[id(c)] for n, c in enumerate(code) if id(c) in exercise_of})
