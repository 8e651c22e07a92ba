"""``course build``: generate ``exercises/``, ``solutions/``, ``grading/`` and ``course_utils/lessons/``
from ``notebooks/``.

For each lesson, in this order:

1. ``read_lessons``     read each source once and refuse one that breaks a marker rule
                        (``validate``, naming the cell) or exports what cannot be a
                        module (``export.export_module``): nothing is written before
                        every source has passed;
2. the generated modules ``course_utils/lessons/lessonNN.py`` are written, since the
   lessons after one run its code;
3. ``generate``         per lesson: the solution (``transforms.SOLUTION``), executed
                        only when what it ran changed (``staleness``; twice, see
                        ``execution``), the exercise notebook (``transforms.EXERCISE``)
                        and the grading record (``record.LessonRecord``);
4. ``write_or_compare`` every file whose text changed is written, or with ``--check``
                        named with its first difference; files without a source go.

The digest of each input a solution ran is stored in its metadata, so building twice
gives byte-identical files and ``--check`` says what changed.
"""
from __future__ import annotations

import copy
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import execution, markers, staleness, transforms
from .errors import BuildError, StaleError, where
from .export import export_module
from .markers import MarkerError, cell_marker
from .record import LessonRecord

__all__ = ["BuildError", "Layout", "StaleError", "build"]

LESSON_GLOB = "[0-9][0-9]_*.ipynb"


@dataclass(frozen=True)
class Layout:
    """Where a course's folders are."""

    root: Path

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def exercises(self) -> Path:
        return self.root / "exercises"

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def reference(self) -> Path:
        return self.root / "grading"

    @property
    def exported(self) -> Path:
        return self.root / "course_utils" / "lessons"

    def exported_module(self, lesson_file: str) -> Path:
        """Return where the generated module of lesson ``NN_topic.ipynb`` goes."""
        return self.exported / f"lesson{lesson_file[:2]}.py"


def repository_url(root: Path) -> str:
    """Return the repository URL from pyproject's ``[project.urls] Repository``."""
    pyproject = root / "pyproject.toml"
    try:
        url = tomllib.loads(pyproject.read_text())["project"]["urls"]["Repository"]
    except (OSError, KeyError) as err:
        raise BuildError(f"{pyproject}: needs [project.urls] Repository = '...' for the Colab links ({err})")
    return url.rstrip("/").removesuffix(".git")


def validate(nb, path: Path) -> None:
    """Raise ``BuildError`` when a lesson source breaks a marker rule."""
    lesson = path.name[:2]
    exercises, checks = {}, {}
    for i, cell in enumerate(nb.cells):
        w = where(path, i, cell)
        if cell.cell_type == "code" and cell.get("outputs"):
            raise BuildError(f"{w}: lesson sources are stored without outputs; clear them and save")
        try:
            regions = markers.solution_regions(cell.source, w)
        except MarkerError as err:
            raise BuildError(str(err)) from None
        marker = cell_marker(cell)
        if regions and (marker is None or marker.kind != "exercise"):
            raise BuildError(f"{w}: a solution region outside an exercise cell; "
                             f"start the cell with '# EXERCISE {lesson}.N'")
        if marker is None:
            continue
        if marker.lesson != lesson:
            raise BuildError(f"{w}: marker of lesson {marker.lesson} in the lesson-{lesson} file {path.name}")
        seen = exercises if marker.kind == "exercise" else checks
        if marker.exercise in seen:
            raise BuildError(f"{w}: a second {marker.kind} cell for {marker.exercise}")
        seen[marker.exercise] = i
        if marker.kind == "exercise" and not regions:
            raise BuildError(f"{w}: exercise {marker.exercise} has no '{markers.BEGIN}' region")
        if marker.kind == "check" and marker.points < 1:
            raise BuildError(f"{w}: a check must be worth at least 1 point")
    for exercise, i in exercises.items():
        if exercise not in checks:
            raise BuildError(f"{where(path, i, nb.cells[i])}: exercise {exercise} has no "
                             f"'# CHECK {exercise} (N points)' cell")
        if checks[exercise] < i:
            raise BuildError(f"{where(path, checks[exercise], nb.cells[checks[exercise]])}: "
                             f"the check of {exercise} comes before its exercise")


@dataclass(frozen=True)
class Lesson:
    """A lesson source, read once and validated, with the module its ``export`` cells make (or None)."""

    path: Path
    nb: nbformat.NotebookNode
    module: str | None


