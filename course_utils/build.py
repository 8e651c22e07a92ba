"""``course build``: generate ``exercises/`` and ``solutions/`` from ``notebooks/``.

The build is a short, ordered list of notebook transforms:

1. ``validate``            refuse a source that breaks a marker rule (names the cell);
2. ``solution_notebook``   markers removed, Colab header added;
3. ``execute``             run the solution (twice: a check whose output changes
                           between runs cannot be graded);
4. ``exercise_notebook``   regions replaced by stubs, outputs cleared, check cells
                           given the reference outputs of the executed solution;
5. ``reference_record``    the check cells and where they go, for ``course grade``.

The solution is re-executed only when the lesson source, a file beside it or
``course_utils`` changed (a hash is stored in the solution's metadata), so
building twice gives byte-identical files.
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import markers
from .markers import CHECK_TAG, EXERCISE_TAG, NBVAL_CHECK_TAG, MarkerError, cell_marker
from .runtime import HEADLESS_ENV, environment

PACKAGE_DIR = Path(__file__).resolve().parent
# Tool modules no lesson imports: editing them must not force every solution to run again.
NOT_IN_HASH = {"cli.py", "doctor.py", "grade.py", "nbval_results.py", "__main__.py", "bench.py"}
LESSON_GLOB = "[0-9][0-9]_*.ipynb"


class BuildError(Exception):
    """The build cannot go on; the message names the file and the cell."""


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
        return self.root / "course_utils" / "reference"


def repository_url(root: Path) -> str:
    """Return the repository URL from pyproject's ``[project.urls] Repository``."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    pyproject = root / "pyproject.toml"
    try:
        url = tomllib.loads(pyproject.read_text())["project"]["urls"]["Repository"]
    except (OSError, KeyError) as err:
        raise BuildError(f"{pyproject}: needs [project.urls] Repository = '...' for the Colab links ({err})")
    return url.rstrip("/").removesuffix(".git")


def where(path: Path, index: int, cell) -> str:
    """Return how an error names a cell: file, index and first line."""
    return f"{path.name} cell {index} ({markers.first_line(cell.get('source', ''))[:60]!r})"


# 1. validate -------------------------------------------------------------------------

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


# 2. solution and Colab header -------------------------------------------------------

def colab_cells(repo_url: str, rel_path: str) -> list:
    """Return the Colab badge and the idempotent Colab set-up cell for one notebook."""
    github = repo_url.removeprefix("https://github.com/")
    badge = nbformat.v4.new_markdown_cell(
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"(https://colab.research.google.com/github/{github}/blob/main/{rel_path})"
    )
    badge.id = "colab-badge"
    setup = nbformat.v4.new_code_cell(
        "# Colab set-up: on Colab, install the course package once; elsewhere, do nothing.\n"
        "import importlib.util, sys\n"
        "if 'google.colab' in sys.modules and importlib.util.find_spec('course_utils') is None:\n"
        f"    get_ipython().run_line_magic('pip', 'install -q \"course-utils @ git+{repo_url}.git\"')"
    )
    setup.id = "colab-setup"
    return [badge, setup]


def tag_cells(nb) -> None:
    """Give marked cells their tags and course metadata, so tools and nbval can find them."""
    for cell in nb.cells:
        marker = cell_marker(cell)
        tags = [t for t in cell.metadata.get("tags", []) if t not in (EXERCISE_TAG, CHECK_TAG, NBVAL_CHECK_TAG)]
        cell.metadata.pop("course", None)
        if marker is not None and marker.kind == "exercise":
            tags.append(EXERCISE_TAG)
            cell.metadata["course"] = {"exercise": marker.exercise}
        elif marker is not None:
            tags += [CHECK_TAG, NBVAL_CHECK_TAG]
            cell.metadata["course"] = {"check": marker.exercise, "points": marker.points}
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)


def with_header(src, repo_url: str, rel_path: str):
    """Return a copy of ``src`` with the Colab cells first and marked cells tagged."""
    nb = copy.deepcopy(src)
    nb.cells = colab_cells(repo_url, rel_path) + nb.cells
    tag_cells(nb)
    return nb


