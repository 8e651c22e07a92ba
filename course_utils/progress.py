"""Progress bars that work in JupyterLab, Colab, VS Code and headless runs (lesson 01)."""
from __future__ import annotations

import os
from typing import Iterable


def progress_bar(iterable: Iterable | None = None, total: int | None = None, desc: str | None = None, **kwargs):
    """Return a ``tqdm.auto`` progress bar over ``iterable`` (or one updated by hand).

    In a notebook it is a widget, in a terminal a text bar. Set the environment
    variable ``TQDM_DISABLE=1`` to switch every bar off (the test suite and the
    grader do), so headless runs print nothing that changes from run to run.

    Example:
        >>> for step in progress_bar(range(3), desc="training", disable=True):
        ...     pass
    """
    from tqdm.auto import tqdm

    if os.environ.get("TQDM_DISABLE") == "1" or os.environ.get("COURSE_HEADLESS") == "1":
        kwargs["disable"] = True  # tqdm's notebook bar does not read TQDM_DISABLE itself
    kwargs.setdefault("mininterval", 0.5)
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, total=total, desc=desc, **kwargs)
