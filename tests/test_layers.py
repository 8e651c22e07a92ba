"""The package's three layers follow the lessons' order, and every lesson uses only what came before it.

- the library (``course_utils``'s own modules, ``course_utils.checks``' helpers) imports nothing generated
  and nothing of the debugging kit;
- ``course_utils.lessons.lessonNN`` (generated) imports the library and earlier lessons only;
- the debugging kit (``course_utils.debugging``) sits above the lessons it probes, and only the debugging
  lesson and the lessons after it may use it;
- a lesson's check module and its notebook, through any chain of imports, reach earlier lessons only.

Imports are read with ``ast`` (inside functions too, relative ones resolved, ``cu.name`` followed
through the package's table), the way ``course build`` reads them for staleness.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from course_utils import debugging
from course_utils.instructor.staleness import imported_modules, lesson_modules

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "course_utils"
LESSON_MODULE = re.compile(r"^course_utils\.(?:lessons|checks)\.lesson(\d\d)$")
KIT_LESSON = debugging.LESSON


def _dotted(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The package modules ``path`` imports directly (its own name left out)."""
    name = _dotted(path)
    found = imported_modules(path.read_text(), name, is_package=path.name == "__init__.py")
    return {m for m in found if m not in {name, "course_utils"} and not name.startswith(m + ".")}


def _lesson(module: str) -> str | None:
    found = LESSON_MODULE.match(module)
    return found.group(1) if found else None


def _is_generated(module: str) -> bool:
    return module.startswith("course_utils.lessons.")


def _is_kit(module: str) -> bool:
    return module == "course_utils.debugging" or module.startswith("course_utils.debugging.")


def _layer_errors(module: str, imports: set[str]) -> list[str]:
    """Return one line per import of ``module`` that reaches above its layer (empty when none does)."""
    errors = []
    own = _lesson(module)
    instructor = module.startswith("course_utils.instructor") or module == "course_utils.__main__"  # `python -m`
    for target in sorted(imports):
        if target.startswith("course_utils.instructor") and not instructor:
            errors.append(f"{module} imports {target}: the instructor's tools are above every layer students load")
        if instructor:
            continue
        if _is_kit(module):
            continue   # the kit may import the library, the lessons and the checks
        if own is None:   # the library
            if _is_generated(target) or _is_kit(target):
                errors.append(f"{module} imports {target}: the library imports nothing generated and nothing of "
                              "the debugging kit")
            elif _lesson(target) is not None:
                errors.append(f"{module} imports {target}: the library imports no lesson's check module")
            continue
        theirs = _lesson(target)
        if theirs is not None and _is_generated(target) and theirs >= own:
            errors.append(f"{module} imports {target}: a lesson uses only earlier lessons "
                          f"({'itself' if theirs == own else 'lesson ' + theirs + ' comes after lesson ' + own})")
        if _is_kit(target) and own < KIT_LESSON:
            errors.append(f"{module} imports {target}: the debugging kit is lesson {KIT_LESSON}'s and comes after "
                          f"lesson {own}")
    return errors


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_layers_cover_the_package():
    layers = {"lessons": 0, "debugging": 0, "checks": 0, "library": 0}
    for path in MODULES:
        part = path.relative_to(PACKAGE).parts
        layers[part[0] if len(part) > 1 and part[0] in layers else "library"] += 1
    assert layers["lessons"] >= 9 and layers["debugging"] >= 3 and layers["checks"] >= 9 and layers["library"] >= 15


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_module_imports_only_its_layer_and_below(path):
    errors = _layer_errors(_dotted(path), _imports(path))
    assert not errors, "\n".join(errors)


def _notebook_code(path: Path) -> list[str]:
    return ["".join(c.source) for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_each_notebook_reaches_only_earlier_lessons_through_any_chain_of_imports(path):
    own = path.name[:2]
    reached = lesson_modules(_notebook_code(path))
    errors = []
    for module in reached:
        theirs = _lesson(module)
        if theirs is not None and theirs >= own and (_is_generated(module) or theirs > own):
            errors.append(f"notebook {own} reaches {module} (lesson {theirs} does not come before it)")
        if _is_kit(module) and own < KIT_LESSON:
            errors.append(f"notebook {own} reaches {module}, lesson {KIT_LESSON}'s debugging kit")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("module, imports, expected", [
    ("course_utils.diagnostics", {"course_utils.lessons.lesson07"}, "the library imports nothing generated"),
    ("course_utils.envs", {"course_utils.debugging.probes"}, "nothing of the debugging kit"),
    ("course_utils.lessons.lesson05", {"course_utils.lessons.lesson07"}, "lesson 07 comes after lesson 05"),
    ("course_utils.lessons.lesson05", {"course_utils.lessons.lesson05"}, "a lesson uses only earlier lessons (itself)"),
    ("course_utils.lessons.lesson08", {"course_utils.debugging"}, "the debugging kit is lesson 10's"),
    ("course_utils.checks.lesson04", {"course_utils.lessons.lesson09"}, "lesson 09 comes after lesson 04"),
    ("course_utils.replay", {"course_utils.instructor.grade"}, "the instructor's tools are above"),
])
def test_the_rule_names_an_import_that_breaks_it(module, imports, expected):
    errors = _layer_errors(module, imports)
    assert len(errors) == 1 and module in errors[0] and expected in errors[0], errors


@pytest.mark.parametrize("module, imports", [
    ("course_utils.lessons.lesson05", {"course_utils.lessons.lesson04", "course_utils.replay"}),
    ("course_utils.lessons.lesson10", {"course_utils.debugging", "course_utils.lessons.lesson09"}),
    ("course_utils.debugging.probes", {"course_utils.lessons.lesson09", "course_utils.lessons.lesson04"}),
    ("course_utils.checks.lesson10", {"course_utils.debugging.probes", "course_utils.acting"}),
    ("course_utils.instructor.bench", {"course_utils.lessons.lesson09", "course_utils.debugging"}),
])
def test_the_rule_lets_each_layer_use_the_ones_below(module, imports):
    assert _layer_errors(module, imports) == []


def test_imports_inside_functions_and_relative_ones_are_read():
    source = "def f():\n    from ..lessons import lesson07\n    from .. import variants\n"
    found = imported_modules(source, "course_utils.debugging.x")
    assert {"course_utils.lessons.lesson07", "course_utils.variants"} <= found
