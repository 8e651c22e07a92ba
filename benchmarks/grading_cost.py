"""What grading costs per notebook, in CPU seconds: the grader's own start-up and each untouched exercise notebook.

The fast tier of the test suite, `course grade` on a class and `course check` all pay these per notebook, and on a
2-core machine the suite is CPU-bound, so CPU seconds are what its time is made of (wall seconds would move with
whatever else runs). Prints two markdown tables:

1. a fresh interpreter importing nbformat (every `course` command and every nbval run the grader starts does),
   as it is and with ``startup.skip_iri_grammars()`` first; the median of ``--repeats`` runs;
2. ``grade_submission`` on every untouched exercise notebook of ``exercises/``, one at a time.

    python benchmarks/grading_cost.py [--repeats 5] [--lessons 05 06]
"""
from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child_cpu(run) -> tuple[float, float]:
    """Run ``run()``; return (wall seconds, CPU seconds of the child processes it waited for)."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    run()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - start, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_costs(repeats: int) -> list[tuple[str, float]]:
    cases = {
        "import nbformat": "import nbformat",
        "import nbformat, after skip_iri_grammars()": "from course_utils.instructor.startup import skip_iri_grammars\n"
                                                      "skip_iri_grammars()\nimport nbformat",
    }
    rows = []
    for name, code in cases.items():
        cpus = [child_cpu(lambda: subprocess.run([sys.executable, "-c", code], check=True))[1] for _ in range(repeats)]
        rows.append((name, statistics.median(cpus)))
    return rows


def exercise_costs(lessons: list[str] | None) -> list[tuple[str, float, float, int]]:
    from course_utils.instructor.grade import Options, Submission, grade_submission

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted((ROOT / "exercises").glob("[0-9][0-9]_*.ipynb")):
            if lessons and path.name[:2] not in lessons:
                continue
            copy = Path(shutil.copy(path, Path(tmp) / path.name))   # the videos and files it writes stay out of the repo
            got = []
            wall, cpu = child_cpu(lambda: got.extend(grade_submission(Submission("bench", copy), Options())))
            rows.append((path.name, wall, cpu, sum(r.points for r in got)))
            print(f"graded {path.name}: {cpu:.1f} s CPU", file=sys.stderr, flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh interpreters per import case (default 5)")
    parser.add_argument("--lessons", nargs="*", help="only these lessons' exercise notebooks (two digits each)")
    args = parser.parse_args(argv)
    print(f"| process | CPU s, median of {args.repeats} |\n| --- | --- |")
    for name, cpu in import_costs(args.repeats):
        print(f"| {name} | {cpu:.2f} |")
    print("\n| untouched exercise notebook, graded | wall s | CPU s | points |\n| --- | --- | --- | --- |")
    for name, wall, cpu, points in exercise_costs(args.lessons):
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {points} |")


if __name__ == "__main__":
    main()
