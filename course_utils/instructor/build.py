"""``course build``: generate ``exercises/``, ``solutions/`` and ``course_utils/lessons/``
from ``notebooks/``.

The build is a short, ordered list of notebook transforms:

0. ``export_module``       cells tagged ``export`` (solutions in) become the generated
                           module ``course_utils/lessons/lessonNN.py``; written first,
                           since the lessons after it run that code;
1. ``validate``            refuse a source that breaks a marker rule (names the cell);
2. ``solution_notebook``   markers removed, Colab header added;
3. ``execute``             run the solution (twice: a check whose output changes
                           between runs cannot be graded);
4. ``exercise_notebook``   regions replaced by stubs, every output cleared (check cells
                           too: no verdict is shown before the student works);
5. ``reference_record``    the check cells with the executed solution's outputs, and
                           where they go, for ``course grade``.

A solution is re-executed only when what it ran changed: its source, a file beside
it, a ``course_utils`` module its code imports (directly or through the package) or
the lock file. The digest of each is stored in the solution's metadata, so building
twice gives byte-identical files and ``--check`` says what changed.
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
from ..plotting import REFERENCE_FILE
from ..session import HEADLESS_ENV, environment

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # course_utils/
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
        return self.root / "grading"

    @property
    def exported(self) -> Path:
        return self.root / "course_utils" / "lessons"

    def exported_module(self, lesson_file: str) -> Path:
        """Return where the generated module of lesson ``NN_topic.ipynb`` goes."""
        return self.exported / f"lesson{lesson_file[:2]}.py"


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


# 0. export ---------------------------------------------------------------------------
# A code cell tagged "export" in a lesson source is copied, solution in and markers out,
# into the generated module ``course_utils/lessons/lessonNN.py``. Later lessons, the
# bench and the tests import that module: one text per algorithm
# piece, the one the lesson shows (as d2l exports its ``#@save`` cells).

EXPORT_TAG = "export"
# names an exported cell may use without defining them, and the import that gives each
EXPORT_IMPORTS = {
    "np": "import numpy as np",
    "gym": "import gymnasium as gym",
    "keras": "import keras",
    "ops": "from keras import ops",
    "tf": "import tensorflow as tf",
    "cu": "import course_utils as cu",
}


def exported_cells(nb) -> list[tuple[int, object]]:
    """Return ``(index, cell)`` of the code cells tagged ``export``."""
    return [(i, c) for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and EXPORT_TAG in c.metadata.get("tags", [])]


def unbound_names(code: str) -> set[str]:
    """Return the names ``code`` reads that it binds nowhere and that are not builtins (a notebook global, say)."""
    import ast
    import builtins

    tree = ast.parse(code)
    bound = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - bound


def export_module(src, path: Path) -> str | None:
    """Return the text of the lesson's generated module, or None when it exports nothing.

    Raises ``BuildError`` (naming the cell) for an exported check cell or one that
    is not valid Python once its solution is in.
    """
    import ast

    cells = exported_cells(src)
    if not cells:
        return None
    title = markers.first_line("".join(src.cells[0].source)).lstrip("# ").strip() if src.cells else path.stem
    bodies, used = [], set()
    for i, cell in cells:
        w = where(path, i, cell)
        marker = cell_marker(cell)
        if marker is not None and marker.kind == "check":
            raise BuildError(f"{w}: a check cell cannot be exported; tag the exercise or code cell instead")
        lines = markers.solution_source(cell.source).splitlines()
        if marker is not None:
            lines[0] = f"# exercise {marker.exercise}"
        body = "\n".join(lines).strip("\n")
        try:
            tree = ast.parse(body)
        except SyntaxError as err:
            raise BuildError(f"{w}: an exported cell must be plain Python ({err.msg}, line {err.lineno})") from None
        used |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        bodies.append(body)
    missing = sorted(unbound_names("\n\n".join(bodies)) - set(EXPORT_IMPORTS))
    if missing:
        raise BuildError(f"{path}: the cells tagged export use {', '.join(missing)}, which they neither define nor "
                         f"import, so the generated module would fail; define or import it in an exported cell")
    imports = [line for name, line in EXPORT_IMPORTS.items() if name in used]
    plain = sorted(l for l in imports if l.startswith("import ") and "course_utils" not in l)
    header = [
        f'"""{title}.',
        "",
        "The code this lesson teaches, as its solution shows it: generated by `course build`",
        f"from notebooks/{path.name} (its cells tagged \"export\", solutions in).",
        "Do not edit: edit the notebook, then run `course build`.",
        '"""',
        *plain,
        *(l for l in imports if l.startswith("from ")),
        *(["", "import course_utils as cu"] if "cu" in used else []),
    ]
    return "\n".join(header) + "\n\n\n" + "\n\n\n".join(bodies) + "\n"


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
        "# Colab set-up: on Colab, install the course package once (pip shows what it installs);\n"
        "# elsewhere, or run a second time, it does nothing.\n"
        "import importlib.metadata as md, importlib.util, sys\n"
        "if 'google.colab' in sys.modules and importlib.util.find_spec('course_utils') is None:\n"
        "    owners = md.packages_distributions()\n"
        "    loaded = {d for m in list(sys.modules) for d in owners.get(m, [])}\n"
        "    before = {d: md.version(d) for d in loaded}\n"
        f"    get_ipython().run_line_magic('pip', 'install \"course-utils @ git+{repo_url}.git\"')\n"
        "    now = {d.metadata['Name']: d.version for d in md.distributions()}\n"
        "    changed = sorted(d for d, v in before.items() if now.get(d) != v)\n"
        "    if changed:\n"
        "        print('Restart the session now (Runtime > Restart session), then run this notebook from the top: '\n"
        "              + ', '.join(changed) + ' changed after Python had loaded them.')"
    )
    setup.id = "colab-setup"
    return [badge, setup]


