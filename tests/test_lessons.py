"""Every lesson: the solution earns full points under the real grader (so its agent
really reaches the lesson's threshold), and the untouched exercise earns none. (The same
solutions under another seed and other thread counts: tests/test_lessons_elsewhere.py.)"""
import pytest
from lesson_grading import LESSONS, batch_grader


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return batch_grader(tmp_path_factory)


def test_there_are_lessons():
    assert LESSONS, "no generated lessons in solutions/"


@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_gets_full_points(lesson, graded):
    rows = graded("solutions", lesson)
    assert rows and all(r.status == "passed" for r in rows), [(r.exercise, r.status, r.reason) for r in rows]


@pytest.mark.parametrize("lesson", LESSONS)
def test_untouched_exercise_gets_no_points(lesson, graded):
    rows = graded("exercises", lesson)
    assert rows and sum(r.points for r in rows) == 0, [(r.exercise, r.status) for r in rows]
    stubbed = [r for r in rows if r.status == "not attempted"]
    assert stubbed and all(r.reason == "the exercise cell still raises NotImplementedError" for r in stubbed)
