"""The ``course`` command: doctor, build, grade, check, bench, release, renumber (the instructor's tools; ``check`` is
for students too).

Each subcommand is a row of ``COMMANDS``: its name and the function that runs it.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .. import __version__
from .startup import skip_iri_grammars


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``course`` command and its subcommands."""
    parser = argparse.ArgumentParser(prog="course", description="Tools of the deep RL course.")
    parser.add_argument("--version", action="version", version=f"course_utils {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("doctor", help="check this set-up (versions, rendering, video) and say what to fix")

    b = sub.add_parser("build", help="generate exercises/, solutions/, grading/ and course_utils/lessons/ from notebooks/")
    b.add_argument("--root", type=Path, default=Path("."), help="the course folder (default: here)")
    b.add_argument("--check", action="store_true",
                   help="change nothing; fail if exercises/, solutions/, grading/ or course_utils/lessons/ are not "
                        "what notebooks/ generates")
    b.add_argument("--force", action="store_true", help="execute every solution again, even if unchanged")
    b.add_argument("--lesson", action="append", metavar="NN", help="only this lesson (repeatable)")
    b.add_argument("--timeout", type=int, default=900, help="seconds per cell when executing (default 900)")

    g = sub.add_parser("grade", help="grade submitted notebooks against the reference checks")
    g.add_argument("submissions", nargs="*",
                   help="notebooks, folders of <student>/NN_*.ipynb, or a Canvas or Moodle bulk download (its .zip "
                        "or the unpacked folder)")
    g.add_argument("--report", type=Path, help="write the report here as CSV (and JSON beside it)")
    g.add_argument("--resume", action="store_true", help="keep submissions already in the report, grade the rest")
    g.add_argument("--workers", type=int, default=1, help="notebooks graded at once (default 1)")
    g.add_argument("--shard", metavar="I/N", help="grade only slice I (0-based) of N of the sorted submissions")
    g.add_argument("--merge", nargs="+", type=Path, metavar="JSON", help="join shard reports into --report")
    g.add_argument("--only", action="append", metavar="STUDENT",
                   help="grade again only this student's submissions, replacing their rows in --report (repeatable)")
    g.add_argument("--failed", action="store_true",
                   help="grade again only the submissions of --report with an exercise that did not pass")
    g.add_argument("--assignment", action="append", metavar="NN=TITLE", default=[],
                   help="the Canvas gradebook column of lesson NN, as Canvas exports it, e.g. "
                        "'04=Deep Q-network (12345)' (default 'Lesson NN'; repeatable)")
    _grading_options(g)

    c = sub.add_parser("check", help="grade your own notebook the way the instructor will")
    c.add_argument("notebook", type=Path)
    _grading_options(c)

    u = sub.add_parser("renumber", help="carry notebooks numbered before the course's renumbering over to the new "
                                        "lesson numbers (02-07 became 03-08, 08 became 10)")
    u.add_argument("notebooks", nargs="+", type=Path, help="notebooks (a student's work, an old assignment)")
    u.add_argument("--out", type=Path, help="write the converted copies here, each in its folder below the notebooks' "
                                            "common folder (default: beside each notebook)")

    r = sub.add_parser("release", help="write the course for a class repository: exercises up to lesson NN, no solutions")
    r.add_argument("out", type=Path, help="the folder to write (empty, or a clone of the class repository)")
    r.add_argument("--through", required=True, metavar="NN", help="the last lesson released (its solution stays out)")
    r.add_argument("--repo", required=True, metavar="URL",
                   help="the class repository, https://github.com/OWNER/NAME: the Colab badges and set-up cells point there")
    r.add_argument("--root", type=Path, default=Path("."), help="the course folder (default: here)")

    n = sub.add_parser("bench", help="measure how fast and how reliably each algorithm of the course learns")
    n.add_argument("--seeds", type=int, default=5, help="seeds per algorithm (default 5; 10 for the full table)")
    n.add_argument("--quick", action="store_true",
                   help="one seed, DQN capped at 2,000 steps, no notebook timing: a smoke test (about 30 seconds)")
    n.add_argument("--only", action="append", metavar="NAME", help="only algorithms whose name contains NAME")
    n.add_argument("--no-notebooks", action="store_true", help="skip executing the solution notebooks")
    n.add_argument("--update-reference", action="store_true",
                   help="also write the reference curves into the package (course_utils/data/reference_curves.json), "
                        "the bands the lessons' plots draw; needs at least 10 seeds")
    n.add_argument("--root", type=Path, default=Path("."), help="the course folder (default: here)")
    n.add_argument("--out", type=Path,
                   help="results folder (default benchmarks/results, or benchmarks/results/quick with --quick)")
    return parser


def _grading_options(p: argparse.ArgumentParser) -> None:
    from .options import Options

    d = Options()
    p.add_argument("--reference", type=Path, default=d.reference,
                   help="folder of the reference records written by `course build` (default: the course's grading/)")
    p.add_argument("--cell-timeout", type=int, default=d.cell_timeout, help=f"seconds per cell (default {d.cell_timeout})")
    p.add_argument("--kernel-timeout", type=int, default=d.kernel_timeout,
                   help=f"seconds for a kernel to start (default {d.kernel_timeout})")
    p.add_argument("--memory-limit-mb", type=int, default=d.memory_limit_mb,
                   help=f"address-space limit of each run, 0 for none (default {d.memory_limit_mb})")
    p.add_argument("--notebook-timeout", type=int, default=d.notebook_timeout,
                   help="after a cell hangs or kills the kernel the notebook is run again without it, "
                        f"until this many seconds are spent on it (default {d.notebook_timeout})")


def _options(args):
    from .options import Options

    return Options(args.reference, args.cell_timeout, args.kernel_timeout, args.memory_limit_mb, args.notebook_timeout)


def cmd_doctor(args, parser, argv) -> int:
    from .doctor import main as doctor

    return doctor()


def cmd_build(args, parser, argv) -> int:
    from .build import BuildError, build

    try:
        problems = build(args.root, check=args.check, force=args.force, lessons=args.lesson, timeout=args.timeout)
    except BuildError as err:
        print(f"course build: {err}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"course build --check: {problem}", file=sys.stderr)
    if args.check and not problems:
        print("course build --check: exercises/, solutions/, grading/ and course_utils/lessons/ are up to date")
    return 1 if problems else 0


def cmd_grade(args, parser, argv) -> int:
    from .grade import Report, collect_submissions, grade_all, merge, regrade, shard, summary_table
    from .intake import layout_summary

    if args.merge:
        if not args.report or args.submissions:
            parser.error("--merge takes shard JSON reports and needs --report, and no submissions")
        report = merge(args.merge, Report(args.report))
        print(summary_table(report.rows()))
        _hand_back(report, args.report, _titles(args, parser), args.reference)
        return 0
    if (args.only or args.failed) and not args.report:
        parser.error("--only and --failed grade again into an existing report: give it with --report")
    if not args.submissions:
        parser.error("give at least one notebook or folder to grade")
    if args.resume and not args.report:
        parser.error("--resume needs --report (the report to continue)")
    titles = _titles(args, parser)
    try:
        subs = collect_submissions(args.submissions)
    except (ValueError, OSError) as err:  # a damaged or hostile zip
        parser.error(str(err))
    for line in layout_summary(subs):
        print(line)
    if args.shard:
        try:
            index, count = (int(x) for x in args.shard.split("/"))
            subs = shard(subs, index, count)
        except ValueError as err:
            parser.error(f"--shard I/N, e.g. --shard 0/4: {err}")
    if not Path(args.reference).is_dir():
        parser.error(f"no reference folder {args.reference}: run `course build` first or pass --reference")
    report = Report(args.report)
    if args.resume or args.only or args.failed:
        report.load()
    if args.only or args.failed:
        subs = regrade(report, subs, args.only, args.failed)
        print(f"grading again: {len(subs)} submission(s)")
    start = time.monotonic()
    grade_all(subs, _options(args), report, workers=args.workers)
    print(summary_table(report.rows()))
    print(f"{len(report.submissions)} notebook(s) in the report; this run took {time.monotonic() - start:.1f} s"
          + (f"; written to {args.report} and {report.json_path}" if args.report else ""))
    if args.report:
        _hand_back(report, args.report, titles, args.reference)
    return 0


def _titles(args, parser) -> dict[str, str]:
    """Return ``{lesson: Canvas column}`` from ``--assignment NN=TITLE``."""
    titles = {}
    for item in args.assignment:
        lesson, sep, title = item.partition("=")
        if not sep or not lesson.isdigit() or len(lesson) != 2 or not title.strip():
            parser.error(f"--assignment NN=TITLE, e.g. --assignment '04=Deep Q-network (12345)': got {item!r}")
        titles[lesson] = title.strip()
    return titles


def _hand_back(report, csv_path: Path, titles: dict[str, str] | None = None, reference: Path | None = None) -> None:
    from .handback import class_summary, hand_back
    from .similarity import write_similarity

    rows = report.rows()
    paths = hand_back(rows, Path(csv_path), titles)
    alike = write_similarity(rows, Path(csv_path), Path(reference)) if reference else None
    print("\n" + class_summary(rows))
    print(f"feedback per student in {paths['feedback']}/, class summary in {paths['summary']}, "
          f"gradebook in {', '.join(map(str, paths['gradebooks'])) or '(none: no lesson was identified)'}")
    if alike:
        print(f"similarity ({alike['pairs']} pair(s) of students to review; no points changed) in {alike['page']} "
              f"and {alike['csv']}")


def cmd_bench(args, parser, argv) -> int:
    from .bench import run

    command = "course " + " ".join(sys.argv[1:] if argv is None else list(argv))
    if args.seeds < 1:
        print(f"course bench: --seeds must be at least 1, got {args.seeds}", file=sys.stderr)
        return 2
    out = args.out or args.root / "benchmarks" / "results" / ("quick" if args.quick else "")
    seeds = 1 if args.quick else args.seeds
    try:
        run(args.root, out, seeds=seeds, quick=args.quick, only=args.only, notebooks=not args.no_notebooks,
            command=command, update_reference=args.update_reference)
    except (ValueError, FileNotFoundError) as err:
        print(err, file=sys.stderr)
        return 2
    return 0


def cmd_release(args, parser, argv) -> int:
    from .release import ReleaseError, release

    try:
        release(args.root, args.out, args.through, args.repo)
    except ReleaseError as err:
        print(f"course release: {err}", file=sys.stderr)
        return 2
    return 0


def cmd_check(args, parser, argv) -> int:
    from .grade import Submission, check_text, grade_submission

    if not args.notebook.is_file():
        print(f"course check: no file {args.notebook}", file=sys.stderr)
        return 2
    rows = grade_submission(Submission(args.notebook.resolve().parent.name, args.notebook), _options(args))
    print(check_text(rows))
    return 0


# what the instructor extra installs; a student's install (the runtime dependencies) has none
INSTRUCTOR_EXTRA = {"nbformat", "nbclient", "nbval", "packaging", "pytest"}


def main(argv: list[str] | None = None) -> int:
    """Run the ``course`` command; return its exit code."""
    skip_iri_grammars()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return dispatch(args, parser, argv)
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] not in INSTRUCTOR_EXTRA:
            raise
        print(f"course {args.command}: needs {err.name}, one of the instructor's tools that the lessons "
              f'themselves do not need. Install them with:  pip install "course-utils[instructor]"', file=sys.stderr)
        return 2


# subcommand -> what runs it, each called with (args, parser, argv)
def cmd_renumber(args, parser, argv) -> int:
    from .renumber import common_root, renumber_file

    failed = 0
    root = common_root(args.notebooks)
    for path in args.notebooks:
        try:
            target = renumber_file(path, args.out, root=root)
        except (OSError, ValueError) as err:
            print(f"course renumber: {err}", file=sys.stderr)
            failed += 1
            continue
        print(f"{path} -> {target}")
    return 1 if failed else 0


COMMANDS = {"doctor": cmd_doctor, "build": cmd_build, "grade": cmd_grade, "check": cmd_check, "bench": cmd_bench,
            "release": cmd_release, "renumber": cmd_renumber}


def dispatch(args, parser, argv) -> int:
    """Run the subcommand ``args`` names; without one, print the help."""
    command = COMMANDS.get(args.command)
    if command is None:
        parser.print_help()
        return 2
    return command(args, parser, argv)


if __name__ == "__main__":
    sys.exit(main())