def solution_notebook(src, repo_url: str, rel_path: str):
    """Return the solution notebook (unexecuted): region markers removed."""
    nb = with_header(src, repo_url, rel_path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = markers.solution_source(cell.source)
    return nb


# 3. execute ---------------------------------------------------------------------------

def execute(nb, cwd: Path, timeout: int, path: Path):
    """Return an executed copy of ``nb``, run headless with ``cwd`` as its folder."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = copy.deepcopy(nb)
    cwd.mkdir(parents=True, exist_ok=True)
    try:
        with environment(HEADLESS_ENV):  # inherited by the kernel
            NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                           resources={"metadata": {"path": str(cwd)}}).execute()
    except (CellExecutionError, CellTimeoutError) as err:
        text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", str(err))
        raise BuildError(f"{path.name}: the solution does not run through: {text[-1500:]}") from None
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code" and cell_marker(cell) is None:
            cell.outputs = [o for o in cell.outputs if not is_library_noise(o)]
    return nb


LIBRARY_NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
                           r"|[IWE]\d{4} [\d:.]+\s+\d+ \S+\.cc:\d+\] .*"
                           r"|\[IPKernelApp\] WARNING \| Kernel is running over TCP without encryption.*)$")


def is_library_noise(output) -> bool:
    """Return whether an output is only TensorFlow's C++ start-up log (stderr), which the
    ``tensorflow`` wheel prints whatever TF_CPP_MIN_LOG_LEVEL says and says nothing to a student."""
    if output.get("output_type") != "stream" or output.get("name") != "stderr":
        return False
    lines = [l for l in output.get("text", "").splitlines() if l.strip()]
    return bool(lines) and all(LIBRARY_NOISE.match(l) for l in lines)


def comparable(outputs) -> list:
    """Return outputs as nbval compares them (no execution counts or metadata)."""
    keep = []
    for out in outputs:
        out = {k: v for k, v in out.items() if k not in ("execution_count", "metadata", "transient")}
        if "data" in out:
            out["data"] = {k: v for k, v in out["data"].items() if k not in ("image/png", "image/jpeg")}
        keep.append(out)
    return keep


def check_outputs_stable(first, second, path: Path) -> None:
    """Raise ``BuildError`` when a check cell printed differently in two runs."""
    header = len(colab_cells("", ""))  # errors name the cell as it is in the source
    for i, (a, b) in enumerate(zip(first.cells[header:], second.cells[header:])):
        marker = cell_marker(a)
        if marker is not None and marker.kind == "check" and comparable(a.outputs) != comparable(b.outputs):
            raise BuildError(
                f"{where(path, i, a)}: the check printed differently in two runs of the solution, so "
                f"nbval could not grade it; print only fixed lines (no timings, seeds or scores).\n"
                f"run 1: {json.dumps(comparable(a.outputs))[:400]}\nrun 2: {json.dumps(comparable(b.outputs))[:400]}"
            )


# 4. exercises ---------------------------------------------------------------------------

def exercise_notebook(src, executed, repo_url: str, rel_path: str):
    """Return the exercise notebook: stubs, no outputs, check cells with reference outputs."""
    nb = with_header(src, repo_url, rel_path)
    reference = {m.exercise: c for c in executed.cells if (m := cell_marker(c)) and m.kind == "check"}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        marker = cell_marker(cell)
        cell.outputs, cell.execution_count = [], None
        if marker is not None and marker.kind == "exercise":
            cell.source = markers.stub_source(cell.source, marker.exercise)
        elif marker is not None:
            cell.outputs = copy.deepcopy(reference[marker.exercise].outputs)
            cell.execution_count = reference[marker.exercise].execution_count
    return nb


# 5. reference for grading -------------------------------------------------------------

def reference_record(exercise_nb, lesson_file: str, build_hash: str) -> dict:
    """Return what ``course grade`` needs: each check cell and the cell it follows."""
    checks, stubs = [], {}
    for i, cell in enumerate(exercise_nb.cells):
        marker = cell_marker(cell)
        if marker is not None and marker.kind == "exercise":
            stubs[marker.exercise] = cell.source
        if marker is None or marker.kind != "check":
            continue
        before = exercise_nb.cells[i - 1]
        before_marker = cell_marker(before)
        checks.append({
            "exercise": marker.exercise,
            "points": marker.points,
            "cell": dict(cell),
            "anchor": {
                "exercise": before_marker.exercise if before_marker and before_marker.kind == "exercise" else None,
                "id": before.get("id"),
                "source": before.source,
            },
        })
    return {"lesson": lesson_file[:2], "notebook": lesson_file, "build_hash": build_hash,
            "checks": checks, "stubs": stubs}


# the pipeline ---------------------------------------------------------------------------

def source_hash(path: Path) -> str:
    """Return a hash of a lesson source, the files beside it and the course_utils code."""
    digest = hashlib.sha256()
    files = [path, *sorted(p for p in path.parent.rglob("*.py") if "__pycache__" not in p.parts)]
    files += sorted(p for p in PACKAGE_DIR.rglob("*.py")
                    if "__pycache__" not in p.parts and p.name not in NOT_IN_HASH)
    for p in files:
        digest.update(p.name.encode())
        digest.update(p.read_bytes().replace(b"\r\n", b"\n"))
    return digest.hexdigest()


def dumps(nb) -> str:
    """Serialise a notebook the same way every time."""
    return nbformat.writes(nb) + "\n"


def dumps_record(record: dict) -> str:
    return json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def generate(path: Path, layout: Layout, repo_url: str, *, execute_if_stale: bool, force: bool = False,
             timeout: int = 900, log=print) -> dict[Path, str]:
    """Return the generated files of one lesson as ``{path: text}``.

    With ``execute_if_stale=False`` (``--check``) a missing or stale solution is an
    error instead of a reason to execute.
    """
    src = nbformat.read(path, as_version=4)
    validate(src, path)
    build_hash = source_hash(path)
    sol_path = layout.solutions / path.name
    executed = None
    if sol_path.exists() and not force:
        stored = nbformat.read(sol_path, as_version=4)
        if stored.metadata.get("course", {}).get("build_hash") == build_hash:
            executed = stored
    if executed is None:
        if not execute_if_stale:
            raise BuildError(f"{sol_path.relative_to(layout.root)} is missing or older than "
                             f"notebooks/{path.name} or course_utils; run `course build`")
        solution = solution_notebook(src, repo_url, f"solutions/{path.name}")
        log(f"executing {path.name} (twice, to check the check outputs are stable) ...")
        executed = execute(solution, layout.solutions, timeout, path)
        check_outputs_stable(executed, execute(solution, layout.solutions, timeout, path), path)
        executed.metadata["course"] = {"lesson": path.name[:2], "build_hash": build_hash}
    exercise = exercise_notebook(src, executed, repo_url, f"exercises/{path.name}")
    exercise.metadata["course"] = {"lesson": path.name[:2]}
    record = reference_record(exercise, path.name, build_hash)
    return {
        sol_path: dumps(executed),
        layout.exercises / path.name: dumps(exercise),
        layout.reference / (path.stem + ".json"): dumps_record(record),
    }


def first_difference(path: Path, old: str, new: str) -> str:
    """Return where a generated file differs from what is on disk, cell by cell."""
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


def build(root: Path, *, check: bool = False, force: bool = False, lessons: list[str] | None = None,
          timeout: int = 900, log=print) -> list[str]:
    """Build (or with ``check``, verify) every lesson; return the problems found.

    In build mode the returned list is empty; files are written only when they change.
    """
    layout = Layout(Path(root).resolve())
    sources = sorted(layout.notebooks.glob(LESSON_GLOB)) if layout.notebooks.is_dir() else []
    if lessons:
        sources = [p for p in sources if p.name[:2] in lessons]
    expected: dict[Path, str] = {}
    repo_url = repository_url(layout.root) if sources else ""
    for path in sources:
        expected.update(generate(path, layout, repo_url, execute_if_stale=not check, force=force,
                                 timeout=timeout, log=log))
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
    if not lessons:
        stale = [p for d, g in ((layout.exercises, LESSON_GLOB), (layout.solutions, LESSON_GLOB),
                                (layout.reference, "[0-9][0-9]_*.json")) if d.is_dir() for p in d.glob(g)
                 if p not in expected]
        for p in sorted(stale):
            rel = p.relative_to(layout.root)
            if check:
                problems.append(f"{rel}: has no source in notebooks/; run `course build` to remove it")
            else:
                p.unlink()
                log(f"removed {rel} (no source in notebooks/)")
    return problems
