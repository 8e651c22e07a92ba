"""Verdicts: each check cell's result, and what the student's cells were, made a status, points and a reason.

``judge`` reads one check cell's ``CellResult``; ``verdict`` adds what the other cells
say (the cell before failed, the exercise cell was skipped after a hang, the exercise is
still a stub or missing); ``score`` makes one report row per check of the record.
"""
from __future__ import annotations

import re

from .assembly import GradedNotebook
from .intake import Submission
from .markers import MarkerIndex, is_stub
from .record import Check, LessonRecord, Status
from .report import Row, make_row
from .runner import KERNEL_STARTS, CellResult, RunResult

EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)|AssertionError|CheckTampered)\b")
MEMORY_LIMIT = "MemoryError: the code needed more memory than the grader's limit (--memory-limit-mb)"


def exception_line(message: str) -> str:
    """Return the exception (and hint lines after it) from a failed cell's report."""
    lines = [l.rstrip() for l in message.splitlines()]
    for i in range(len(lines) - 1, -1, -1):
        if EXCEPTION_LINE.match(lines[i]):
            return " ".join(l.strip() for l in lines[i:] if l.strip())[:500]
    return next((l.strip() for l in reversed(lines) if l.strip()), "unknown error")[:500]


def output_difference(expected: str | None, received: str | None) -> str:
    """Return where the received check output first differs from the reference, both lines shortened."""
    if expected is None or received is None:
        return "(the outputs were not recorded)"
    want, got = expected.splitlines(), received.splitlines()
    for i in range(max(len(want), len(got))):
        a = want[i] if i < len(want) else None
        b = got[i] if i < len(got) else None
        if a != b:
            show = lambda line: "nothing" if line is None else repr(line[:120] + ("..." if len(line) > 120 else ""))  # noqa: E731
            extra = f" ({len(got) - len(want)} more line(s) than the reference)" if len(got) > len(want) else ""
            return f"line {i + 1}: expected {show(a)}, got {show(b)}{extra}"
    return "the same lines, in other output kinds (stdout vs stderr, or a result)"


def judge(result: CellResult | None, ended: str, cell_timeout: int) -> tuple[Status, str]:
    """Return ``(status, reason)`` of one check cell from nbval's result."""
    if result is None:
        return Status.NOT_RUN, f"the check never ran ({ended or 'an earlier cell stopped the run'})"
    if result.no_kernel:
        return Status.NOT_RUN, (f"the check never ran: the kernel did not start in the submission's folder "
                                f"({KERNEL_STARTS} tries; {result.no_kernel}). A file there named like a module "
                                "Python or Jupyter loads at start (such as random.py or ipykernel_launcher.py) can "
                                "stop it: rename it and grade again")
    if result.xfail:
        return Status.TIMEOUT, "the check never ran: an earlier cell ran past the cell timeout"
    if result.outcome == "passed":
        return Status.PASSED, "passed"
    if result.kernel_died:
        return Status.KERNEL_DIED, "the kernel died while running this check"
    if result.dead_at_start:
        return Status.KERNEL_DIED, "the check never ran: the kernel died in an earlier cell"
    if result.timed_out:
        return Status.TIMEOUT, f"the check ran past the {cell_timeout} s cell timeout"
    if result.exception == "CheckTampered":
        return Status.TAMPERED, exception_line(result.message).removeprefix("CheckTampered: ")
    if result.outputs_differ:
        return Status.WRONG_OUTPUT, "the check printed other lines than the reference: " + output_difference(
            result.expected, result.received)
    line = exception_line(result.message)
    if "MemoryError" in line:  # raised in the cell, or inside a check (which names the student's line)
        line = MEMORY_LIMIT if line.startswith("MemoryError") else f"{MEMORY_LIMIT}; {line}"
    return Status.ERROR, line


