"""The reference is not the student's answer: a check refuses the course's own code handed in for an exercise.

The package a student installs holds every lesson's reference code (``course_utils.lessons.lessonMM``,
generated from the solutions so that later lessons can import earlier ones). While a check of lesson
NN runs, ``Watch`` looks for that code standing in for the student's, in two ways:

- in what the check receives (``handed_in``): the object itself, or what it wraps
  (``functools.partial``, a bound method, a ``functools.wraps`` wrapper), a class with a
  reference class among its bases, an instance of one;
- in what runs (``sys.setprofile`` for the check's duration): a function of ``lessonMM.py``,
  MM >= NN, called directly by the student's own code (a notebook cell or a file of theirs),
  whatever route brought it there: ``import``, ``importlib``, ``__import__``, ``getattr``,
  a ``def`` or ``lambda`` around it.

Lesson code the check itself or the course's library runs (a training loop around the
student's step, a probe agent) is not the student's answer and is not counted, nor is
earlier lessons' code: what lesson 03 taught, lesson 04 may use. A module's own
top-level code (the import itself) is not counted either: only calling it is.

It is not a sandbox: code that switches the watch off or retypes the published solution
passes; the similarity report (``course grade``) is where a retyped solution shows.
``COURSE_ACCEPT_REFERENCE=1`` turns the refusal off for the course's own test suite,
which hands the reference to the checks to show that it passes them; the grader removes
it from the kernel's environment, and a sealed check refuses a notebook that sets it.
"""
from __future__ import annotations

import functools
import importlib.util
import os
import re
import sys
import types
from pathlib import Path

ACCEPT_REFERENCE = "COURSE_ACCEPT_REFERENCE"
PACKAGE = "course_utils.lessons"
_LESSON_FILE = re.compile(r"^lesson(\d\d)\.py$")


@functools.lru_cache(maxsize=1)
def _lesson_files() -> dict[str, str]:
    """Return ``{file name as code objects carry it: lesson number}`` for the generated modules.

    Each module is named by its path as found on ``sys.path`` and by its real path, since
    either may be what its code objects carry.
    """
    spec = importlib.util.find_spec(PACKAGE)
    found = {}
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for path in Path(folder).glob("lesson[0-9][0-9].py"):
            lesson = _LESSON_FILE.match(path.name)[1]
            for name in {str(path), os.path.abspath(path), os.path.realpath(path)}:
                found[name] = lesson
    return found


def reference_files(lesson: str) -> dict[str, str]:
    """Return the files of the generated modules of lesson ``lesson`` and later ones (``{file: lesson}``)."""
    files = dict(_lesson_files())
    for name, module in list(sys.modules.items()):   # a module imported by another path
        match = name.startswith(f"{PACKAGE}.lesson") and _LESSON_FILE.match(name.rsplit(".", 1)[1] + ".py")
        path = getattr(module, "__file__", None)
        if match and path:
            files.setdefault(path, match[1])
    return {path: mm for path, mm in files.items() if mm >= lesson}


def _defined_in(obj, files: dict[str, str]) -> str | None:
    """Return ``module.name`` when ``obj`` is a function or class written in one of ``files``, else None."""
    code = getattr(obj, "__code__", None)
    if code is not None and code.co_filename in files:
        return f"{PACKAGE}.lesson{files[code.co_filename]}.{getattr(obj, '__qualname__', code.co_name)}"
    if isinstance(obj, type):
        module = sys.modules.get(getattr(obj, "__module__", ""))
        if getattr(module, "__file__", None) in files:
            return f"{obj.__module__}.{obj.__qualname__}"
    return None


