"""The demo lesson as a throwaway course folder, built once per test session."""
import os
import shutil
from pathlib import Path

import nbformat

from course_utils.instructor.markers import cell_marker

DEMO = Path(__file__).resolve().parent / "demo"
ROOT = Path(__file__).resolve().parents[1]


def make_course(tmp: Path) -> Path:
    """Copy the demo lesson into a new course folder and return it (not built)."""
    shutil.copytree(DEMO / "notebooks", tmp / "notebooks")
    shutil.copy(ROOT / "pyproject.toml", tmp / "pyproject.toml")
    return tmp


def demo_env() -> None:
    """Let kernels import the demo lesson's checks."""
    path = str(DEMO)
    if path not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (path, os.environ.get("PYTHONPATH")) if p)


def cell_index(nb, kind: str, exercise: str) -> int:
    """Return the index of the exercise or check cell of ``exercise``."""
    return next(i for i, c in enumerate(nb.cells) if (m := cell_marker(c)) and (m.kind, m.exercise) == (kind, exercise))


def read(path: Path):
    return nbformat.read(path, as_version=4)
