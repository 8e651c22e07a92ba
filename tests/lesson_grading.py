"""Grading the course's own lessons for the test suite: copies graded two at a time, in batches.

A batch is a folder (solutions or exercises), its lessons and the environment variables it is graded under.
``batch_grader`` returns a function that grades a batch once, when a test first asks for it, and then gives
each lesson's report rows. tests/test_lessons.py (fast tier) and tests/test_lessons_elsewhere.py (slow tier)
use it, each with its own batches, so pytest-xdist can run the two files side by side.
"""
import concurrent.futures
import os
import shutil
from pathlib import Path

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


# Each batch: the folder graded, the lessons, the environment. The first two are the fast tier: every solution
# as a student runs it (the default seed, this machine's thread count), every untouched exercise. The others
# are the slow tier (`tasks.py test --all`), each moving one thing, so a failure says which one broke it.
BATCHES = {
    "solutions": ("solutions", LESSONS, {}),
    "exercises": ("exercises", LESSONS, {}),
    "seed 1": ("solutions", LESSONS, {"COURSE_SEED": "1"}),
    "1 thread": ("solutions", TF_LESSONS, {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}),
    "3 threads": ("solutions", TF_LESSONS, {"TF_NUM_INTRAOP_THREADS": "3", "TF_NUM_INTEROP_THREADS": "3"}),
}


def batch_grader(tmp_path_factory):
    """Return ``rows(batch, lesson)``: the report rows of ``lesson`` in ``batch``, grading the batch on first use."""
    done: dict = {}

    def rows(batch: str, lesson: str) -> list:
        if batch not in done:
            folder, lessons, env = BATCHES[batch]
            root = tmp_path_factory.mktemp(batch.replace(" ", "-"))
            paths = [_copy(root, folder, name) for name in lessons]
            done[batch] = {p.name: r for p, r in _grade_together(paths, **env).items()}
        return done[batch][lesson]
    return rows
