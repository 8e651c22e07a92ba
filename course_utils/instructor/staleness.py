"""What a lesson's solution was built from, and whether that changed (``course build``'s staleness).

A lesson is executed again when what it ran changed: its source, the files beside it,
the ``course_utils`` modules its code imports (followed through the package's own
imports), the package data such a module reads, and the lock of exact versions. Edits
anywhere else (the grader, the bench, another lesson's checks) leave it alone. The
digest of each input is stored in the solution's metadata (``build_inputs``), one hash
of them in the solution and the grading record (``inputs_hash``), so building twice
gives byte-identical files and ``--check`` says what changed (``why_stale``).
"""
from __future__ import annotations

import functools
import hashlib
import json
import threading
from pathlib import Path

from . import markers
from .errors import BuildError
from ..plotting import REFERENCE_FILE

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # course_utils/
PACKAGE = PACKAGE_DIR.name
LOCK_FILE = "requirements-lock.txt"
_PARSING = threading.Lock()


def parse(source: str):
    """``ast.parse``, one thread at a time: CPython 3.11 keeps the AST constructor's recursion depth per
    interpreter, so two threads parsing at once (``course grade --workers 2`` checks each record's staleness)
    can raise "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905)."""
    import ast

    with _PARSING:
        return ast.parse(source)