def tag_cells(nb) -> None:
    """Give marked cells their tags and course metadata, so tools and nbval can find them."""
    for cell in nb.cells:
        marker = cell_marker(cell)
        tags = [t for t in cell.metadata.get("tags", [])
                if t not in (EXERCISE_TAG, CHECK_TAG, NBVAL_CHECK_TAG, EXPORT_TAG)]  # export: authoring only
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


# A duration printed by a solution ("21.6 s", "1248 env steps/s"): it differs from run to run and
# machine to machine, so it is left out when a rebuild decides whether anything changed.
TIMING = re.compile(r"\d+(?:\.\d+)?(?=\s?(?:s|ms|seconds|min)\b)|\d+(?:\.\d+)?(?=\s(?:env\s)?steps/s\b)")


def without_timings(nb) -> list:
    """Return each cell's source and text outputs with every duration masked (pictures kept as they are)."""
    def text(out):
        out = {k: v for k, v in out.items() if k not in ("execution_count", "metadata", "transient")}
        if "text" in out:
            out["text"] = TIMING.sub("<t>", out["text"])
        if "text/plain" in out.get("data", {}):
            out["data"] = {**out["data"], "text/plain": TIMING.sub("<t>", out["data"]["text/plain"])}
        return out

    return [(c.cell_type, c.source, [text(o) for o in c.get("outputs", [])]) for c in nb.cells]


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

def exercise_notebook(src, repo_url: str, rel_path: str):
    """Return the exercise notebook: stubs, and no outputs at all.

    Not even the check cells keep theirs: a handed-out notebook shows no verdict (and no
    answer a check prints) before the student runs it. The reference outputs live in the
    grading record (``reference_record``).
    """
    nb = with_header(src, repo_url, rel_path)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        marker = cell_marker(cell)
        cell.outputs, cell.execution_count = [], None
        if marker is not None and marker.kind == "exercise":
            cell.source = markers.stub_source(cell.source, marker.exercise)
    return nb


# 5. reference for grading -------------------------------------------------------------

