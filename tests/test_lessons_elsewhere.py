"""The slow tier: every lesson's solution again, under another seed and other thread counts (a stand-in for
another machine). A failure names the one thing its batch moved."""
import pytest
from lesson_grading import LESSONS, TF_LESSONS, batch_grader

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return batch_grader(tmp_path_factory)


@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_also_learns_under_another_seed(lesson, graded):
    """The learning is not one lucky seed: the lesson passes again under COURSE_SEED=1."""
    rows = graded("seed 1", lesson)
    assert all(r.status == "passed" for r in rows), [(r.exercise, r.status, r.reason) for r in rows]


# Every TF lesson with one thread and with three (more threads than the two cores CI has), under the default seed.
THREAD_CASES = [(lesson, threads) for threads in ("1", "3") for lesson in TF_LESSONS]


@pytest.mark.parametrize("lesson, threads", THREAD_CASES)
def test_solution_learns_under_other_thread_counts(lesson, threads, graded):
    """Another CPU sums in another order and so trains along another trajectory (an AMD
    EPYC gave lesson 07 one that an Intel Xeon did not). TensorFlow's thread count changes
    the order of its sums too, so it is a cheap stand-in for another machine: the stop
    test must keep a policy that passes the fresh check whichever trajectory it took."""
    rows = graded("1 thread" if threads == "1" else "3 threads", lesson)
    assert all(r.status == "passed" for r in rows), [(r.exercise, r.status, r.reason) for r in rows]