def module_file(name: str) -> Path | None:
    """Return the file of the package module ``name`` (dotted), or None if it has none."""
    base = PACKAGE_DIR.joinpath(*name.split(".")[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def ipython_to_python(source: str) -> str:
    """Return notebook code with its IPython syntax turned into the Python IPython runs.

    Raises ``BuildError`` naming the line when even that is not Python.
    """
    from IPython.core.inputtransformer2 import TransformerManager

    text = TransformerManager().transform_cell(source)
    try:
        parse(text)
    except SyntaxError as err:
        line = source.splitlines()[err.lineno - 1] if err.lineno and err.lineno <= len(source.splitlines()) else ""
        raise BuildError(f"cannot read the imports of a cell: {err.msg} at {line.strip()!r}; fix the cell") from None
    return text


@functools.lru_cache(maxsize=1024)
def import_statements(source: str) -> tuple[tuple, tuple, frozenset]:
    """Return what ``source`` says about imports, read once per text (the parse and walk are most of a
    staleness check's time, and a build or a test asks about the same package files for every lesson):
    ``(imports, from_imports, attributes)``, with ``imports`` as ``(name, asname)``, ``from_imports`` as
    ``(level, module, names)`` and ``attributes`` the ``(name, attr)`` pairs of every ``name.attr``."""
    import ast

    try:
        tree = parse(source)
    except SyntaxError:  # notebook code with IPython syntax (%magic, x = !ls, name?): read it as IPython does
        tree = parse(ipython_to_python(source))
    imports, from_imports, attributes = [], [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports += [(alias.name, alias.asname) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            from_imports.append((node.level, node.module, tuple(alias.name for alias in node.names)))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            attributes.add((node.value.id, node.attr))
    return tuple(imports), tuple(from_imports), frozenset(attributes)


def imported_modules(source: str, current: str | None = None, *, is_package: bool = False) -> set[str]:
    """Return the package modules that ``source`` imports (``current``: its own dotted name).

    Counts ``import course_utils.x``, ``from course_utils.x import y`` (and ``y`` when it
    is a module), relative imports inside the package, imports inside functions, and
    ``cu.name`` for a helper ``course_utils`` exports lazily (through its table).
    """
    from .. import _EXPORTS

    imports, from_imports, attributes = import_statements(source)
    found, aliases = set(), set()
    for name, asname in imports:
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            found.add(name)
            if name == PACKAGE or asname is None:  # `import course_utils.x` binds course_utils
                aliases.add(asname or PACKAGE)
    for level, module, names in from_imports:
        if level:
            if current is None:
                continue
            parts = current.split(".")
            parts = parts[: len(parts) - level + (1 if is_package else 0)]
            module = ".".join(parts + ([module] if module else []))
        else:
            module = module or ""
        if module != PACKAGE and not module.startswith(PACKAGE + "."):
            continue
        found.add(module)
        for name in names:
            if module_file(f"{module}.{name}") is not None:
                found.add(f"{module}.{name}")
            elif module == PACKAGE and name in _EXPORTS:
                found.add(f"{PACKAGE}.{_EXPORTS[name]}")
    found |= {f"{PACKAGE}.{_EXPORTS[attr]}" for name, attr in attributes if name in aliases and attr in _EXPORTS}
    with_parents = set()
    for name in found:
        parts = name.split(".")
        with_parents |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return with_parents


def lesson_modules(sources: list[str]) -> list[str]:
    """Return every package module the code ``sources`` runs imports, directly or not, sorted."""
    todo = imported_modules("\n".join(sources))  # one text: an alias from the import cell holds in the others
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_file(name)
        if path is not None:
            todo |= imported_modules(path.read_text(), name, is_package=path.name == "__init__.py") - seen
    return sorted(n for n in seen if module_file(n) is not None)


def digest(path: Path) -> str:
    """Return the sha256 of a text file, line endings made uniform."""
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


# package data a module reads, which shapes the outputs of every lesson that imports it
MODULE_DATA = {"course_utils.plotting": [f"data/{REFERENCE_FILE}"]}   # the bands behind the lessons' plots


def module_digests(modules: list[str], generated: dict[str, str] | None = None) -> dict[str, str]:
    """Return ``{path: sha256}`` of the package modules ``modules`` and the package data they read.

    ``generated`` maps a module's path to a text that counts instead of its file (see ``build_inputs``).
    """
    generated = generated or {}
    digests = {}
    for name in modules:
        rel = module_file(name).relative_to(PACKAGE_DIR.parent).as_posix()
        text = generated.get(rel)
        digests[rel] = digest(module_file(name)) if text is None else hashlib.sha256(text.encode()).hexdigest()
        for data in MODULE_DATA.get(name, []):
            digests[f"{PACKAGE_DIR.name}/{data}"] = digest(PACKAGE_DIR / data)
    return digests


def installed_inputs(module: str) -> dict[str, str]:
    """Return ``{path: sha256}`` of the installed package files that module ``module`` runs: its own file, the
    package modules it imports (directly or not) and their data; ``{}`` for a module outside the package."""
    return module_digests(lesson_modules([f"import {module}"]))


def build_inputs(path: Path, src, root: Path, generated: dict[str, str] | None = None) -> dict[str, str]:
    """Return ``{name: sha256}`` of everything a lesson's solution is built from.

    ``generated`` maps a generated module (``course_utils/lessons/lessonNN.py``) to the
    text the build makes for it now, which counts instead of the file on disk (under
    ``--check`` the file is not rewritten, yet a lesson that imports it is stale).
    """
    code = [markers.solution_source(c.source) for c in src.cells if c.cell_type == "code"]
    inputs = {f"notebooks/{path.name}": digest(path)}
    for beside in sorted(p for p in path.parent.rglob("*.py") if "__pycache__" not in p.parts):
        inputs[f"notebooks/{beside.relative_to(path.parent).as_posix()}"] = digest(beside)
    try:
        modules = lesson_modules(code)
    except BuildError as err:
        raise BuildError(f"{path}: {err}") from None
    inputs.update(module_digests(modules, generated))
    lock = root / LOCK_FILE
    if lock.is_file():
        inputs[LOCK_FILE] = digest(lock)
    return inputs


def inputs_hash(inputs: dict[str, str]) -> str:
    """Return one hash of a lesson's build inputs."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def why_stale(stored: dict | None, inputs: dict[str, str]) -> str:
    """Return what changed between the inputs a solution was built from and today's."""
    if not stored:
        return "it was built by an older `course build`, which did not record its inputs"
    changed = sorted(k for k in inputs if k in stored and stored[k] != inputs[k])
    added = sorted(k for k in inputs if k not in stored)
    gone = sorted(k for k in stored if k not in inputs)
    parts = ([f"{', '.join(changed)} changed"] if changed else []) + \
            ([f"it now also uses {', '.join(added)}"] if added else []) + \
            ([f"it no longer uses {', '.join(gone)}"] if gone else [])
    return "; ".join(parts) or "its recorded build hash does not match"
