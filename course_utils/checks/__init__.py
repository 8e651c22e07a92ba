"""Exercise checks, one module per lesson (``course_utils.checks.lesson03`` ...).

A check takes the student's object, tries it on many inputs against the reference
and against known mistakes, and either prints short fixed lines (the same on every
machine and seed, so nbval can compare them) or raises ``AssertionError`` with a
hint that names the likely mistake. The helpers here keep those two promises.
"""
from __future__ import annotations

import re

import numpy as np


def passed(exercise: str, cases: int, *extra: str) -> None:
    """Print the fixed success lines of a check."""
    print(f"Exercise {exercise}: passed ({cases} cases checked).")
    for line in extra:
        print(line)


def fail(exercise: str, what: str, hint: str) -> None:
    """Raise the ``AssertionError`` a check gives on a wrong answer."""
    raise AssertionError(f"Exercise {exercise}: {what}\nHint: {hint}")


def mean_return_reaches(exercise: str, returns, threshold: float, episodes: int, solved: str, hint: str) -> None:
    """Check ``episodes`` evaluation returns average at least ``threshold``; print ``solved`` if so."""
    returns = np.asarray(returns, dtype=float)
    if returns.shape != (episodes,):
        fail(exercise, f"got {returns.size} returns", f"evaluate the policy on {episodes} episodes")
    if returns.mean() < threshold:
        fail(exercise, f"mean return {returns.mean():.1f} over {episodes} episodes is below {threshold:g}", hint)
    print(solved)


def each_reaches(exercise: str, greedy_returns: dict, names, threshold: float, episodes: int,
                 solved: str, hint: str) -> None:
    """Check every run named in ``names`` reaches ``threshold``; ``solved`` and ``hint`` take ``{name}``."""
    for name in names:
        if name not in greedy_returns:
            wanted = ", ".join(f"{n!r}: returns" for n in names)
            fail(exercise, f"no returns for the {name!r} run", f"pass a dict {{{wanted}}}")
        mean_return_reaches(exercise, greedy_returns[name], threshold, episodes,
                            solved.format(name=name), hint.format(name=name))


def call(exercise: str, function, *args, hint: str):
    """Call the student's function; an exception becomes a failure that names it, with ``hint``.

    ``NotImplementedError`` passes through: an untouched stub's own message says what to do.
    """
    try:
        return function(*args)
    except NotImplementedError:
        raise
    except Exception as err:
        message = re.sub(r"\{\{.*?\}\}\s*", "", str(getattr(err, "message", err))).strip()  # TF's op prefix
        fail(exercise, f"{getattr(function, '__name__', 'your function')} raised {type(err).__name__}: "
             f"{message[:200]}", hint)
