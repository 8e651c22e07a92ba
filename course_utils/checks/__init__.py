"""Exercise checks, one module per lesson (``course_utils.checks.lesson03`` ...).

A check takes the student's object, tries it on many inputs against the reference
and against known mistakes, and either prints short fixed lines (the same on every
machine and seed, so nbval can compare them) or raises ``AssertionError`` with a
hint that names the likely mistake. The helpers here keep those two promises.
"""
from __future__ import annotations


def passed(exercise: str, cases: int, *extra: str) -> None:
    """Print the fixed success lines of a check."""
    print(f"Exercise {exercise}: passed ({cases} cases checked).")
    for line in extra:
        print(line)


def fail(exercise: str, what: str, hint: str) -> None:
    """Raise the ``AssertionError`` a check gives on a wrong answer."""
    raise AssertionError(f"Exercise {exercise}: {what}\nHint: {hint}")