def read_lessons(layout: Layout, only: list[str] | None = None) -> list[Lesson]:
    """Return the course's lessons (or the ``only`` ones), each validated; raise ``BuildError`` at the first bad one."""
    sources = sorted(layout.notebooks.glob(LESSON_GLOB)) if layout.notebooks.is_dir() else []
    lessons = []
    for path in sources:
        if only and path.name[:2] not in only:
            continue
        nb = nbformat.read(path, as_version=4)
        validate(nb, path)
        lessons.append(Lesson(path, nb, export_module(nb, path)))
    return lessons


@dataclass(frozen=True)
class Run:
    """How this build runs: the course, whether it may execute (not under ``--check``), and the generated modules."""

    layout: Layout
    repo_url: str
    execute_if_stale: bool
    force: bool = False
    timeout: int = 900
    log: object = print
    generated: dict = field(default_factory=dict)   # {course_utils/lessons/lessonNN.py: text made now}

    def target(self, folder: str, lesson: Lesson) -> transforms.Target:
        return transforms.Target(f"{folder}/{lesson.path.name}", self.repo_url)


def dumps(nb) -> str:
    """Serialise a notebook the same way every time."""
    return nbformat.writes(nb) + "\n"


def skeleton(nb) -> list:
    """Return what the transforms decide of a solution's cells, outputs aside: kind, id, source, tags."""
    return [(c.cell_type, c.get("id"), c.source, c.metadata.get("tags"), c.metadata.get("course")) for c in nb.cells]


def reusable(stored, solution, build_hash: str, inputs: dict, force: bool) -> tuple[object, str]:
    """Return ``(the stored solution made current, or None, why it cannot be kept)``."""
    if stored is None:
        return None, "it is missing"
    meta = stored.metadata.get("course", {})
    if force:
        return None, "--force"
    if meta.get("build_hash") != build_hash:
        return None, staleness.why_stale(meta.get("inputs"), inputs)
    if skeleton(stored) == skeleton(solution):
        return stored, ""
    header = transforms.header_length()
    if skeleton(stored)[header:] == skeleton(solution)[header:]:  # only the Colab header changed: nothing to run
        executed = copy.deepcopy(stored)
        executed.cells[:header] = solution.cells[:header]
        return executed, ""
    return None, ("the build now makes other cells than it stored (course_utils/instructor/transforms.py or "
                  "markers.py changed)")


def executed_solution(lesson: Lesson, solution, inputs: dict, run: Run):
    """Return the executed solution: the stored one while it is current, else a new run (twice, compared)."""
    build_hash = staleness.inputs_hash(inputs)
    sol_path = run.layout.solutions / lesson.path.name
    stored = nbformat.read(sol_path, as_version=4) if sol_path.exists() else None
    executed, reason = reusable(stored, solution, build_hash, inputs, run.force)
    if executed is not None:
        return executed
    if not run.execute_if_stale:
        raise StaleError(f"{sol_path.relative_to(run.layout.root)} is out of date: {reason}; run `course build`")
    name = lesson.path.name
    run.log(f"executing {name} ({reason}; twice, to check the check outputs are stable) ...")
    executed = execution.execute(solution, run.layout.solutions, run.timeout, lesson.path)
    execution.check_outputs_stable(executed, execution.execute(solution, run.layout.solutions, run.timeout,
                                                               lesson.path), lesson.path)
    if stored is not None and execution.without_timings(stored) == execution.without_timings(executed):
        run.log(f"{name}: the same cells and outputs as stored but for timings; keeping the stored ones")
        executed = stored
    executed.metadata["course"] = {"lesson": name[:2], "build_hash": build_hash, "inputs": inputs}
    return executed


def generate(lesson: Lesson, run: Run) -> dict[Path, str]:
    """Return the generated files of one lesson as ``{path: text}``: its solution, exercise notebook and record.

    With ``run.execute_if_stale`` false (``--check``) a missing or stale solution raises
    ``StaleError``, saying what changed, instead of being executed.
    """
    inputs = staleness.build_inputs(lesson.path, lesson.nb, run.layout.root, run.generated)
    solution = transforms.make(lesson.nb, transforms.SOLUTION, run.target("solutions", lesson))
    executed = executed_solution(lesson, solution, inputs, run)
    exercise = transforms.make(lesson.nb, transforms.EXERCISE, run.target("exercises", lesson))
    record = LessonRecord.of(exercise, executed, lesson.path.name, staleness.inputs_hash(inputs), check_module(exercise))
    return {
        run.layout.solutions / lesson.path.name: dumps(executed),
        run.layout.exercises / lesson.path.name: dumps(exercise),
        run.layout.reference / (lesson.path.stem + ".json"): record.to_json(),
    }


