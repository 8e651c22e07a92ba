"""What notebooks need to know about the session they run in: headless or watched, Colab, the lesson seed (introduced in lesson 01)."""
from __future__ import annotations

import contextlib
import os
import sys

# Set for every kernel that `course build`, `course grade` and `course check` start:
# no front end is watching, so nothing may wait for a person or draw a live bar.
HEADLESS_ENV = {
    "COURSE_HEADLESS": "1",
    "TQDM_DISABLE": "1",
    "SDL_VIDEODRIVER": "dummy",
    "SDL_AUDIODRIVER": "dummy",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "PYTHONHASHSEED": "0",
}


def is_headless() -> bool:
    """Return True when no person is watching: a build, a grading run or plain Python.

    Notebooks use it to skip what needs a front end (opening TensorBoard in a cell,
    waiting for a button press) and to take a scripted path instead.
    """
    if os.environ.get("COURSE_HEADLESS") == "1":
        return True
    return "ipykernel" not in sys.modules


def on_colab() -> bool:
    """Return True inside Google Colab."""
    return "google.colab" in sys.modules


def lesson_seed(default: int = 0) -> int:
    """Return the seed a lesson runs with: ``COURSE_SEED`` if set, else ``default``.

    The test suite and the benchmarks set ``COURSE_SEED`` to check that a
    solution learns under other seeds too.
    """
    value = os.environ.get("COURSE_SEED", "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise ValueError(f"lesson_seed: COURSE_SEED must be a non-negative int, got {value!r}")
    return int(value)


@contextlib.contextmanager
def environment(values: dict):
    """Set environment variables for the ``with`` block (and the kernels it starts), then restore them.

    Example:
        >>> with environment({"COURSE_EXAMPLE": "1"}):
        ...     os.environ["COURSE_EXAMPLE"]
        '1'
        >>> "COURSE_EXAMPLE" in os.environ
        False
    """
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
