"""Sealed checks: what a graded check cell calls instead of the notebook's ``checks``.

``course grade`` rewrites every reference check cell to::

    # CHECK 04.2 (2 points)
    checks = __import__("course_utils.instructor.sealed", fromlist=["open_checks"]).open_checks(
        "course_utils.checks.lesson04", "04.2")
    checks.check_td_targets(td_targets)
    checks.close()

``open_checks`` loads a fresh copy of the lesson's check module from its file, under a
private name, so a notebook that rebound ``checks``, or used ``setattr`` on
``course_utils.checks.lesson04`` (or on the helpers the checks share), runs the
course's own code anyway. It also compares the copy the notebook sees with the fresh
one, and the kernel's ``print`` and output streams with the genuine ones; a difference
raises ``CheckTampered`` naming it, which the grader reports as status ``tampered``.
``close`` looks again after the check ran (student code runs inside a check), so a
check that was patched while it ran does not count either.

This raises the bar; it is not a sandbox. Code that rewrites the import system, the
interpreter or the libraries the checks call can still fool any check that runs in
the student's own process; the README says what is and is not defended.
"""
from __future__ import annotations

import builtins
import importlib
import importlib.util
import os
import sys
import types
import uuid
from pathlib import Path

class CheckTampered(Exception):
    """The notebook replaced part of the course's check code or the kernel's output."""


def _fingerprint(obj, depth: int = 0):
    """Return what decides a function's behaviour: its code (and nested code), names and wrapped functions."""
    if depth > 4:
        return None
    code = getattr(obj, "__code__", None)
    if code is None:
        return ("object", type(obj).__name__)
    closure = tuple(_fingerprint(c.cell_contents, depth + 1) for c in (obj.__closure__ or ())
                    if callable(_contents(c)))
    wrapped = getattr(obj, "__wrapped__", None)
    return (_code(code), closure, _fingerprint(wrapped, depth + 1) if wrapped is not None else None)


def _contents(cell):
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


def _code(code: types.CodeType):
    return (code.co_code, code.co_names, tuple(_code(c) if isinstance(c, types.CodeType) else repr(c)
                                               for c in code.co_consts))


def _functions(module) -> dict:
    """Return the module's own public functions and classes (not what it imported)."""
    return {name: value for name, value in vars(module).items()
            if not name.startswith("__") and callable(value)
            and getattr(value, "__module__", None) == module.__name__}


def _load_fresh(name: str):
    """Return a fresh copy of module ``name`` (and of its package) loaded from its file under a private name."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin:
        raise CheckTampered(f"the check module {name} cannot be found")
    private = f"_sealed_{uuid.uuid4().hex[:12]}"
    parent, _, leaf = name.rpartition(".")
    if not parent:
        return _exec(f"{private}_{leaf}", Path(spec.origin))
    package_spec = importlib.util.find_spec(parent)
    grand, _, _ = parent.rpartition(".")
    package_name = f"{grand}.{private}" if grand else private  # inside the same parent, so `..x` imports resolve
    _exec(package_name, Path(package_spec.origin), package=True)
    return importlib.import_module(f"{package_name}.{leaf}")


def _exec(name: str, path: Path, package: bool = False):
    spec = importlib.util.spec_from_file_location(name, path,
                                                  submodule_search_locations=[str(path.parent)] if package else None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _live_modules(name: str) -> list[str]:
    """Return ``name`` and the packages above it, as far as ``course_utils``' own ones."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)][:2]


def _output_problems() -> list[str]:
    """Return how the notebook changed ``print`` or the kernel's output streams, if it did."""
    problems = []
    p = builtins.print
    if not (type(p) is types.BuiltinFunctionType and p.__name__ == "print" and p.__self__ is builtins):
        problems.append("builtins.print was replaced")
    if "ipykernel" not in sys.modules:
        return problems
    from ipykernel.iostream import OutStream
    from ipykernel.kernelapp import IPKernelApp

    if not IPKernelApp.initialized():  # not in a kernel (plain Python, tests): no kernel streams to compare
        return problems
    from ..checks.own_work import ACCEPT_REFERENCE

    if ACCEPT_REFERENCE in os.environ:  # the grader's kernel starts without it: the notebook set it
        problems.append(f"the notebook set {ACCEPT_REFERENCE}, which lets the course's reference code pass as its own")

    if OutStream.write.__qualname__ != "OutStream.write" or OutStream.write.__module__ != "ipykernel.iostream":
        problems.append("the kernel's output stream class was patched")
    for stream in ("stdout", "stderr"):
        live = getattr(sys, stream)
        if type(live) is not OutStream:
            problems.append(f"sys.{stream} is a {type(live).__name__}, not the kernel's output stream")
        elif "write" in vars(live) and not _is_ipython_tee(vars(live)["write"]):
            problems.append(f"sys.{stream}.write was replaced")
    return problems


def _is_ipython_tee(write) -> bool:
    """Return whether an instance ``write`` on a kernel stream is IPython's own (it tees output to its history)."""
    return (getattr(write, "__module__", None) == "IPython.core.interactiveshell"
            and getattr(write, "__qualname__", "") == "InteractiveShell._tee.<locals>.write")


class SealedChecks:
    """A fresh copy of a lesson's checks; ``close()`` verifies nothing was patched while they ran."""

    def __init__(self, module_name: str, exercise: str):
        self._name, self._exercise = module_name, exercise
        self._module = _load_fresh(module_name)
        self._sealed = {m.__name__: {k: _fingerprint(v) for k, v in _functions(m).items()}
                        for m in self._own_modules(self._module)}
        self._verify(self._live_problems() + _output_problems())

    @staticmethod
    def _own_modules(module) -> list:
        """The fresh module and the fresh package it was loaded in (where the shared helpers are)."""
        found = [module]
        parent = module.__name__.rpartition(".")[0]
        if parent and "_sealed_" in parent:
            found.append(sys.modules[parent])
        return found

    def _live_problems(self) -> list[str]:
        """Compare the copies the notebook could reach (sys.modules) with the fresh ones."""
        problems = []
        fresh = self._own_modules(self._module)
        for live_name, module in zip(_live_modules(self._name), fresh):
            live = sys.modules.get(live_name)
            if live is None:
                continue
            for key, value in _functions(module).items():
                if not hasattr(live, key):
                    problems.append(f"{live_name}.{key} was deleted")
                elif _fingerprint(getattr(live, key)) != _fingerprint(value):
                    problems.append(f"{live_name}.{key} was replaced")
        return problems

    def _verify(self, problems: list[str]) -> None:
        if problems:
            raise CheckTampered(f"Exercise {self._exercise}: tampered: {'; '.join(problems[:3])}"
                                + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
                                + ". The notebook changed the course's check code or the kernel's output, so "
                                  "this check cannot be trusted; remove that code and run the check again.")

    def __getattr__(self, name: str):
        return getattr(self._module, name)

    def close(self) -> None:
        """Raise ``CheckTampered`` if the fresh checks or the output were changed while the check ran."""
        problems = [f"the graded check's {k} was replaced while it ran"
                    for m in self._own_modules(self._module) for k, print_ in self._sealed[m.__name__].items()
                    if not hasattr(m, k) or _fingerprint(getattr(m, k)) != print_]
        self._verify(problems + _output_problems())


def open_checks(module_name: str, exercise: str) -> SealedChecks:
    """Return a sealed, fresh copy of the check module ``module_name`` for exercise ``exercise``."""
    return SealedChecks(module_name, exercise)