def check_module(nb) -> str | None:
    """Return the module the lesson imports as ``checks`` (``course grade`` runs a sealed copy of it)."""
    import ast

    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(staleness.ipython_to_python(cell.source))
        except BuildError:
            continue
        for node in ast.walk(tree):
            for alias in getattr(node, "names", []) if isinstance(node, (ast.Import, ast.ImportFrom)) else []:
                if (alias.asname or alias.name) == "checks":
                    return f"{node.module}.{alias.name}" if isinstance(node, ast.ImportFrom) else alias.name
    return None


def first_difference(path: Path, old: str, new: str) -> str:
    """Return where a generated file differs from what is on disk, cell by cell (line by line for .py)."""
    if path.suffix == ".py":
        for i, (a, b) in enumerate(zip(old.splitlines() + [""], new.splitlines() + [""]), start=1):
            if a != b:
                return f"{path}: line {i} differs from what the notebook exports ({b.strip()[:60]!r})"
    try:
        old_cells = json.loads(old).get("cells", [])
        new_cells = json.loads(new).get("cells", [])
    except json.JSONDecodeError:
        return f"{path}: not valid JSON"
    for i, (a, b) in enumerate(zip(old_cells, new_cells)):
        if a != b:
            first = markers.first_line("".join(b.get("source", "")))
            return f"{path}: cell {i} ({first[:60]!r}) differs from what the source generates"
    if len(old_cells) != len(new_cells):
        return f"{path}: has {len(old_cells)} cells, the source generates {len(new_cells)}"
    return f"{path}: differs from what the source generates (notebook metadata or formatting)"


def write_or_compare(expected: dict[Path, str], layout: Layout, check: bool, log) -> list[str]:
    """Write each generated file whose text changed, or with ``check`` list how each differs."""
    problems = []
    for path, text in expected.items():
        rel = path.relative_to(layout.root)
        old = path.read_text() if path.exists() else None
        if old == text:
            continue
        if check:
            problems.append(f"{rel}: missing; run `course build`" if old is None else first_difference(rel, old, text))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            log(f"wrote {rel}")
    return problems


def orphans(layout: Layout, expected: set[Path], check: bool, log) -> list[str]:
    """Remove (or with ``check`` name) every generated file that no lesson source makes any more."""
    problems = []
    stale = [p for d, g in ((layout.exercises, LESSON_GLOB), (layout.solutions, LESSON_GLOB),
                            (layout.reference, "[0-9][0-9]_*.json"), (layout.exported, "lesson[0-9][0-9].py"))
             if d.is_dir() for p in d.glob(g) if p not in expected]
    for p in sorted(stale):
        rel = p.relative_to(layout.root)
        if check:
            problems.append(f"{rel}: has no source in notebooks/; run `course build` to remove it")
        else:
            p.unlink()
            log(f"removed {rel} (no source in notebooks/)")
    return problems


def build(root: Path, *, check: bool = False, force: bool = False, lessons: list[str] | None = None,
          timeout: int = 900, log=print) -> list[str]:
    """Build (or with ``check``, verify) every lesson; return the problems found.

    In build mode the returned list is empty; files are written only when they change.
    """
    layout = Layout(Path(root).resolve())
    sources = read_lessons(layout, lessons)   # every source validated before anything is written
    modules = {layout.exported_module(s.path.name): s.module for s in sources if s.module is not None}
    repo_url = repository_url(layout.root) if sources else ""   # fails on a pyproject without one: before writing
    # The exported modules first: a lesson's build hash covers the course_utils code it
    # runs, which includes the modules generated from the lessons before it.
    problems = write_or_compare(modules, layout, check, log)
    run = Run(layout, repo_url, not check, force, timeout, log,
              {p.relative_to(layout.root).as_posix(): text for p, text in modules.items()})
    notebooks: dict[Path, str] = {}
    expected = set(modules)
    for lesson in sources:
        expected |= {layout.exercises / lesson.path.name, layout.solutions / lesson.path.name,
                     layout.reference / (lesson.path.stem + ".json")}
        try:
            notebooks.update(generate(lesson, run))
        except StaleError as err:  # --check: name every stale lesson, not only the first
            problems.append(str(err))
    problems += write_or_compare(notebooks, layout, check, log)
    if not lessons:
        problems += orphans(layout, expected, check, log)
    return problems
