"""The course's one renumbering, and how to carry a notebook numbered the old way over to the new numbers.

On 2026-12-06 a lesson on MDPs and dynamic programming became lesson 02 and the debugging
lesson moved after PPO, so lessons 02-07 became 03-08 and lesson 08 became 10 (01 and 09
kept their numbers). A student's notebook from before says, for example, ``# EXERCISE 02.3``
and ``from course_utils.checks import lesson02 as checks`` of what is now lesson 03.

``course grade`` tells such a notebook from the new lesson of the same number by its
content: the check functions its cells call are another lesson's (``moved_lesson``).
``course renumber`` rewrites it to the new numbers (``renumber_notebook``): markers,
cell ids, the course metadata, the lesson modules it imports, the debugging kit's names
(``cu.PROBES`` became ``probes.PROBES``), and its file name. A lesson 09 notebook kept its
number but imported lessons 07 and 03 by their old numbers; ``course renumber`` renames those.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from . import record as records
from .intake import COPY_OF, NAME_LESSON

# old number -> new number, for every lesson whose number changed
OLD_TO_NEW = {"02": "03", "03": "04", "04": "05", "05": "06", "06": "07", "07": "08", "08": "10"}
RENUMBERED_ON = "2026-12-06"

CHECK_CALL = re.compile(r"\bchecks\.(check_\w+)\s*\(")
_MARKER = re.compile(r"^(\s*#\s*(?:EXERCISE|CHECK)\s+)(\d\d)(\.\d+)", re.I | re.M)
_MODULE = re.compile(r"\b(lessons?[./]lesson|checks import lesson|lessons import lesson|checks\.lesson)(\d\d)\b")
_CELL_ID = re.compile(r"^l(\d\d)-")


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def check_calls(cells) -> set[str]:
    """Return the names of the check functions (``checks.check_...``) the code cells call."""
    return {name for cell in cells if cell.get("cell_type") == "code" for name in CHECK_CALL.findall(_source(cell))}


def check_calls_by_lesson(reference: Path) -> dict[str, set[str]]:
    """Return, for each lesson with a record in ``reference``, the check functions its check cells call."""
    paths = sorted(Path(reference).glob("[0-9][0-9]_*.json"))
    return _check_calls(tuple((str(p), p.stat().st_mtime_ns) for p in paths))


@functools.lru_cache(maxsize=4)
def _check_calls(records_seen: tuple) -> dict[str, set[str]]:
    """``check_calls_by_lesson`` of the records (path, modification time): read once per class, not per notebook."""
    found = {}
    for path, _ in records_seen:
        record = records.LessonRecord.from_json(Path(path).read_text())
        found[record.lesson] = check_calls(check.cell for check in record.checks)
    return found


def moved_lesson(cells, claimed: str, calls_by_lesson: dict[str, set[str]]) -> str | None:
    """Return the lesson whose checks ``cells`` call, when it is not ``claimed`` and the course renumbered it; else None.

    ``calls_by_lesson`` maps each lesson of the course to the check functions its check cells call
    (some, like ``check_solved``, are several lessons': those say nothing and are left out). The
    notebook's lesson by content is the one that shares the most of the other calls with it. It
    counts as another lesson's only when it shares none with ``claimed`` and the renumbering moved
    that lesson from ``claimed`` (so a student's stray call cannot move a notebook).
    """
    seen: dict[str, int] = {}
    for theirs in calls_by_lesson.values():
        for name in theirs:
            seen[name] = seen.get(name, 0) + 1
    calls = {name for name in check_calls(cells) if seen.get(name, 0) <= 1}
    if not calls or calls & calls_by_lesson.get(claimed, set()):
        return None
    shared = {lesson: len(calls & theirs) for lesson, theirs in calls_by_lesson.items()}
    best = max(shared.values(), default=0)
    owners = [lesson for lesson, n in shared.items() if n == best and n > 0]
    if len(owners) == 1 and OLD_TO_NEW.get(claimed) == owners[0]:
        return owners[0]
    return None


# What left ``cu.`` in the renumbering: the debugging kit's names, now ``probes.NAME``
# (``from course_utils.debugging import probes``, which the old lesson's ``from course_utils import probes`` becomes).
KIT_NAMES = ("closed_form", "PROBES", "PROBE_GAMMA", "DQNProbeAgent", "ReinforceProbeAgent", "ActorCriticProbeAgent",
             "course_loops", "TrainedLoop")
_KIT = re.compile(r"\bcu\.(" + "|".join(KIT_NAMES) + r")\b")
_OLD_PROBES = re.compile(r"^(\s*)from course_utils import probes\b", re.M)


def renumbered_text(text: str, old: str, new: str) -> str:
    """Return notebook text with lesson ``old``'s markers, the lesson modules it names and the kit's names made new."""
    text = _MARKER.sub(lambda m: m[1] + (new if m[2] == old else m[2]) + m[3], text)
    text = _MODULE.sub(lambda m: m[1] + OLD_TO_NEW.get(m[2], m[2]), text)
    text = _OLD_PROBES.sub(lambda m: m[1] + "from course_utils.debugging import probes", text)
    return _KIT.sub(lambda m: "probes." + m[1], text)


def renumber_notebook(nb, old: str) -> str:
    """Rewrite ``nb`` (an nbformat notebook of old lesson ``old``) in place to the new numbers; return the new number.

    A lesson that kept its number (01, 09) keeps it; only the earlier lessons its code imports are renamed
    (lesson 09 used lesson 07's rollout and lesson 03's network builder, now 08's and 04's).
    """
    new = OLD_TO_NEW.get(old, old)
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


def renumber_file(path: Path, out_dir: Path | None = None, reference: Path | None = None,
                  root: Path | None = None) -> Path:
    """Write the renumbered copy of the notebook at ``path`` (file name renumbered too); return its path.

    The lesson is the number of the file name the student gave (after an LMS's prefix), else
    the one its markers name. A notebook already numbered the new way is refused: its check
    cells call the checks of the lesson its number now names (the records in ``reference``,
    the course's grading/ by default). A file already there is never written over: the copy
    then takes ``-renumbered`` (``-renumbered-2`` ...). With ``out_dir``, the copy keeps its
    place below ``root`` (a student's folder stays the student's).
    Raises ``ValueError`` with what to do when it cannot tell the lesson or the notebook is current.
    """
    import nbformat

    from .intake import identity_of
    from .markers import MarkerIndex
    from .options import Options

    nb = nbformat.read(path, as_version=4)
    original = identity_of(path).original or path.name
    prefix = path.name[: len(path.name) - len(original)] if path.name.endswith(original) else ""
    copies = COPY_OF.match(original)   # Colab's "Copy of " stays in front of the number
    head = copies[0] if copies else ""
    by_name = NAME_LESSON.match(original[len(head):])
    lessons = {m.lesson for m in MarkerIndex.of(nb.cells).markers if m is not None}
    old = by_name[1] if by_name else (lessons.pop() if len(lessons) == 1 else None)
    if old is None:
        raise ValueError(f"{path}: cannot tell its lesson: the file name does not start with a lesson number and its "
                         "exercise markers name none or several lessons")
    calls = check_calls_by_lesson(reference or Options().reference)
    if old in OLD_TO_NEW and moved_lesson(nb.cells, old, calls) is None:
        raise ValueError(f"{path}: already numbered the new way (its check cells call lesson {old}'s checks of "
                         f"today, or none that tell); nothing to convert")
    new = renumber_notebook(nb, old)
    name = prefix + (head + new + original[len(head) + 2:] if by_name else original)
    folder = path.parent if out_dir is None else out_dir / path.parent.resolve().relative_to(
        (root or path.parent).resolve())
    target = folder / name
    if target.exists():   # the original itself, or a file of the same name: never written over
        stem, n = target.stem + "-renumbered", 1
        while (target := target.with_name(f"{stem}{'' if n == 1 else f'-{n}'}.ipynb")).exists():
            n += 1
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def common_root(paths: list[Path]) -> Path:
    """Return the deepest folder holding every one of ``paths`` (their own folder for one path)."""
    import os

    return Path(os.path.commonpath([str(p.resolve().parent) for p in paths]))
