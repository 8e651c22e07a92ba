"""``course release OUT --through NN --repo URL``: the course as a class sees it, without solutions.

The release holds what a student needs up to lesson NN and no answer to an open lesson:

- ``exercises/`` of lessons 01 to NN, their Colab badge and set-up cell pointing at ``--repo``
  (made by ``transforms.colab_cells``, as ``course build`` makes them);
- the package ``course_utils/`` with the generated modules of the lessons before NN only
  (lesson NN may import what they taught; NN and later are still open), and the
  ``pyproject.toml`` whose Repository is ``--repo``, so Colab's set-up cell installs it from there;
- the set-up files (``requirements-lock.txt``, ``environment.yml``, ``tasks.py``) and a README for students.

No ``notebooks/``, ``solutions/``, ``grading/``, ``tests/``, ``benchmarks/`` or ``site/``. Releasing
the next lesson is the same command with a higher NN into the same folder (a clone of the class
repository): the files the release manages are replaced, the rest (``.git``) is left alone.

The checks of lessons 01 to NN ship, since the exercises' check cells call them; each keeps an
oracle of its own. ``leak_notes`` names every file of the release that holds a large share of an
open exercise's solution (compared as the similarity report compares students), for the instructor to know.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat

from .build import LESSON_GLOB, Layout
from .errors import BuildError
from .markers import MarkerIndex
from .transforms import colab_cells, header_length
from .verdict import exercise_sources

MARKER = ".course-release.json"   # what a release folder holds about itself
MANAGED = ["exercises", "course_utils", "README.md", "pyproject.toml", "requirements-lock.txt", "environment.yml",
           "tasks.py", ".gitignore", MARKER]
SET_UP_FILES = ["requirements-lock.txt", "environment.yml", "tasks.py", ".gitignore"]
GITHUB = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class ReleaseError(BuildError):
    """A release that cannot be made as asked (its message says why and what to do)."""


def lessons_of(layout: Layout) -> dict[str, Path]:
    """Return ``{lesson number: exercise notebook}`` of the built course."""
    return {p.name[:2]: p for p in sorted(layout.exercises.glob(LESSON_GLOB))}


def _title(nb) -> str:
    """Return the lesson's title: the first Markdown heading after the Colab header."""
    for cell in nb.cells[header_length():]:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return ""


def _check_arguments(out: Path, through: str, repo: str, lessons: dict[str, Path]) -> None:
    if not lessons:
        raise ReleaseError("no exercises/ to release: run `course build` in the course folder first (or give --root)")
    if not re.fullmatch(r"\d\d", through) or through not in lessons:
        raise ReleaseError(f"--through {through}: no such lesson; the course has lessons {', '.join(lessons)}")
    if not GITHUB.match(repo.rstrip("/").removesuffix(".git")):
        raise ReleaseError(f"--repo {repo}: give the class repository's GitHub address, "
                           "https://github.com/OWNER/NAME (Colab opens notebooks from GitHub)")
    if out.exists() and not out.is_dir():
        raise ReleaseError(f"{out} is a file; give a folder")
    if out.is_dir() and any(p.name != ".git" for p in out.iterdir()) and not (out / MARKER).is_file():
        raise ReleaseError(f"{out} is not empty and holds no earlier release ({MARKER}); give an empty folder "
                           "or a clone of the class repository made by an earlier `course release`")


def _exercise(path: Path, repo: str) -> str:
    """Return an exercise notebook with its Colab badge and set-up cell pointing at ``repo``."""
    nb = nbformat.read(path, as_version=4)
    header = header_length()
    ids = [c.get("id") for c in nb.cells[:header]]
    if ids != ["colab-badge", "colab-setup"]:
        raise ReleaseError(f"{path}: its first cells are not the Colab header `course build` writes; "
                           "run `course build` first")
    nb.cells[:header] = colab_cells(repo, f"exercises/{path.name}")
    return nbformat.writes(nb) + "\n"


def _pyproject(text: str, repo: str) -> str:
    """Return pyproject.toml for the release: its Repository is ``repo``; no grading records to install."""
    text, found = re.subn(r'(?m)^Repository\s*=\s*".*"$', f'Repository = "{repo}"', text)
    if not found:
        raise ReleaseError("pyproject.toml has no [project.urls] Repository line to point at --repo")
    lines, kept, skipping = text.splitlines(keepends=True), [], False
    for line in lines:   # the table that installs grading/ goes: a release has none
        if line.startswith("["):
            skipping = line.strip() == "[tool.setuptools.data-files]"
        if not skipping:
            kept.append(line)
    return "".join(kept)


def _package(root: Path, out: Path, through: str) -> list[str]:
    """Copy ``course_utils/`` without the generated modules of lesson ``through`` and later, nor the checks of
    lessons after it (no exercise released calls them, and they hold oracles); return the lesson modules kept."""
    target = out / "course_utils"
    shutil.copytree(root / "course_utils", target,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))
    for checks in (target / "checks").glob("lesson[0-9][0-9].py"):
        if checks.stem[-2:] > through:
            checks.unlink()
    kept = []
    for module in sorted((target / "lessons").glob("lesson[0-9][0-9].py")):
        if module.stem[-2:] >= through:
            module.unlink()
        else:
            kept.append(module.stem[-2:])
    return kept