def reference_record(exercise_nb, executed, lesson_file: str, build_hash: str) -> dict:
    """Return what ``course grade`` needs: each check cell, its reference outputs and the cell it follows.

    The check cells are the exercise notebook's, with the outputs and execution count of
    the same check in the executed solution.
    """
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
        checks.append({
            "exercise": marker.exercise,
            "points": marker.points,
            "cell": dict(graded),
            "anchor": {
                "exercise": before_marker.exercise if before_marker and before_marker.kind == "exercise" else None,
                "id": before.get("id"),
                "source": before.source,
            },
        })
    return {"lesson": lesson_file[:2], "notebook": lesson_file, "build_hash": build_hash,
            "checks": checks, "stubs": stubs, "check_module": check_module(exercise_nb)}


def check_module(nb) -> str | None:
    """Return the module the lesson imports as ``checks`` (``course grade`` runs a sealed copy of it)."""
    import ast

    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(ipython_to_python(cell.source))
        except BuildError:
            continue
        for node in ast.walk(tree):
            for alias in getattr(node, "names", []) if isinstance(node, (ast.Import, ast.ImportFrom)) else []:
                if (alias.asname or alias.name) == "checks":
                    return f"{node.module}.{alias.name}" if isinstance(node, ast.ImportFrom) else alias.name
    return None


# the pipeline ---------------------------------------------------------------------------

# what a solution was built from -------------------------------------------------------
# A lesson is executed again when what it ran changed: its source, the files beside it,
# the course_utils modules its code imports (followed through the package's own imports)
# and the lock of exact versions. Edits anywhere else (the grader, the bench, another
# lesson's checks) leave it alone.

LOCK_FILE = "requirements-lock.txt"
PACKAGE = PACKAGE_DIR.name


