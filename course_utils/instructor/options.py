"""Settings of a grading run, and where the grading records are (no third-party imports,
so the ``course`` command can describe its options on an install without the instructor extra)."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

GRADING_DIR = "grading"  # where `course build` writes the grading records, beside exercises/ and solutions/
INSTALLED_GRADING = Path(sys.prefix) / "share" / "course-utils" / GRADING_DIR  # pyproject's data-files


def default_reference() -> Path:
    """Return the grading records' folder: the checkout's ``grading/``, else the installed copy.

    The records are generated data, not package source: ``course build`` writes them
    to ``grading/`` in the course folder, and a wheel installs them under
    ``<prefix>/share/course-utils/grading`` so ``course check`` works without a checkout.
    """
    checkout = Path(__file__).resolve().parents[2] / GRADING_DIR
    return checkout if checkout.is_dir() else INSTALLED_GRADING


@dataclass
class Options:
    """Settings of a grading run."""

    reference: Path = field(default_factory=default_reference)
    cell_timeout: int = 1200
    kernel_timeout: int = 120
    memory_limit_mb: int = 8192  # 0: no limit
    notebook_timeout: int = 3600  # no new run of a notebook (after a hang) once this many seconds are spent
