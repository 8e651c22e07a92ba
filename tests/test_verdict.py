"""The grader's verdict logic, branch by branch, and where it finds a student's exercises and checks."""
import nbformat
import pytest

from course_utils.instructor.grade import CellResult, assemble, judge, output_difference
from course_utils.instructor.markers import CellMarker, MarkerIndex, found_marker
from course_utils.instructor.record import Anchor, Check, LessonRecord, Status

TIMEOUT = 30


@pytest.mark.parametrize("result, status, reason", [
    (None, "not run", "the check never ran (an earlier cell stopped the run)"),
    (CellResult("skipped", xfail=True), "timeout", "an earlier cell ran past the cell timeout"),
    (CellResult("passed"), "passed", "passed"),
    (CellResult("failed", kernel_died=True), "kernel died", "the kernel died while running this check"),
    (CellResult("failed", dead_at_start=True), "kernel died", "the kernel died in an earlier cell"),
    (CellResult("failed", timed_out=True, exception="KeyboardInterrupt"), "timeout", "ran past the 30 s cell timeout"),
    (CellResult("failed", exception="CheckTampered",
                message="...\nCheckTampered: Exercise 01.1: tampered: builtins.print was replaced"),
     "tampered", "Exercise 01.1: tampered: builtins.print was replaced"),
    (CellResult("failed", outputs_differ=True, expected="Exercise 01.1: passed (6 cases checked).\n",
                received="Exercise 01.1: passed (6 cases checked).\ntick\n"),
     "wrong output", "line 2: expected nothing, got 'tick' (1 more line(s) than the reference)"),
    (CellResult("failed", outputs_differ=True), "wrong output", "(the outputs were not recorded)"),
    # the words alone decide nothing: a student's own error that quotes nbval's or the sealed checks' is an error
    (CellResult("failed", exception="ValueError", message="ValueError: Timeout of 3 s exceeded; CheckTampered"),
     "error", "ValueError: Timeout of 3 s exceeded; CheckTampered"),
    (CellResult("failed", message="Traceback ...\nAssertionError: Exercise 01.1: wrong\nHint: do this"),
     "error", "AssertionError: Exercise 01.1: wrong Hint: do this"),
    (CellResult("failed", message="MemoryError: "), "error", "needed more memory than the grader's limit"),
])
def test_judge_gives_each_outcome_its_status_and_reason(result, status, reason):
    got_status, got_reason = judge(result, "", TIMEOUT)
    assert got_status == status and isinstance(got_status, Status) and reason in got_reason


@pytest.mark.parametrize("expected, received, says", [
    ("a\nb\n", "a\nc\n", "line 2: expected 'b', got 'c'"),
    ("a\nb\n", "a\n", "line 2: expected 'b', got nothing"),
    ("a\n", "a\n" + "x" * 300 + "\n", "got '" + "x" * 120 + "...' (1 more line(s)"),
    ("a\n", "a\n", "the same lines, in other output kinds"),
])
def test_output_difference_shows_the_first_differing_line(expected, received, says):
    assert says in output_difference(expected, received)


@pytest.mark.parametrize("source, marker", [
    ("# EXERCISE 04.2\ndef f(): pass", CellMarker("exercise", "04.2")),
    ("#exercise 04.2\ndef f(): pass", CellMarker("exercise", "04.2")),
    ("#  Exercise  04 . 2 :\ndef f(): pass", CellMarker("exercise", "04.2")),
    ("import numpy as np\n\n# EXERCISE 04.2\ndef f(): pass", CellMarker("exercise", "04.2")),
    ("x = 1  # EXERCISE 04.2", None),               # a marker must be a line of its own
    ("# see exercise 04.2 above\nx = 1", None),
    ("# CHECK 04.2 (2 points)\nchecks.f()", CellMarker("check", "04.2", 2)),
    ("# check 04.2\nchecks.f()", CellMarker("check", "04.2")),
    ("print(1)", None),
])
def test_found_marker_is_lenient_where_it_is_safe(source, marker):
    assert found_marker(nbformat.v4.new_code_cell(source)) == marker


def reference(*exercises):
    checks = tuple(Check(ex, 1, dict(nbformat.v4.new_code_cell(f"# CHECK {ex} (1 point)\nchecks.check_{ex[-1]}()")),
                         Anchor(ex, None, "")) for ex in exercises)
    return LessonRecord("01", "01_x.ipynb", "", checks, {}, "course_utils.checks.lesson01")


def sources(nb):
    return [c.source.splitlines()[0] for c in nb.cells]