def _cell_before(reason: str, status: Status, run: RunResult, number: int | None) -> str:
    """Return ``reason``, saying so when the cell before a failing check failed too, and, when it is one of a run
    of failing cells (a training cell raised, and the cells using what it would have made raise NameError after
    it), what the first of them raised: that is where to look."""
    def raised(k: int) -> bool:
        cell = run.cells.get(k)
        return cell is not None and cell.outcome == "failed" and not cell.kernel_died

    if status == Status.ERROR and number and raised(number - 1):
        said = exception_line(run.cells[number - 1].message)
        k = number - 1
        while raised(k - 1):
            k -= 1
        first_said = exception_line(run.cells[k].message)
        reason += f" (the cell before this check failed: {said}"
        if first_said != said:
            reason += f"; the first of the {number - k} failing cells before this check raised {first_said}"
        reason += ")"
    return reason


def _after_skips(status: Status, reason: str, exercise: str, number: int | None,
                 run: RunResult) -> tuple[Status, str]:
    """Return the verdict given the cells the grader skipped: the exercise's own, or earlier ones."""
    if status == Status.PASSED:
        return status, reason
    own = [k for k, sk in run.skipped.items() if sk.exercise == exercise]
    if own:
        what = run.skipped[own[-1]].what
        return (Status.KERNEL_DIED if what == "killed the kernel" else Status.TIMEOUT,
                f"the exercise cell {what}; the grader ran the rest of the notebook without it")
    earlier = [k for k in run.skipped if number is not None and k < number]
    if earlier and number not in run.skipped:
        reason += "".join(f" ({run.skipped[k].says()})" for k in earlier)
    return status, reason


def _attempted(status: Status, reason: str, exercise: str, source: str | None) -> tuple[Status, str]:
    """Return the verdict of a failed check given the student's exercise cell: missing, still a stub, or written."""
    if source is None and (status != Status.ERROR or reason.startswith("NameError")):
        return Status.NOT_ATTEMPTED, f"no '# EXERCISE {exercise}' cell (deleted, or its marker line changed)"
    if source is None:  # the check ran on a definition from another cell, and failed: say so
        return status, reason + f" (no '# EXERCISE {exercise}' cell was found; the check used what another cell defined)"
    if is_stub(source, exercise):
        return Status.NOT_ATTEMPTED, "the exercise cell still raises NotImplementedError"
    return status, reason


def verdict(check: Check, record: LessonRecord, sources: dict[str, str], graded: GradedNotebook, run: RunResult,
            cell_timeout: int) -> tuple[Status, str]:
    """Return ``(status, reason)`` of one check: its cell's result, then what the other cells say."""
    number = graded.check_cells.get(check.exercise)
    status, reason = judge(run.cells.get(number), run.ended, cell_timeout)
    reason = _cell_before(reason, status, run, number)
    status, reason = _after_skips(status, reason, check.exercise, number, run)
    if status not in (Status.PASSED, Status.TAMPERED) and record.has_stub(check.exercise):
        status, reason = _attempted(status, reason, check.exercise, sources.get(check.exercise))
    return status, reason


def exercise_sources(student_nb, index: MarkerIndex) -> dict[str, str]:
    """Return ``{exercise: source of the student's last exercise cell of it}``."""
    def text(source):
        return "".join(source) if isinstance(source, list) else str(source)
    return {ex: text(student_nb.cells[i].get("source", "")) for ex, i in index.exercise_cells().items()}


def score(submission: Submission, record: LessonRecord, student_nb, index: MarkerIndex, graded: GradedNotebook,
          run: RunResult, cell_timeout: int) -> list[Row]:
    """Return one report row per check of the record."""
    sources = exercise_sources(student_nb, index)
    rows = []
    for check in record.checks:
        status, reason = verdict(check, record, sources, graded, run, cell_timeout)
        rows.append(make_row(submission, record.lesson, check.exercise, check.points if status == Status.PASSED else 0,
                             check.points, status, reason))
    return rows


def rows_for_all(submission: Submission, lesson: str | None, record: LessonRecord | None, status: Status,
                 reason: str) -> list[Row]:
    """Return a zero-point row per exercise, or one row when the lesson is unknown."""
    if record is None:
        return [make_row(submission, lesson or "?", "-", 0, 0, status, reason)]
    return [make_row(submission, lesson, c.exercise, 0, c.points, status, reason) for c in record.checks]