def handed_in(obj, files: dict[str, str], depth: int = 0) -> str | None:
    """Return what reference ``obj`` is or wraps (``module.name``, said as a sentence), or None."""
    if depth > 4 or obj is None or isinstance(obj, (str, bytes, int, float, complex, bool)):
        return None
    own = _defined_in(obj, files)
    if own:
        return own
    if isinstance(obj, type):
        for base in obj.__mro__[1:]:
            found = _defined_in(base, files)
            if found:
                return f"a subclass of {found}"
        return None
    for attribute in ("__wrapped__", "__func__", "func", "pyfunc"):   # wraps, methods, partial, np.vectorize
        try:
            inner = getattr(obj, attribute, None)
        except Exception:  # noqa: BLE001 - an object whose attributes raise is simply not a wrapper
            continue
        if inner is not None and inner is not obj and callable(inner):
            found = handed_in(inner, files, depth + 1)
            if found:
                return found
    if isinstance(obj, (list, tuple, dict)):   # a check given several answers at once
        values = obj.values() if isinstance(obj, dict) else obj
        return next((f for f in (handed_in(v, files, depth + 1) for v in list(values)[:50]) if f), None)
    kind = type(obj)
    if not isinstance(obj, types.FunctionType) and kind.__module__ not in ("builtins", "functools"):
        found = handed_in(kind, files, depth + 1)
        if found:
            return f"an instance of {found.removeprefix('a subclass of ')}"
    return None


def _students(filename: str) -> bool:
    from . import _is_students   # the same rule as the error messages' "(in NAME, line N)"

    return _is_students(filename) and not filename.startswith("<frozen")


class Watch:
    """For one check of exercise ``exercise``: what reference code stood in for the student's (``found``), if any.

    Use as a context manager around the check; ``found`` names the first reference
    object handed in or called by the student's code, as ``course_utils.lessons.lessonMM.name``.
    """

    def __init__(self, exercise: str, args: tuple, kwargs: dict):
        self.lesson = exercise.split(".")[0]
        self.found: str | None = None
        self.how = ""
        self._previous = None
        self._hook = None
        self.active = os.environ.get(ACCEPT_REFERENCE) != "1"
        if not self.active:
            return
        self.files = reference_files(self.lesson)
        for value in (*args, *kwargs.values()):
            found = handed_in(value, self.files)
            if found:
                self.found, self.how = found, "the check was given {found}"
                return

    def __enter__(self) -> Watch:
        if self.active and self.found is None and self.files:
            self._previous = sys.getprofile()
            files, look = self.files, self._look

            def hook(frame, event, arg):   # on every call and return while the check runs: kept small
                if event == "call" and frame.f_code.co_filename in files:
                    look(frame)
            self._hook = hook
            sys.setprofile(hook)
        return self

    def __exit__(self, *exc) -> None:
        if self._hook is None:
            return
        if sys.getprofile() is not self._hook and self.found is None:
            self.found, self.how = "the check's watch", "switched off while the check ran"
        sys.setprofile(self._previous)

    def _look(self, frame) -> None:
        """Record ``frame``'s function when the student's code called it (through other lesson code, maybe)."""
        code = frame.f_code
        if self.found is not None or code.co_name == "<module>":
            return   # importing the module runs its top level: not an answer
        caller = frame.f_back
        lesson_files = _lesson_files()
        while caller is not None and (caller.f_code.co_filename in lesson_files
                                      or caller.f_code.co_filename in self.files):
            if caller.f_code.co_name == "<module>":
                return
            caller = caller.f_back
        if caller is not None and _students(caller.f_code.co_filename):
            name = getattr(code, "co_qualname", code.co_name)
            self.found = f"{PACKAGE}.lesson{self.files[code.co_filename]}.{name}"
            self.how = f"your {caller.f_code.co_name} calls {{found}}"

    def message(self) -> str:
        """Return the failure's "what" (the hint is ``HINT``)."""
        if self.found == "the check's watch":
            return "the check's watch for the course's reference code was switched off while it ran: write your own"
        return f"this is the course's reference solution, imported: write your own ({self.how.format(found=self.found)})"


HINT = ("course_utils.lessons holds the published solutions, so that later lessons can build on earlier ones; "
        "an exercise may use what earlier lessons taught, but its answer has to be code you wrote")