def readme(repo: str, titles: dict[str, str], through: str) -> str:
    """Return the students' README of a release."""
    github = repo.removeprefix("https://github.com/")
    rows = [f"| {n} | {t} | [open in Colab](https://colab.research.google.com/github/{github}/blob/main/exercises/"
            f"{name}) |" for n, (t, name) in titles.items()]
    return "\n".join([
        "# Deep reinforcement learning, hands on: the exercises", "",
        "Numbered Jupyter notebooks, one per lesson. Each explains one idea, asks you to write the few lines at its "
        "heart in the cells marked `# YOUR CODE HERE`, and checks them the moment you run the check cell under "
        "each exercise: it says the exercise passed, or what is wrong with a hint. Then the notebook trains an "
        "agent with your code.", "",
        f"The lessons released so far (up to lesson {through}; the next ones come later):", "",
        "| lesson | topic | |", "| --- | --- | --- |", *rows, "",
        "## Working on Colab", "",
        "Open a lesson with its link above. Its first code cell installs the course's package, `course_utils`, "
        "on Colab (once; running it again does nothing). Save your work with *File → Save a copy in Drive*.", "",
        "## Working on your own machine", "",
        "You need Python 3.11 to 3.13 and about 3 GB of disk. Clone this repository, then:", "",
        "```bash", "python3 tasks.py lab", "```", "",
        "The first run makes a virtual environment in `.venv/` with the exact versions of `requirements-lock.txt` "
        "(a few minutes, most of it TensorFlow), then opens JupyterLab on `exercises/`. With conda: "
        "`conda env create -f environment.yml`, `conda activate drl-course`, `jupyter lab exercises`. "
        "`.venv/bin/course doctor` says what is wrong with a set-up that does not work.", "",
        "## What is here and what is not", "",
        "`exercises/` holds the notebooks, `course_utils/` the package they import: environments, plotting, video, "
        "the checks, and in `course_utils/lessons/` the code of the lessons already behind you, which later "
        "lessons build on. The solutions of the open lessons are not in this repository.", "",
        "The check cells tell you whether your code is right; your instructor grades the notebook you hand in by "
        "running the same checks again. A check refuses the course's own code handed in as your answer.", "",
        "## New lessons", "",
        "When a new lesson is released, it appears in this repository. To get it into your clone without losing "
        "your work, commit your work, then `git pull` (or copy the new notebook from `exercises/`).", ""])


def leak_notes(root: Path, out: Path, through: str, share: float = 0.5) -> list[str]:
    """Return a note for each file of the release that holds ``share`` or more of an open exercise's solution.

    Open exercises are those of lesson ``through`` and later. The solution's exercise cell and
    each Python file and notebook's code are compared after the similarity report's normalising
    (names, strings, comments, layout), by winnowed fingerprints. A check module is expected to
    hold an oracle of its own; library code that holds one is worth a look.
    """
    from .intake import read_notebook
    from .similarity import fingerprints, normalised

    def code(path: Path) -> str:
        if path.suffix == ".ipynb":
            return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        return path.read_text(encoding="utf-8", errors="replace")

    shipped = {p.relative_to(out).as_posix(): fingerprints(normalised(code(p)))
               for p in sorted(out.rglob("*")) if p.suffix in (".py", ".ipynb") and ".git" not in p.parts}
    layout, notes = Layout(root), []
    for lesson, path in lessons_of(layout).items():
        solution = layout.solutions / path.name
        if lesson < through or not solution.is_file():
            continue
        nb = read_notebook(solution)
        for exercise, text in sorted(exercise_sources(nb, MarkerIndex.of(nb.cells)).items()):
            own = fingerprints(normalised(text))
            for name, held in shipped.items():
                found = len(own & held) / len(own) if own else 0.0
                if found >= share:
                    why = " (the check's own oracle)" if name == f"course_utils/checks/lesson{lesson}.py" else ""
                    notes.append(f"{name} holds {found:.0%} of the solution of exercise {exercise}{why}, "
                                 "which a student can read")
    return notes


def release(root: Path, out: Path, through: str, repo: str, log=print) -> dict:
    """Write the release of lessons 01 to ``through`` into ``out``; return what it holds."""
    root, out = Path(root).resolve(), Path(out).resolve()
    layout = Layout(root)
    repo = repo.rstrip("/").removesuffix(".git")
    lessons = lessons_of(layout)
    _check_arguments(out, through, repo, lessons)
    out.mkdir(parents=True, exist_ok=True)
    for name in MANAGED:   # an earlier release's files go; the rest of the folder (.git) stays
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    released = {n: p for n, p in lessons.items() if n <= through}
    (out / "exercises").mkdir()
    titles = {}
    for lesson, path in released.items():
        (out / "exercises" / path.name).write_text(_exercise(path, repo), encoding="utf-8")
        titles[lesson] = (_title(nbformat.read(path, as_version=4)), path.name)
    modules = _package(root, out, through)
    (out / "pyproject.toml").write_text(_pyproject((root / "pyproject.toml").read_text(), repo))
    for name in SET_UP_FILES:
        if (root / name).is_file():
            shutil.copy2(root / name, out / name)
    (out / "README.md").write_text(readme(repo, titles, through), encoding="utf-8")
    summary = {"through": through, "repo": repo, "exercises": sorted(released), "lesson_modules": modules}
    (out / MARKER).write_text(json.dumps(summary, indent=1) + "\n")
    log(f"released lessons {', '.join(released)} to {out}: exercises/ with Colab links to {repo}, "
        f"course_utils/ with the generated modules of lessons {', '.join(modules) or '(none)'}, and a README")
    for note in leak_notes(root, out, through):
        log(f"note: {note}")
    return summary