def test_a_check_goes_where_the_student_s_check_was_even_after_a_split_exercise():
    student = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in (
        "# EXERCISE 01.1\nimport math", "def f(): return math.pi", "# CHECK 01.1 (1 point)\nprint('forged')",
        "# EXERCISE 01.2\ndef g(): pass")])
    graded = assemble(student, reference("01.1", "01.2"))
    assert sources(graded.nb) == ["# EXERCISE 01.1", "def f(): return math.pi", "# CHECK 01.1 (1 point)",
                                  "# EXERCISE 01.2", "# CHECK 01.2 (1 point)"]
    assert graded.check_cells == {"01.1": 2, "01.2": 4} and graded.exercise_cells == {0: "01.1", 3: "01.2"}
    cells = graded.nb.cells
    assert "open_checks('course_utils.checks.lesson01', '01.1')" in cells[2].source
    assert "print('forged')" not in cells[2].source and cells[2].source.endswith("checks.close()")


def test_a_check_without_the_student_s_goes_after_the_last_copy_of_its_exercise():
    student = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in (
        "# EXERCISE 01.1\ndef f(): pass", "x = 1", "#exercise 01.1\ndef f(): return 2", "print(f())")])
    graded = assemble(student, reference("01.1"))
    assert sources(graded.nb) == ["# EXERCISE 01.1", "x = 1", "#exercise 01.1", "# CHECK 01.1 (1 point)", "print(f())"]
    assert graded.check_cells == {"01.1": 3}


def test_the_marker_index_finds_each_exercise_s_and_check_s_last_cell():
    cells = [nbformat.v4.new_code_cell(s) for s in (
        "# EXERCISE 01.1\nx = 1", "# CHECK 01.1 (1 point)\nc()", "#Exercise 01.1\nx = 2", "print(x)",
        "# check 01.1\nc()")] + [nbformat.v4.new_markdown_cell("# EXERCISE 01.2")]
    index = MarkerIndex.of(cells)
    assert index.exercise_cells() == {"01.1": 2} and index.check_cells() == {"01.1": 4}
    assert index.marker(3) is None and index.marker(5) is None


def test_the_cell_that_stopped_a_run_is_the_first_timeout_or_dead_kernel():
    from course_utils.instructor.grade import stopping_cell

    ok = CellResult("passed")
    timed_out = CellResult("failed", timed_out=True, message="Timeout of 10 seconds exceeded while executing cell")
    assert stopping_cell({0: ok, 1: ok}) is None
    assert stopping_cell({0: ok, 3: timed_out, 4: CellResult("skipped", xfail=True)}) == (3, "ran past the cell timeout")
    assert stopping_cell({0: ok, 2: CellResult("failed", kernel_died=True), 3: timed_out}) == (2, "killed the kernel")
    assert stopping_cell({0: CellResult("failed", message="AssertionError: Exercise 01.1: wrong")}) is None
    assert stopping_cell({0: CellResult("failed", message="Timeout of 10 seconds exceeded (the student's print)")}) is None


def test_a_failing_check_after_a_run_of_failing_cells_names_the_first_of_them():
    """A training cell raises, the cells that use what it would have made raise NameError: the check's reason says
    what the first one raised, where the student has to look."""
    from course_utils.instructor.runner import CellResult, RunResult
    from course_utils.instructor.verdict import _cell_before

    def failed(line):
        return CellResult("failed", message=f"Traceback ...\n{line}\n")

    run = RunResult({3: CellResult("passed"), 4: failed("ValueError: SACAgent.store: the action [1.7] lies outside"),
                     5: failed("NameError: name 'log' is not defined"), 6: failed("NameError: name 'log' is not defined"),
                     7: failed("NameError: name 'returns' is not defined")})
    reason = _cell_before("NameError: name 'returns' is not defined", Status.ERROR, run, 7)
    assert reason == ("NameError: name 'returns' is not defined (the cell before this check failed: NameError: name "
                      "'log' is not defined; the first of the 3 failing cells before this check raised ValueError: "
                      "SACAgent.store: the action [1.7] lies outside)")
    alone = RunResult({5: CellResult("passed"), 6: failed("NameError: name 'score' is not defined"),
                       7: failed("NameError: name 'x' is not defined")})
    assert _cell_before("NameError: x", Status.ERROR, alone, 7) == (
        "NameError: x (the cell before this check failed: NameError: name 'score' is not defined)")


def test_the_walk_back_stops_at_a_dead_kernel_and_says_nothing_more_when_the_first_said_the_same():
    from course_utils.instructor.runner import CellResult, RunResult
    from course_utils.instructor.verdict import _cell_before

    name_error = CellResult("failed", message="NameError: name 'log' is not defined")
    died = RunResult({4: CellResult("failed", kernel_died=True, message="DeadKernelError"), 5: name_error,
                      6: name_error, 7: CellResult("failed", message="NameError: name 'returns' is not defined")})
    assert _cell_before("NameError: r", Status.ERROR, died, 7) == (
        "NameError: r (the cell before this check failed: NameError: name 'log' is not defined)")
