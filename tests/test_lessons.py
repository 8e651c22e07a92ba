"""Every lesson: the solution earns full points under the real grader (so its agent
really reaches the lesson's threshold), and the untouched exercise earns none."""
import os
import shutil
from pathlib import Path

import pytest

from course_utils.instructor.grade import Options, Submission, grade_submission

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p.name for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
# Lessons whose agents train with TensorFlow: another CPU or thread count gives them
# another floating-point trajectory (lessons 01-02 train in NumPy alone).
TF_LESSONS = [name for name in LESSONS if name[:2] >= "03"]


@pytest.fixture
def copy_of(tmp_path):
    """Grade a copy, so the videos and files a lesson writes stay out of the repository."""
    def copy(folder: str, lesson: str) -> Path:
        target = tmp_path / folder / lesson
        target.parent.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(ROOT / folder / lesson, target))
    return copy


def grade(path: Path, **env):
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return grade_submission(Submission("ci", path), Options(cell_timeout=600))
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


def test_there_are_lessons():
    assert LESSONS, "no generated lessons in solutions/"


@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_gets_full_points(lesson, copy_of):
    rows = grade(copy_of("solutions", lesson))
    assert rows and all(r.status == "passed" for r in rows), [(r.exercise, r.status, r.reason) for r in rows]


@pytest.mark.parametrize("lesson", LESSONS)
def test_untouched_exercise_gets_no_points(lesson, copy_of):
    rows = grade(copy_of("exercises", lesson))
    assert rows and sum(r.points for r in rows) == 0, [(r.exercise, r.status) for r in rows]
    stubbed = [r for r in rows if r.status == "not attempted"]
    assert stubbed and all(r.reason == "the exercise cell still raises NotImplementedError" for r in stubbed)


@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_also_learns_under_another_seed(lesson, copy_of):
    """The learning is not one lucky seed: the lesson passes again under COURSE_SEED=1."""
    rows = grade(copy_of("solutions", lesson), COURSE_SEED="1")
    assert all(r.status == "passed" for r in rows), [(r.exercise, r.status, r.reason) for r in rows]


# Every TF lesson with one thread and with three (more threads than the two cores CI has).
THREAD_CASES = [(lesson, threads) for threads in ("1", "3") for lesson in TF_LESSONS]


@pytest.mark.parametrize("lesson, threads", THREAD_CASES)
def test_solution_learns_under_other_thread_counts(lesson, threads, copy_of):
    """Another CPU sums in another order and so trains along another trajectory (an AMD
    EPYC gave lesson 06 one that an Intel Xeon did not). TensorFlow's thread count changes
    the order of its sums too, so it is a cheap stand-in for another machine: the stop
    test must keep a policy that passes the fresh check whichever trajectory it took."""
    rows = grade(copy_of("solutions", lesson), TF_NUM_INTRAOP_THREADS=threads, TF_NUM_INTEROP_THREADS=threads)
    assert all(r.status == "passed" for r in rows), [(r.exercise, r.status, r.reason) for r in rows]
