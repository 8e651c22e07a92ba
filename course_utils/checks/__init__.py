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
        fail(exercise, f"{getattr(function, '__name__', 'your function')} raised {type(err).__name__}: "
             f"{_tidy(err)}", hint)


def _student_frame(tb) -> str:
    """Return ' (in NAME, line N)' for the innermost frame of the student's own code, or ''.

    The student's code is what is neither this package nor an installed library: a
    notebook cell (a kernel's temporary file, or ``<...>`` for code without a file) or
    a file of the student's own.
    """
    import os
    import site
    import sys
    import sysconfig
    import traceback

    def inside(path: str, folder: str) -> bool:
        try:
            return os.path.commonpath([path, folder]) == folder
        except ValueError:  # another drive on Windows
            return False

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    libraries = {os.path.abspath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                              *sysconfig.get_paths().values(), *site.getsitepackages(),
                                              site.getusersitepackages()) if p}
    found = ""
    for frame in traceback.extract_tb(tb):
        if frame.filename.startswith("<"):
            found = f" (in {frame.name}, line {frame.lineno})"
            continue
        path = os.path.abspath(frame.filename)
        if not inside(path, package) and not any(inside(path, lib) for lib in libraries):
            found = f" (in {frame.name}, line {frame.lineno})"
    return found


def guarded(exercise: str, hint: str):
    """Decorate a check so that an exception from the student's code fails it with the course's message.

    A check calls the student's code many times; when that code raises (a wrong
    unpacking, a shape error from NumPy or TensorFlow), the student should read
    "Exercise NN.k: your code raised ...", where it was raised and a hint, not a
    library traceback. An untouched stub's ``NotImplementedError`` and the check's
    own failures pass through unchanged.
    """
    import functools

    def wrap(check):
        @functools.wraps(check)
        def run(*args, **kwargs):
            try:
                return check(*args, **kwargs)
            except NotImplementedError:
                raise
            except AssertionError as err:
                if str(err).startswith("Exercise "):
                    raise
                what = f"your code failed an assertion: {_tidy(err)}{_student_frame(err.__traceback__)}"
            except Exception as err:  # noqa: BLE001 - any error of the student's code becomes a hint
                what = f"your code raised {type(err).__name__}: {_tidy(err)}{_student_frame(err.__traceback__)}"
            fail(exercise, what, hint)  # outside the handler: no library traceback chained before it
        return run
    return wrap


def _tidy(err: BaseException) -> str:
    """Return an exception's message on one line, without TensorFlow's op prefix, at most 200 characters."""
    message = re.sub(r"\{\{.*?\}\}\s*", "", str(getattr(err, "message", err))).strip()
    message = " ".join(message.split())
    return message[:200] + ("..." if len(message) > 200 else "")
