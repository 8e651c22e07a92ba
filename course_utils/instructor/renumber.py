"""The course's one renumbering, and how to carry a notebook numbered the old way over to the new numbers.

On 2026-12-06 a lesson on MDPs and dynamic programming became lesson 02 and the debugging
lesson moved after PPO, so lessons 02-07 became 03-08 and lesson 08 became 10 (01 and 09
kept their numbers). A student's notebook from before says, for example, ``# EXERCISE 02.3``
and ``from course_utils.checks import lesson02 as checks`` of what is now lesson 03.

``course grade`` tells such a notebook from the new lesson of the same number by its
content: the check functions its cells call are another lesson's (``moved_lesson``).
``course renumber`` rewrites it to the new numbers (``renumber_notebook``): markers,
cell ids, the course metadata, the lesson modules it imports, and its file name.
"""
from __future__ import annotations

import re
from pathlib import Path

# old number -> new number, for every lesson whose number changed
OLD_TO_NEW = {"02": "03", "03": "04", "04": "05", "05": "06", "06": "07", "07": "08", "08": "10"}
RENUMBERED_ON = "2026-12-06"

CHECK_CALL = re.compile(r"\bchecks\.(check_\w+)\s*\(")
_MARKER = re.compile(r"^(\s*#\s*(?:EXERCISE|CHECK)\s+)(\d\d)(\.\d+)", re.I | re.M)
_MODULE = re.compile(r"\b(lessons?[./]lesson|checks import lesson|lessons import lesson|checks\.lesson)(\d\d)\b")
_CELL_ID = re.compile(r"^l(\d\d)-")
_FILE = re.compile(r"^((?:copy of\s+)*)(\d\d)(_)", re.I)


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def check_calls(cells) -> set[str]:
    """Return the names of the check functions (``checks.check_...``) the code cells call."""
    return {name for cell in cells if cell.get("cell_type") == "code" for name in CHECK_CALL.findall(_source(cell))}


def moved_lesson(cells, claimed: str, calls_by_lesson: dict[str, set[str]]) -> str | None:
    """Return the lesson whose checks ``cells`` call, when it is not ``claimed`` and the course renumbered it; else None.

    ``calls_by_lesson`` maps each lesson of the course to the check functions its check cells call
    (some, like ``check_solved``, are several lessons'). The notebook's lesson by content is the
    one that shares the most calls with it. It counts as another lesson's only when it shares
    none with ``claimed`` and the renumbering moved that lesson from ``claimed`` (so a student's
    stray call cannot move a notebook).
    """
    calls = check_calls(cells)
    if not calls or calls & calls_by_lesson.get(claimed, set()):
        return None
    shared = {lesson: len(calls & theirs) for lesson, theirs in calls_by_lesson.items()}
    best = max(shared.values(), default=0)
    owners = [lesson for lesson, n in shared.items() if n == best and n > 0]
    if len(owners) == 1 and OLD_TO_NEW.get(claimed) == owners[0]:
        return owners[0]
    return None


def renumbered_text(text: str, old: str, new: str) -> str:
    """Return notebook text with lesson ``old``'s markers and module names turned into lesson ``new``'s."""
    text = _MARKER.sub(lambda m: m[1] + (new if m[2] == old else m[2]) + m[3], text)
    return _MODULE.sub(lambda m: m[1] + OLD_TO_NEW.get(m[2], m[2]), text)


def renumber_notebook(nb, old: str) -> str:
    """Rewrite ``nb`` (an nbformat notebook of old lesson ``old``) in place to the new numbers; return the new number.

    Raises ``ValueError`` when the renumbering did not move lesson ``old``.
    """
    if old not in OLD_TO_NEW:
        raise ValueError(f"lesson {old} kept its number in the renumbering of {RENUMBERED_ON}; the lessons that "
                         f"moved are {', '.join(f'{a} (now {b})' for a, b in OLD_TO_NEW.items())}")
    new = OLD_TO_NEW[old]
    for cell in nb.cells:
        cell.source = renumbered_text(_source(cell), old, new)
        if isinstance(cell.get("id"), str):
            cell["id"] = _CELL_ID.sub(lambda m: f"l{new if m[1] == old else m[1]}-", cell["id"])
        course = cell.get("metadata", {}).get("course")
        if isinstance(course, dict) and str(course.get("exercise", "")).startswith(old + "."):
            course["exercise"] = new + course["exercise"][2:]
    course = nb.metadata.get("course")
    if isinstance(course, dict) and course.get("lesson") == old:
        course["lesson"] = new
    return new


def renumber_file(path: Path, out_dir: Path | None = None) -> Path:
    """Write the renumbered copy of the notebook at ``path`` (file name renumbered too); return its path.

    A file already there is never written over: the copy then takes ``-renumbered`` (``-renumbered-2`` ...).

    The lesson is the one the file name starts with, else the one its markers name.
    Raises ``ValueError`` with what to do when it cannot tell or the lesson kept its number.
    """
    import nbformat

    from .markers import MarkerIndex

    nb = nbformat.read(path, as_version=4)
    by_name = _FILE.match(path.name)
    lessons = {m.lesson for m in MarkerIndex.of(nb.cells).markers if m is not None}
    old = by_name[2] if by_name else (lessons.pop() if len(lessons) == 1 else None)
    if old is None:
        raise ValueError(f"{path}: cannot tell its lesson: the file name does not start with a lesson number and its "
                         "exercise markers name none or several lessons")
    new = renumber_notebook(nb, old)
    name = _FILE.sub(lambda m: m[1] + new + m[3], path.name) if by_name else path.name
    target = (out_dir or path.parent) / name
    if target.exists():   # the original itself, or a file of the same name: never written over
        stem, n = target.stem + "-renumbered", 1
        while (target := target.with_name(f"{stem}{'' if n == 1 else f'-{n}'}.ipynb")).exists():
            n += 1
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target
