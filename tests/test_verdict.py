"""The grader's verdict logic, branch by branch, and where it finds a student's exercises and checks."""
import nbformat
import pytest

from course_utils.instructor.grade import CellResult, assemble, judge, output_difference
from course_utils.instructor.markers import CellMarker, found_marker

TIMEOUT = 30


@pytest.mark.parametrize("result, status, reason", [
    (None, "not run", "the check never ran (an earlier cell stopped the run)"),
    (CellResult("skipped", xfail=True), "timeout", "an earlier cell ran past the cell timeout"),
    (CellResult("passed"), "passed", "passed"),
    (CellResult("failed", kernel_died=True), "kernel died", "the kernel died while running this check"),
    (CellResult("failed", message="Kernel dead on test start"), "kernel died", "the kernel died in an earlier cell"),
    (CellResult("failed", message="Timeout of 30 seconds exceeded"), "timeout", "ran past the 30 s cell timeout"),
    (CellResult("failed", message="...\nCheckTampered: Exercise 01.1: tampered: builtins.print was replaced"),
     "tampered", "Exercise 01.1: tampered: builtins.print was replaced"),
    (CellResult("failed", message="Cell outputs differ", expected="Exercise 01.1: passed (6 cases checked).\n",
                received="Exercise 01.1: passed (6 cases checked).\ntick\n"),
     "wrong output", "line 2: expected nothing, got 'tick' (1 more line(s) than the reference)"),
    (CellResult("failed", message="Cell outputs differ"), "wrong output", "(the outputs were not recorded)"),
    (CellResult("failed", message="Traceback ...\nAssertionError: Exercise 01.1: wrong\nHint: do this"),
     "error", "AssertionError: Exercise 01.1: wrong Hint: do this"),
    (CellResult("failed", message="MemoryError: "), "error", "needed more memory than the grader's limit"),
])
def test_judge_gives_each_outcome_its_status_and_reason(result, status, reason):
    got_status, got_reason = judge(result, "", TIMEOUT)
    assert got_status == status and reason in got_reason


@pytest.mark.parametrize("expected, received, says", [
    ("a\nb\n", "a\nc\n", "line 2: expected 'b', got 'c'"),
    ("a\nb\n", "a\n", "line 2: expected 'b', got nothing"),
    ("a\n", "a\n" + "x" * 300 + "\n", "got '" + "x" * 120 + "...' (1 more line(s)"),
    ("a\n", "a\n", "the same lines, in other output kinds"),
])
def test_output_difference_shows_the_first_differing_line(expected, received, says):
    assert says in output_difference(expected, received)


@pytest.mark.parametrize("source, marker", [
    ("# EXERCISE 03.2\ndef f(): pass", CellMarker("exercise", "03.2")),
    ("#exercise 03.2\ndef f(): pass", CellMarker("exercise", "03.2")),
    ("#  Exercise  03 . 2 :\ndef f(): pass", CellMarker("exercise", "03.2")),
    ("import numpy as np\n\n# EXERCISE 03.2\ndef f(): pass", CellMarker("exercise", "03.2")),
    ("x = 1  # EXERCISE 03.2", None),               # a marker must be a line of its own
    ("# see exercise 03.2 above\nx = 1", None),
    ("# CHECK 03.2 (2 points)\nchecks.f()", CellMarker("check", "03.2", 2)),
    ("# check 03.2\nchecks.f()", CellMarker("check", "03.2")),
    ("print(1)", None),
])
def test_found_marker_is_lenient_where_it_is_safe(source, marker):
    assert found_marker(nbformat.v4.new_code_cell(source)) == marker


def reference(*exercises):
    return {"checks": [{"exercise": ex, "points": 1, "cell": dict(nbformat.v4.new_code_cell(
        f"# CHECK {ex} (1 point)\nchecks.check_{ex[-1]}()")),
        "anchor": {"exercise": ex, "id": None, "source": ""}} for ex in exercises],
        "stubs": {}, "check_module": "course_utils.checks.lesson01"}


def sources(nb):
    return [c.source.splitlines()[0] for c in nb.cells]


def test_a_check_goes_where_the_student_s_check_was_even_after_a_split_exercise():
    student = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in (
        "# EXERCISE 01.1\nimport math", "def f(): return math.pi", "# CHECK 01.1 (1 point)\nprint('forged')",
        "# EXERCISE 01.2\ndef g(): pass")])
    graded, checks = assemble(student, reference("01.1", "01.2"))
    assert sources(graded) == ["# EXERCISE 01.1", "def f(): return math.pi", "# CHECK 01.1 (1 point)",
                               "# EXERCISE 01.2", "# CHECK 01.2 (1 point)"]
    assert checks == {2: "01.1", 4: "01.2"}
    assert "open_checks('course_utils.checks.lesson01', '01.1')" in graded.cells[2].source
    assert "print('forged')" not in graded.cells[2].source and graded.cells[2].source.endswith("checks.close()")


def test_the_cell_that_stopped_a_run_is_the_first_timeout_or_dead_kernel():
    from course_utils.instructor.grade import stopping_cell

    ok = CellResult("passed")
    timed_out = CellResult("failed", message="Timeout of 10 seconds exceeded while executing cell")
    assert stopping_cell({0: ok, 1: ok}) is None
    assert stopping_cell({0: ok, 3: timed_out, 4: CellResult("skipped", xfail=True)}) == (3, "ran past the cell timeout")
    assert stopping_cell({0: ok, 2: CellResult("failed", kernel_died=True), 3: timed_out}) == (2, "killed the kernel")
    assert stopping_cell({0: CellResult("failed", message="AssertionError: Exercise 01.1: wrong")}) is None
