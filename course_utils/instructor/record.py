"""The lesson record: what ``course build`` hands to ``course grade`` (``grading/NN_topic.json``), typed.

Build makes one ``LessonRecord`` per lesson from the validated source, its exercise
notebook and its executed solution (``LessonRecord.of``) and writes it as JSON
(``to_json``); grade reads it back (``load``) and, before grading anything with it,
asks whether it is stale for the checks installed now (``stale_reason``). ``Status``
is the verdict a report row gives an exercise.
"""
from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from .markers import cell_marker


class Status(StrEnum):
    """What became of an exercise in a graded notebook (a report row's ``status``).

    A ``str`` whose text is the value, in f-strings, CSV and JSON alike.
    """

    PASSED = "passed"
    ERROR = "error"                       # the check raised: a wrong answer, with the check's hint
    WRONG_OUTPUT = "wrong output"         # the check printed other lines than the reference
    TIMEOUT = "timeout"
    KERNEL_DIED = "kernel died"
    NOT_RUN = "not run"
    TAMPERED = "tampered"
    NOT_ATTEMPTED = "not attempted"
    UNKNOWN_LESSON = "unknown lesson"
    WRONG_LESSON = "wrong lesson"
    UNREADABLE = "unreadable notebook"
    STALE_RECORD = "stale record"         # the grading record was built with other checks than are installed
    GRADER_ERROR = "grader error"


@dataclass(frozen=True)
class Anchor:
    """The cell a check follows in the lesson: its exercise (if an exercise cell), id and source."""

    exercise: str | None
    id: str | None
    source: str


@dataclass(frozen=True)
class Check:
    """One check cell of the lesson: its exercise, points, the cell (source and reference outputs) and anchor."""

    exercise: str
    points: int
    cell: dict
    anchor: Anchor


@dataclass(frozen=True)
class LessonRecord:
    """What ``course grade`` needs of a lesson: its check cells with their reference outputs, and where they go.

    ``stubs`` holds the exercise cells as handed out (kept as written, so the file stays
    the same); the grader asks only which exercises have one (``has_stub``).
    """

    lesson: str
    notebook: str
    build_hash: str
    checks: tuple[Check, ...]
    stubs: dict
    check_module: str | None

    @property
    def points(self) -> int:
        """Return the lesson's total points."""
        return sum(c.points for c in self.checks)

    def has_stub(self, exercise: str) -> bool:
        """Return whether ``exercise`` is one the student writes (its cell was handed out as a stub)."""
        return exercise in self.stubs

    @classmethod
    def of(cls, exercise_nb, executed, lesson_file: str, build_hash: str, check_module: str | None) -> LessonRecord:
        """Return the record of a lesson: the exercise notebook's check cells, with the outputs and execution
        count of the same check in the executed solution, and the cell each one follows."""
        reference = {m.exercise: c for c in executed.cells if (m := cell_marker(c)) and m.kind == "check"}
        checks, stubs = [], {}
        for i, cell in enumerate(exercise_nb.cells):
            marker = cell_marker(cell)
            if marker is not None and marker.kind == "exercise":
                stubs[marker.exercise] = cell.source
            if marker is None or marker.kind != "check":
                continue
            graded = copy.deepcopy(cell)
            graded.outputs = copy.deepcopy(reference[marker.exercise].outputs)
            graded.execution_count = reference[marker.exercise].execution_count
            before = exercise_nb.cells[i - 1]
            before_marker = cell_marker(before)
            anchor = Anchor(before_marker.exercise if before_marker and before_marker.kind == "exercise" else None,
                            before.get("id"), before.source)
            checks.append(Check(marker.exercise, marker.points, dict(graded), anchor))
        return cls(lesson_file[:2], lesson_file, build_hash, tuple(checks), stubs, check_module)

    def to_json(self) -> str:
        """Return the record as ``grading/NN_topic.json`` holds it (sorted keys, the same text every build)."""
        data = {"lesson": self.lesson, "notebook": self.notebook, "build_hash": self.build_hash,
                "checks": [{"exercise": c.exercise, "points": c.points, "cell": c.cell,
                            "anchor": {"exercise": c.anchor.exercise, "id": c.anchor.id, "source": c.anchor.source}}
                           for c in self.checks],
                "stubs": self.stubs, "check_module": self.check_module}
        return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> LessonRecord:
        """Return the record a ``to_json`` text holds."""
        data = json.loads(text)
        checks = tuple(Check(c["exercise"], c["points"], c["cell"], Anchor(**c["anchor"])) for c in data["checks"])
        return cls(data["lesson"], data["notebook"], data["build_hash"], checks, data["stubs"], data.get("check_module"))

    def stale_reason(self, reference_dir: Path) -> str | None:
        """Return why this record is stale for the checks installed now, or None.

        The record's ``build_hash`` is the hash of the inputs its solution recorded
        (``solutions/NN_topic.ipynb`` beside ``reference_dir``); the record is stale when
        an installed file the check module runs (the module, the package modules it
        imports, their data) differs from the one the lesson was built with. Without
        the solution beside it (a wheel's installed records) there is nothing to
        compare, and None is returned.
        """
        return _stale_reason(str(Path(reference_dir).resolve()), self.notebook, self.build_hash, self.check_module)


@functools.lru_cache(maxsize=None)   # once per lesson and grading run: the import walk reads every module
def _stale_reason(reference_dir: str, notebook: str, build_hash: str, check_module: str | None) -> str | None:
    from .staleness import inputs_hash, installed_inputs

    solution = Path(reference_dir).parent / "solutions" / notebook
    try:
        inputs = json.loads(solution.read_text())["metadata"]["course"]["inputs"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if inputs_hash(inputs) != build_hash:
        return f"it and solutions/{notebook} come from different builds"
    installed = installed_inputs(check_module) if check_module else {}
    changed = sorted(path for path, digest in installed.items() if inputs.get(path) != digest)
    if changed:
        return f"{', '.join(changed)} changed since it was built, so its reference outputs may not be what the checks print now"
    return None


def load(reference_dir: Path, lesson: str) -> LessonRecord | None:
    """Return the record of ``lesson`` written by ``course build`` in ``reference_dir``, or None."""
    matches = sorted(Path(reference_dir).glob(f"{lesson}_*.json"))
    return LessonRecord.from_json(matches[0].read_text()) if matches else None
