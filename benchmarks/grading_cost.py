"""What grading costs per notebook, in CPU seconds: the grader's own start-up and each untouched exercise notebook.

The fast tier of the test suite, `course grade` on a class and `course check` all pay these per notebook, and on a
2-core machine the suite is CPU-bound, so CPU seconds are what its time is made of (wall seconds would move with
whatever else runs). Prints two markdown tables:

1. a fresh interpreter importing nbformat (every `course` command and every nbval run the grader starts does),
   as it is and with ``startup.skip_iri_grammars()`` first; the median of ``--repeats`` runs;
2. ``grade_submission`` on every untouched exercise notebook of ``exercises/``, one at a time; the median of
   ``--grade-repeats`` gradings (one grading moves by a second or two from run to run).

    python benchmarks/grading_cost.py [--repeats 5] [--grade-repeats 3] [--lessons 05 06]
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


def exercise_costs(paths: list[Path], repeats: int) -> list[tuple[str, float, float, int]]:
    from course_utils.instructor.grade import Options, Submission, grade_submission

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            walls, cpus, points = [], [], set()
            for _ in range(repeats):
                copy = Path(shutil.copy(path, Path(tmp) / path.name))   # what it writes stays out of the repo
                got = []
                wall, cpu = child_cpu(lambda: got.extend(grade_submission(Submission("bench", copy), Options())))
                walls.append(wall)
                cpus.append(cpu)
                points.add(sum(r.points for r in got))
                print(f"graded {path.name}: {cpu:.1f} s CPU", file=sys.stderr, flush=True)
            rows.append((path.name, statistics.median(walls), statistics.median(cpus), max(points)))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh interpreters per import case (default 5)")
    parser.add_argument("--grade-repeats", type=int, default=3, help="gradings per exercise notebook (default 3)")
    parser.add_argument("--lessons", nargs="*", help="only these lessons' exercise notebooks (two digits each)")
    args = parser.parse_args(argv)
    notebooks = sorted((ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"))
    unknown = sorted(set(args.lessons or []) - {p.name[:2] for p in notebooks})
    if unknown:
        parser.error(f"no exercise notebook for lesson(s) {', '.join(unknown)}: give two digits each, such as 05; "
                     f"the course has {', '.join(p.name[:2] for p in notebooks)}")
    print(f"| process | CPU s, median of {args.repeats} |\n| --- | --- |")
    for name, cpu in import_costs(args.repeats):
        print(f"| {name} | {cpu:.2f} |")
    print(f"\n| untouched exercise notebook, graded (median of {args.grade_repeats}) | wall s | CPU s | points |\n"
          "| --- | --- | --- | --- |")
    chosen = [p for p in notebooks if not args.lessons or p.name[:2] in args.lessons]
    rows = exercise_costs(chosen, args.grade_repeats)
    for name, wall, cpu, points in rows:
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {points} |")
    print(f"| all {len(rows)} | {sum(r[1] for r in rows):.1f} | {sum(r[2] for r in rows):.1f} | |")


if __name__ == "__main__":
    main()
