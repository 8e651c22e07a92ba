"""Headless, quiet defaults for every test (tasks.py sets them too; this covers a bare `pytest`)."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TQDM_DISABLE", "1")
# the tests hand the lessons' reference code to the checks, to show that it passes them; a check refuses
# it otherwise (course_utils/checks/own_work.py), and the tests of that refusal remove this
os.environ.setdefault("COURSE_ACCEPT_REFERENCE", "1")

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def course_cmd() -> str:
    """Path of the `course` console script installed next to this interpreter."""
    path = Path(sys.executable).parent / ("course.exe" if sys.platform == "win32" else "course")
    assert path.exists(), f"{path} missing: install the package (python3 tasks.py test does)"
    return str(path)
