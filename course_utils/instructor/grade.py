"""``course grade`` and ``course check``: grade filled notebooks without trusting them.

A submission's path, module by module:

1. ``intake``     which notebooks to grade and whose they are (``collect``), then per
                  notebook: read it (an unreadable one becomes report rows) and tell
                  its lesson (``identify_lesson``);
2. ``record``     the lesson's ``LessonRecord`` from ``grading/`` (``load``), refused
                  when it is stale for the installed checks (``stale_reason``);
3. ``assembly``   the student's cells (sources only) with the reference check cells
                  in place of the student's (``assemble``), markers found once
                  (``markers.MarkerIndex``);
4. ``runner``     nbval on that notebook in the submission's folder, in its own
                  process group with a cell timeout and a memory limit, run again past
                  a cell that hangs or kills the kernel (``run_past_stops``);
5. ``verdict``    each check cell's result made a status, points and a reason (``score``);
6. ``report``     rows saved to CSV and JSON after every submission; ``handback``
                  writes feedback and gradebooks from them.

A broken submission is a row with a reason, never a crash of the grader.
"""
from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path

from . import intake, record as records, renumber
from .assembly import assemble, without_installs
from .intake import Submission
from .markers import MarkerIndex
from .options import Options
from .record import LessonRecord, Status
from .report import Report, Row, check_text, merge, regrade, regrade_keys, summary_table
from .runner import CellResult, run_past_stops, stopping_cell
from .verdict import judge, output_difference, rows_for_all, score

__all__ = ["CellResult", "Options", "Report", "Row", "Status", "Submission", "assemble", "check_text",
           "collect_submissions", "grade_all", "grade_submission", "judge", "merge",
           "output_difference", "regrade", "regrade_keys", "shard", "stopping_cell", "summary_table",
           "without_installs"]


def collect_submissions(paths: list[str | Path]) -> list[Submission]:
    """Return the latest notebook per student and lesson under ``paths``, sorted (see ``intake``)."""
    return intake.collect(paths)


def shard(submissions: list[Submission], index: int, count: int) -> list[Submission]:
    """Return the deterministic slice ``index`` (0-based) of ``count`` of the sorted submissions."""
    if not 0 <= index < count:
        raise ValueError(f"--shard {index}/{count}: the index must be 0 to {count - 1}")
    return [s for i, s in enumerate(submissions) if i % count == index]


def _original_name(submission: Submission) -> str:
    """Return the file name the student gave, without the LMS's prefix (see ``intake.identity_of``)."""
    who = intake.moodle_identity(submission.path, None) or (
        intake.canvas_identity(submission.path) if submission.layout == "canvas" else None)
    return who.original if who else submission.path.name


def _refusal(submission: Submission, lesson: str | None, record: LessonRecord | None, unreadable: str,
             found: intake.Lesson, options: Options) -> list[Row] | None:
    """Return the rows of a submission that cannot be graded (no or a stale record, unreadable, wrong lesson), or None."""
    if lesson and record is None:
        return rows_for_all(submission, lesson, None, Status.UNKNOWN_LESSON, f"no lesson {lesson} in {options.reference}")
    stale = record.stale_reason(options.reference) if record is not None else None
    if stale:
        return rows_for_all(submission, lesson, record, Status.STALE_RECORD,
                            f"the grading record of lesson {lesson} ({record.notebook}) is stale: {stale}; "
                            f"run `course build --lesson {lesson}`, then grade again")
    if unreadable:
        return rows_for_all(submission, lesson, record, Status.UNREADABLE, unreadable)
    if found.status:
        return rows_for_all(submission, lesson, record, found.status, found.reason)
    return None


def _moved_reason(claimed: str, lesson: str) -> str:
    return (f"this is lesson {lesson}'s notebook under its number from before the course was renumbered on "
            f"{renumber.RENUMBERED_ON} (lesson {claimed} then): its check cells call lesson {lesson}'s checks, not "
            f"lesson {claimed}'s; convert it with `course renumber FILE` and grade the converted copy as lesson {lesson}")


def grade_submission(submission: Submission, options: Options) -> list[Row]:
    """Grade one notebook; every problem becomes rows with a reason, never an exception."""
    try:
        nb, unreadable = intake.read_notebook(submission.path), ""
    except ValueError as err:
        nb, unreadable = None, str(err)
    index = MarkerIndex.of(nb.cells) if nb is not None else None   # the student's markers, found once
    found = intake.identify_lesson(_original_name(submission), nb, index)
    record = records.load(options.reference, found.lesson) if found.lesson else None
    moved = renumber.moved_lesson(nb.cells, found.lesson, renumber.check_calls_by_lesson(options.reference)) \
        if nb is not None and found.lesson and not found.status else None
    if moved:
        return rows_for_all(submission, found.lesson, record, Status.WRONG_LESSON, _moved_reason(found.lesson, moved))
    refused = _refusal(submission, found.lesson, record, unreadable, found, options)
    if refused is not None:
        return refused
    graded = assemble(nb, record, index)
    run = run_past_stops(graded, submission.path.resolve().parent, options)
    return score(submission, record, nb, index, graded, run, options.cell_timeout)


def _grader_error(submission: Submission, options: Options, err: Exception) -> list[Row]:
    """Return the rows of a submission on which the grader itself failed."""
    lesson = intake.name_lesson(_original_name(submission))
    try:
        record = records.load(options.reference, lesson) if lesson else None
    except (OSError, ValueError, KeyError, TypeError):
        record = None
    return rows_for_all(submission, lesson, record, Status.GRADER_ERROR, f"{type(err).__name__}: {err}")


def grade_all(submissions: list[Submission], options: Options, report: Report, workers: int = 1,
              log=print) -> Report:
    """Grade submissions (skipping those already in the report), saving after each one."""
    todo = [s for s in submissions if s.key not in report.submissions]
    if len(todo) < len(submissions):
        log(f"resuming: {len(submissions) - len(todo)} submission(s) already graded in {report.csv_path}")

    def one(sub: Submission):
        start = time.monotonic()
        try:
            rows = grade_submission(sub, options)
        except Exception as err:  # the grader's own bug must not lose the class's other results
            rows = _grader_error(sub, options, err)
        return sub, rows, time.monotonic() - start

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for sub, rows, seconds in (f.result() for f in
                                   concurrent.futures.as_completed([pool.submit(one, s) for s in todo])):
            report.add(sub, rows, seconds)
            got, top = sum(r.points for r in rows), sum(r.max_points for r in rows)
            log(f"graded {sub.key}: {got}/{top} in {seconds:.1f} s")
    return report
