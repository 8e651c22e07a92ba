"""Transforms: what ``course build`` does to a lesson source to make its solution and its exercise notebook.

Each transform is a function of one form, ``transform(nb, target)``: it edits ``nb``, a
copy of the source that ``make`` gives it, for the notebook ``target`` names, and
returns nothing. A notebook is made by a declared, ordered list of them (``SOLUTION``,
``EXERCISE``), as nbgrader's preprocessors are. A transform finds a cell's kind from
the marker on its first line, which none of them changes; so the order matters only
where the lists say.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable

import nbformat

from . import markers
from .markers import CHECK_TAG, EXERCISE_TAG, NBVAL_CHECK_TAG, cell_marker
from .export import EXPORT_TAG


@dataclass(frozen=True)
class Target:
    """The notebook a transform makes: its path in the course folder (``solutions/04_dqn.ipynb``) and the repository."""

    rel_path: str
    repo_url: str

    @property
    def lesson(self) -> str:
        return self.rel_path.rsplit("/", 1)[-1][:2]


Transform = Callable[[nbformat.NotebookNode, Target], None]


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


def header_length() -> int:
    """Return how many cells the Colab header adds (errors name a cell as it is in the source, after them)."""
    return len(colab_cells("", ""))


def add_colab_header(nb, target: Target) -> None:
    """Put the Colab badge and set-up cell first."""
    nb.cells = colab_cells(target.repo_url, target.rel_path) + nb.cells


def tag_marked_cells(nb, target: Target) -> None:
    """Give marked cells their tags and course metadata (``tag_cells``)."""
    tag_cells(nb)


def keep_solutions(nb, target: Target) -> None:
    """Remove the region marker lines, keeping the solutions."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = markers.solution_source(cell.source)


def clear_outputs(nb, target: Target) -> None:
    """Clear every code cell's outputs and execution count, check cells too: a handed-out notebook shows no
    verdict (and no answer a check prints) before the student runs it; the reference outputs live in the
    grading record."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None


def stub_solutions(nb, target: Target) -> None:
    """Replace each solution region of an exercise cell with ``# YOUR CODE HERE`` and a ``raise``."""
    for cell in nb.cells:
        marker = cell_marker(cell)
        if marker is not None and marker.kind == "exercise":
            cell.source = markers.stub_source(cell.source, marker.exercise)


def record_lesson(nb, target: Target) -> None:
    """Name the lesson in the notebook's metadata, where ``course grade`` looks when the file name does not."""
    nb.metadata["course"] = {"lesson": target.lesson}


# The header goes first, so that tagging sees (and leaves untagged) the header's cells as well;
# the rest key on each cell's first line, which none of them changes.
SOLUTION: tuple[Transform, ...] = (add_colab_header, tag_marked_cells, keep_solutions)
EXERCISE: tuple[Transform, ...] = (add_colab_header, tag_marked_cells, clear_outputs, stub_solutions, record_lesson)


def make(src, transforms: tuple[Transform, ...], target: Target):
    """Return a copy of the source ``src`` with ``transforms`` applied in order."""
    nb = copy.deepcopy(src)
    for transform in transforms:
        transform(nb, target)
    return nb
