"""The grader's processes skip jsonschema's IRI grammars (course_utils/instructor/startup.py): about 1 s of
CPU in every `course` command and every notebook graded, for a check no notebook needs."""
import importlib.util
import os
import subprocess

import nbformat
import pytest

from course_utils.instructor.options import Options
from course_utils.instructor.runner import nbval_command
from course_utils.instructor.startup import SKIPPED


@pytest.fixture(autouse=True)
def installed():
    """Without the module these tests would pass whatever the course did; the lock installs it (jupyter-events asks)."""
    assert importlib.util.find_spec(SKIPPED) is not None, f"{SKIPPED} is not installed: these tests prove nothing"


def imported(stderr: str) -> set[str]:
    """The modules a process imported, from what PYTHONPROFILEIMPORTTIME printed."""
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def not_import_lines(stderr: str) -> str:
    return "\n".join(line for line in stderr.splitlines() if not line.startswith("import time:"))[-2000:]


def run_profiled(cmd, cwd):
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_a_graded_notebook_runs_without_the_iri_grammars(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    result = run_profiled(nbval_command(path, Options(cell_timeout=60)), tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + not_import_lines(result.stderr)
    names = imported(result.stderr)
    assert {"nbval.kernel", "nbformat", "jsonschema"} <= names   # what the run loads, and through it ...
    assert "lark" not in names    # ... no grammar: lark is what rfc3987_syntax would have compiled them with


def test_a_course_command_reads_notebooks_without_them(tmp_path, course_cmd):
    folder = tmp_path / "class" / "ann"
    folder.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), folder / "01_gymnasium_random_search.ipynb")
    result = run_profiled([course_cmd, "grade", str(folder.parent), "--report", str(tmp_path / "grades.csv")],
                          tmp_path)
    assert result.returncode == 0, not_import_lines(result.stderr)
    names = imported(result.stderr)
    assert {"nbformat", "jsonschema"} <= names and "lark" not in names
    assert "no '# EXERCISE 01.1' cell" in (tmp_path / "grades.csv").read_text()   # read, validated, graded