def module_file(name: str, package_dir: Path | None = None) -> Path | None:
    """Return the file of the package module ``name`` (dotted), or None if it has none."""
    base = (package_dir or PACKAGE_DIR).joinpath(*name.split(".")[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def ipython_to_python(source: str) -> str:
    """Return notebook code with its IPython syntax turned into the Python IPython runs.

    Raises ``BuildError`` naming the line when even that is not Python.
    """
    import ast

    from IPython.core.inputtransformer2 import TransformerManager

    text = TransformerManager().transform_cell(source)
    try:
        ast.parse(text)
    except SyntaxError as err:
        line = source.splitlines()[err.lineno - 1] if err.lineno and err.lineno <= len(source.splitlines()) else ""
        raise BuildError(f"cannot read the imports of a cell: {err.msg} at {line.strip()!r}; fix the cell") from None
    return text


def imported_modules(source: str, current: str | None = None, *, is_package: bool = False) -> set[str]:
    """Return the package modules that ``source`` imports (``current``: its own dotted name).

    Counts ``import course_utils.x``, ``from course_utils.x import y`` (and ``y`` when it
    is a module), relative imports inside the package, imports inside functions, and
    ``cu.name`` for a helper ``course_utils`` exports lazily (through its table).
    """
    import ast

    from .. import _EXPORTS

    try:
        tree = ast.parse(source)
    except SyntaxError:  # notebook code with IPython syntax (%magic, x = !ls, name?): read it as IPython does
        tree = ast.parse(ipython_to_python(source))
    found, aliases = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    found.add(alias.name)
                    if alias.name == PACKAGE or alias.asname is None:  # `import course_utils.x` binds course_utils
                        aliases.add(alias.asname or PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if current is None:
                    continue
                parts = current.split(".")
                parts = parts[: len(parts) - node.level + (1 if is_package else 0)]
                module = ".".join(parts + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module != PACKAGE and not module.startswith(PACKAGE + "."):
                continue
            found.add(module)
            for alias in node.names:
                if module_file(f"{module}.{alias.name}") is not None:
                    found.add(f"{module}.{alias.name}")
                elif module == PACKAGE and alias.name in _EXPORTS:
                    found.add(f"{PACKAGE}.{_EXPORTS[alias.name]}")
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr in _EXPORTS):
            found.add(f"{PACKAGE}.{_EXPORTS[node.attr]}")
    with_parents = set()
    for name in found:
        parts = name.split(".")
        with_parents |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return with_parents


def lesson_modules(sources: list[str]) -> list[str]:
    """Return every package module the code ``sources`` runs imports, directly or not, sorted."""
    todo = imported_modules("\n".join(sources))  # one text: an alias from the import cell holds in the others
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_file(name)
        if path is not None:
            todo |= imported_modules(path.read_text(), name, is_package=path.name == "__init__.py") - seen
    return sorted(n for n in seen if module_file(n) is not None)


def digest(path: Path) -> str:
    """Return the sha256 of a text file, line endings made uniform."""
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


# package data a module reads, which shapes the outputs of every lesson that imports it
MODULE_DATA = {"course_utils.plotting": [f"data/{REFERENCE_FILE}"]}   # the bands behind the lessons' plots


def build_inputs(path: Path, src, layout: Layout, generated: dict[str, str] | None = None) -> dict[str, str]:
    """Return ``{name: sha256}`` of everything a lesson's solution is built from.

    ``generated`` maps a generated module (``course_utils/lessons/lessonNN.py``) to the
    text the build makes for it now, which counts instead of the file on disk (under
    ``--check`` the file is not rewritten, yet a lesson that imports it is stale).
    """
    generated = generated or {}
    code = [markers.solution_source(c.source) for c in src.cells if c.cell_type == "code"]
    inputs = {f"notebooks/{path.name}": digest(path)}
    for beside in sorted(p for p in path.parent.rglob("*.py") if "__pycache__" not in p.parts):
        inputs[f"notebooks/{beside.relative_to(path.parent).as_posix()}"] = digest(beside)
    try:
        modules = lesson_modules(code)
    except BuildError as err:
        raise BuildError(f"{path}: {err}") from None
    for name in modules:
        rel = module_file(name).relative_to(PACKAGE_DIR.parent).as_posix()
        text = generated.get(rel)
        inputs[rel] = digest(module_file(name)) if text is None else hashlib.sha256(text.encode()).hexdigest()
        for data in MODULE_DATA.get(name, []):
            inputs[f"{PACKAGE_DIR.name}/{data}"] = digest(PACKAGE_DIR / data)
    lock = layout.root / LOCK_FILE
    if lock.is_file():
        inputs[LOCK_FILE] = digest(lock)
    return inputs


def inputs_hash(inputs: dict[str, str]) -> str:
    """Return one hash of a lesson's build inputs."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def why_stale(stored: dict | None, inputs: dict[str, str]) -> str:
    """Return what changed between the inputs a solution was built from and today's."""
    if not stored:
        return "it was built by an older `course build`, which did not record its inputs"
    changed = sorted(k for k in inputs if k in stored and stored[k] != inputs[k])
    added = sorted(k for k in inputs if k not in stored)
    gone = sorted(k for k in stored if k not in inputs)
    parts = ([f"{', '.join(changed)} changed"] if changed else []) + \
            ([f"it now also uses {', '.join(added)}"] if added else []) + \
            ([f"it no longer uses {', '.join(gone)}"] if gone else [])
    return "; ".join(parts) or "its recorded build hash does not match"


def dumps(nb) -> str:
    """Serialise a notebook the same way every time."""
    return nbformat.writes(nb) + "\n"


def dumps_record(record: dict) -> str:
    return json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


class StaleError(BuildError):
    """``--check`` found a solution that is missing or was built from other inputs."""


def skeleton(nb) -> list:
    """Return what the transforms decide of a solution's cells, outputs aside: kind, id, source, tags."""
    return [(c.cell_type, c.get("id"), c.source, c.metadata.get("tags"), c.metadata.get("course")) for c in nb.cells]


def generate(path: Path, layout: Layout, repo_url: str, *, execute_if_stale: bool, force: bool = False,
             timeout: int = 900, log=print, generated: dict[str, str] | None = None) -> dict[Path, str]:
    """Return the generated files of one lesson as ``{path: text}``.

    With ``execute_if_stale=False`` (``--check``) a missing or stale solution raises
    ``StaleError``, saying what changed, instead of being executed.
    """
    src = nbformat.read(path, as_version=4)
    validate(src, path)
    inputs = build_inputs(path, src, layout, generated)
    build_hash = inputs_hash(inputs)
    sol_path = layout.solutions / path.name
    solution = solution_notebook(src, repo_url, f"solutions/{path.name}")
    executed, reason, stored = None, "it is missing", None
    if sol_path.exists():
        stored = nbformat.read(sol_path, as_version=4)
        meta = stored.metadata.get("course", {})
        if force:
            reason = "--force"
        elif meta.get("build_hash") != build_hash:
            reason = why_stale(meta.get("inputs"), inputs)
        elif skeleton(stored) != skeleton(solution):  # the build's own transforms changed
            header = len(colab_cells("", ""))
            if skeleton(stored)[header:] == skeleton(solution)[header:]:  # only the Colab header: nothing to run
                executed = copy.deepcopy(stored)
                executed.cells[:header] = solution.cells[:header]
            else:
                reason = ("the build now makes other cells than it stored (course_utils/instructor/build.py or "
                          "markers.py changed)")
        else:
            executed = stored
    if executed is None:
        if not execute_if_stale:
            raise StaleError(f"{sol_path.relative_to(layout.root)} is out of date: {reason}; run `course build`")
        log(f"executing {path.name} ({reason}; twice, to check the check outputs are stable) ...")
        executed = execute(solution, layout.solutions, timeout, path)
        check_outputs_stable(executed, execute(solution, layout.solutions, timeout, path), path)
        if stored is not None and without_timings(stored) == without_timings(executed):
            log(f"{path.name}: the same cells and outputs as stored but for timings; keeping the stored ones")
            executed = stored
        executed.metadata["course"] = {"lesson": path.name[:2], "build_hash": build_hash, "inputs": inputs}
    exercise = exercise_notebook(src, repo_url, f"exercises/{path.name}")
    exercise.metadata["course"] = {"lesson": path.name[:2]}
    record = reference_record(exercise, executed, path.name, build_hash)
    return {
        sol_path: dumps(executed),
        layout.exercises / path.name: dumps(exercise),
        layout.reference / (path.stem + ".json"): dumps_record(record),
    }


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


def build(root: Path, *, check: bool = False, force: bool = False, lessons: list[str] | None = None,
          timeout: int = 900, log=print) -> list[str]:
    """Build (or with ``check``, verify) every lesson; return the problems found.

    In build mode the returned list is empty; files are written only when they change.
    """
    layout = Layout(Path(root).resolve())
    sources = sorted(layout.notebooks.glob(LESSON_GLOB)) if layout.notebooks.is_dir() else []
    if lessons:
        sources = [p for p in sources if p.name[:2] in lessons]
    repo_url = repository_url(layout.root) if sources else ""
    # The exported modules first: a lesson's build hash covers the course_utils code it
    # runs, which includes the modules generated from the lessons before it.
    modules = {}
    for path in sources:
        text = export_module(nbformat.read(path, as_version=4), path)
        if text is not None:
            modules[layout.exported_module(path.name)] = text
    problems = write_or_compare(modules, layout, check, log)
    generated = {p.relative_to(layout.root).as_posix(): text for p, text in modules.items()}
    notebooks: dict[Path, str] = {}
    stale_lessons = []
    for path in sources:
        try:
            notebooks.update(generate(path, layout, repo_url, execute_if_stale=not check, force=force,
                                      timeout=timeout, log=log, generated=generated))
        except StaleError as err:  # --check: name every stale lesson, not only the first
            problems.append(str(err))
            stale_lessons.append(path.name)
    problems += write_or_compare(notebooks, layout, check, log)
    if not lessons:
        expected = set(modules) | set(notebooks)
        expected |= {d / name for name in stale_lessons for d in (layout.exercises, layout.solutions)}
        expected |= {layout.reference / (Path(name).stem + ".json") for name in stale_lessons}
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
