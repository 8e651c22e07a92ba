"""Every lesson: the solution earns full points under the real grader (so its agent
really reaches the lesson's threshold), and the untouched exercise earns none."""
import concurrent.futures
import os
import shutil
from pathlib import Path

import pytest

from course_utils.instructor.grade import Options, Submission, grade_submission

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p.name for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
# Lessons whose agents train with TensorFlow: another CPU or thread count gives them
# another floating-point trajectory (lessons 01-03 train in NumPy alone).
TF_LESSONS = [name for name in LESSONS if name[:2] >= "04"]


WORKERS = 2  # lessons graded side by side, as `course grade --workers 2` grades a class: each kernel
# spends its time in Python (environment steps, small Keras calls), so two share two cores well, and every
# stop test counts steps, not seconds, so a run's result does not depend on what runs beside it.


def _copy(root: Path, folder: str, lesson: str) -> Path:
    """A copy to grade, so the videos and files a lesson writes stay out of the repository."""
    target = root / folder / lesson
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(ROOT / folder / lesson, target))


def _grade_together(paths: list[Path], **env) -> dict:
    """Grade ``paths`` under the environment variables ``env``, WORKERS at a time; return {path: rows}.

    The variables are set once around the whole batch (the grader's kernels inherit them)."""
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
            rows = pool.map(lambda p: grade_submission(Submission("ci", p), Options(cell_timeout=600)), paths)
            return dict(zip(paths, rows))
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


# Each batch: the folder graded, the lessons, the environment. A batch is graded once, when its first
# test asks for it; its tests then read their lesson's rows. The first two are the fast tier: every solution
# as a student runs it (the default seed, this machine's thread count), every untouched exercise. The others
# are the slow tier (`tasks.py test --all`), each moving one thing, so a failure says which one broke it.
BATCHES = {
    "solutions": ("solutions", LESSONS, {}),
    "exercises": ("exercises", LESSONS, {}),
    "seed 1": ("solutions", LESSONS, {"COURSE_SEED": "1"}),
    "1 thread": ("solutions", TF_LESSONS, {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}),
    "3 threads": ("solutions", TF_LESSONS, {"TF_NUM_INTRAOP_THREADS": "3", "TF_NUM_INTEROP_THREADS": "3"}),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    done: dict = {}

    def rows(batch: str, lesson: str) -> list:
        if batch not in done:
            folder, lessons, env = BATCHES[batch]
            root = tmp_path_factory.mktemp(batch.replace(" ", "-"))
            paths = [_copy(root, folder, name) for name in lessons]
            done[batch] = {p.name: r for p, r in _grade_together(paths, **env).items()}
        return done[batch][lesson]
    return rows


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


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_also_learns_under_another_seed(lesson, graded):
    """The learning is not one lucky seed: the lesson passes again under COURSE_SEED=1."""
    rows = graded("seed 1", lesson)
    assert all(r.status == "passed" for r in rows), [(r.exercise, r.status, r.reason) for r in rows]


# Every TF lesson with one thread and with three (more threads than the two cores CI has), under the default seed.
THREAD_CASES = [(lesson, threads) for threads in ("1", "3") for lesson in TF_LESSONS]


@pytest.mark.slow
@pytest.mark.parametrize("lesson, threads", THREAD_CASES)
def test_solution_learns_under_other_thread_counts(lesson, threads, graded):
    """Another CPU sums in another order and so trains along another trajectory (an AMD
    EPYC gave lesson 07 one that an Intel Xeon did not). TensorFlow's thread count changes
    the order of its sums too, so it is a cheap stand-in for another machine: the stop
    test must keep a policy that passes the fresh check whichever trajectory it took."""
    rows = graded("1 thread" if threads == "1" else "3 threads", lesson)
    assert all(r.status == "passed" for r in rows), [(r.exercise, r.status, r.reason) for r in rows]
