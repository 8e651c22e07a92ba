"""``course grade`` and ``course check``: grade filled notebooks without trusting them.

For each submission:

1. ``read_submission``  read the notebook; an unreadable one becomes report rows;
2. ``assemble``         keep the student's cells (sources only: stored outputs are
                        dropped), remove every check cell the student has, and insert
                        the reference check cells (source and expected outputs) after the
                        cell each one follows in the lesson;
3. ``run_nbval``        run nbval on that notebook in the submission's folder, in its
                        own process group with a cell timeout and a memory limit;
4. ``score``            map each check cell's outcome to its exercise, points and reason.

A broken submission is a row with a reason, never a crash of the grader.
"""
from __future__ import annotations

import concurrent.futures
import csv
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

from . import intake
from .intake import Submission
from .markers import found_marker, is_stub
from .options import Options
from ..session import HEADLESS_ENV

CSV_FIELDS = ["student", "name", "layout", "lesson", "exercise", "points", "max_points", "status", "reason", "notebook",
              "passed_over"]
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)|AssertionError|CheckTampered)\b")


@dataclass
class Row:
    """One (student, lesson, exercise) line of the report."""

    student: str
    lesson: str
    exercise: str
    points: int
    max_points: int
    status: str
    reason: str
    notebook: str
    name: str = ""          # the student's name as the LMS wrote it (Canvas, Moodle), else ""
    layout: str = "file"    # where the identity came from: "canvas", "moodle", "folder" or "file"
    passed_over: str = ""   # older copies of the same lesson by the same student, not graded ("; "-separated)


def make_row(submission: Submission, lesson: str, exercise: str, points: int, max_points: int, status: str,
             reason: str) -> Row:
    """Return a report row of ``submission``, carrying its identity and the copies it was chosen over."""
    return Row(submission.student, lesson, exercise, points, max_points, status, reason, submission.key,
               submission.name, submission.layout, "; ".join(submission.passed_over))


@dataclass
class CellResult:
    """What nbval said of one code cell."""

    outcome: str
    xfail: bool = False
    kernel_died: bool = False
    message: str = ""
    expected: str | None = None   # for "Cell outputs differ": what the reference printed, and what this run did
    received: str | None = None


# finding submissions and references -----------------------------------------------------

def collect_submissions(paths: list[str | Path]) -> list[Submission]:
    """Return the latest notebook per student and lesson under ``paths``, sorted (see ``intake``)."""
    return intake.collect(paths)


def shard(submissions: list[Submission], index: int, count: int) -> list[Submission]:
    """Return the deterministic slice ``index`` (0-based) of ``count`` of the sorted submissions."""
    if not 0 <= index < count:
        raise ValueError(f"--shard {index}/{count}: the index must be 0 to {count - 1}")
    return [s for i, s in enumerate(submissions) if i % count == index]


def lesson_of(path: Path) -> str | None:
    """Return the two-digit lesson number at the start of a notebook's file name (after Colab's "Copy of ")."""
    return intake.name_lesson(path.name)


def load_reference(reference_dir: Path, lesson: str) -> dict | None:
    """Return the reference record of a lesson written by ``course build``, or None."""
    matches = sorted(Path(reference_dir).glob(f"{lesson}_*.json"))
    return json.loads(matches[0].read_text()) if matches else None


# 1-2. reading and assembling -------------------------------------------------------------

def read_submission(path: Path):
    """Return the notebook at ``path``; raise ``ValueError`` saying why it cannot be read as one."""
    return intake.read_notebook(path)


INSTALL_LINE = re.compile(r"^(?P<indent>\s*)[!%]\s*(pip3?|conda|mamba|uv\s+pip|python3?\s+-m\s+pip)\b.*$", re.MULTILINE)


def without_installs(source: str) -> str:
    """Return ``source`` with each ``!pip``/``%pip`` (or conda) line made a ``pass``: the grader's environment is fixed.

    A Colab notebook often starts with ``!pip install ...``; run by the grader it would
    change the packages every later notebook is graded with. Other shell lines
    (``!echo``, ``!ls``) run as they are.
    """
    return INSTALL_LINE.sub(lambda m: f"{m['indent']}pass  # course grade skipped: {m[0].strip()[:80]}", source)


def _clean_copy(cell):
    """Return a student cell with its source only (stored outputs are the student's, not evidence)."""
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    if cell.get("cell_type") == "code":
        return nbformat.v4.new_code_cell(without_installs(source))
    if cell.get("cell_type") == "markdown":
        return nbformat.v4.new_markdown_cell(source)
    return nbformat.v4.new_raw_cell(source)


def _find_anchor(cells: list, anchor: dict) -> int | None:
    """Return the index of the cell a reference check follows, or None."""
    if anchor.get("exercise"):
        hits = [i for i, c in enumerate(cells) if (m := found_marker(c)) and m.kind == "exercise"
                and m.exercise == anchor["exercise"]]
        return hits[-1] if hits else None  # after the last copy: its definition is the one that counts
    hits = [i for i, c in enumerate(cells) if anchor.get("id") and c.get("id") == anchor["id"]]
    hits = hits or [i for i, c in enumerate(cells) if c.get("source", "") == anchor.get("source")]
    return hits[-1] if hits else None


def sealed_source(source: str, module: str, exercise: str) -> str:
    """Return a check cell's source that calls a fresh, sealed copy of ``module`` (see ``sealed``), not ``checks``."""
    first, _, rest = source.partition("\n")
    return (f"{first}\n"
            f"checks = __import__('course_utils.instructor.sealed', fromlist=['open_checks']).open_checks("
            f"{module!r}, {exercise!r})\n"
            f"{rest}\n"
            f"checks.close()")


def assemble(student_nb, reference: dict):
    """Return ``(graded_nb, {code_cell_number: exercise})``: student cells plus reference checks.

    Each reference check goes where the student's own check cell of that exercise was
    (after everything the student wrote for it, even an exercise cell split in two);
    without one, after the exercise cell (or the cell the check follows in the lesson).
    """
    taken = {check["cell"].get("id") for check in reference["checks"]}
    cells, student_check_at = [], {}
    for cell in student_nb.cells:
        marker = found_marker(cell)
        if marker is not None and marker.kind == "check":
            student_check_at[marker.exercise] = len(cells) - 1  # every check cell is replaced by the reference one
            continue
        copy = _clean_copy(cell)
        if isinstance(cell.get("id"), str) and cell["id"] not in taken:
            taken.add(cell["id"])
            copy.id = cell["id"]  # kept so reference checks can find the cell they follow
        cells.append(copy)
    after: dict[int, list] = {}   # student cell index -> reference checks that follow it, in lesson order
    graded_checks = {}
    last = len(cells) - 1
    for check in reference["checks"]:
        at = student_check_at.get(check["exercise"])
        if at is None:
            at = _find_anchor(cells, check["anchor"])
        at = last if at is None else at
        ref_cell = nbformat.from_dict(check["cell"])
        if reference.get("check_module"):
            ref_cell.source = sealed_source(ref_cell.source, reference["check_module"], check["exercise"])
        after.setdefault(at, []).append(ref_cell)
        graded_checks[id(ref_cell)] = check["exercise"]
        last = at
    merged = after.get(-1, [])
    for i, cell in enumerate(cells):
        merged += [cell, *after.get(i, [])]
    nb = nbformat.v4.new_notebook(cells=merged)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    check_cells, n = {}, 0
    for cell in merged:
        if cell.cell_type == "code":
            if id(cell) in graded_checks:
                check_cells[n] = graded_checks[id(cell)]
            n += 1
    return nb, check_cells


# 3. running nbval -------------------------------------------------------------------------

def limited(cmd: list[str], limit_mb: int) -> list[str]:
    """Return ``cmd`` started through a Python that first caps its address space (POSIX).

    The cap is inherited by the kernel nbval starts. (No ``preexec_fn``: it is not
    safe in a program that runs threads, as ``--workers`` does.)
    """
    if not limit_mb or os.name != "posix":
        return cmd
    code = ("import os, resource, sys; limit = int(sys.argv[1]) * 2**20; "
            "resource.setrlimit(resource.RLIMIT_AS, (limit, limit)); os.execv(sys.argv[2], sys.argv[2:])")
    return [sys.executable, "-c", code, str(limit_mb), *cmd]


def run_nbval(nb, folder: Path, options: Options, n_code_cells: int) -> tuple[dict[int, CellResult], str]:
    """Run nbval on ``nb`` in ``folder``; return per-code-cell results and a note on how it ended."""
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        nb_path = folder / f".course-grade-{uuid.uuid4().hex[:8]}.ipynb"
        try:
            nbformat.write(nb, nb_path)
        except OSError:  # a read-only submission folder: run beside a copy instead
            nb_path = Path(tmp) / "submission.ipynb"
            nbformat.write(nb, nb_path)
        results_path = Path(tmp) / "results.jsonl"
        log_path = Path(tmp) / "pytest.log"
        env = {**os.environ, **HEADLESS_ENV, "COURSE_NBVAL_RESULTS": str(results_path)}
        cmd = [sys.executable, "-m", "pytest", str(nb_path), "--nbval-lax", "--nbval-current-env",
               f"--nbval-cell-timeout={options.cell_timeout}",
               f"--nbval-kernel-startup-timeout={options.kernel_timeout}",
               "-p", "course_utils.instructor.nbval_plugin", "-p", "no:cacheprovider", "--noconftest",
               "-c", os.devnull, f"--rootdir={nb_path.parent}", "-q", "--color=no", "-W", "ignore"]
        budget = options.kernel_timeout + (n_code_cells + 2) * (options.cell_timeout + 30)
        ended = ""
        try:
            with open(log_path, "wb") as log:
                proc = subprocess.Popen(limited(cmd, options.memory_limit_mb), cwd=nb_path.parent, env=env,
                                        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
                try:
                    proc.wait(timeout=budget)
                except subprocess.TimeoutExpired:
                    ended = f"grading of this notebook stopped after {budget} s"
                finally:
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)  # the kernel too, whatever it is doing
                    except ProcessLookupError:
                        pass
                    proc.wait()
            if proc.returncode not in (0, 1, -signal.SIGKILL) and not ended:
                tail = log_path.read_bytes()[-600:].decode(errors="replace")
                ended = f"nbval ended with exit code {proc.returncode}: {tail.strip().splitlines()[-1:] or ''}"
            results = {}
            if results_path.exists():
                for line in results_path.read_text(encoding="utf-8").splitlines():
                    row = json.loads(line)
                    m = re.match(r"Cell (\d+)$", row["cell"])
                    if m:
                        results[int(m[1])] = CellResult(row["outcome"], row["xfail"], row["kernel_died"],
                                                        ANSI.sub("", row["message"]), row.get("expected"),
                                                        row.get("received"))
            return results, ended
        finally:
            nb_path.unlink(missing_ok=True)


# 4. scoring -------------------------------------------------------------------------------

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


def judge(result: CellResult | None, ended: str, cell_timeout: int) -> tuple[str, str]:
    """Return ``(status, reason)`` of one check cell from nbval's result."""
    if result is None:
        return "not run", f"the check never ran ({ended or 'an earlier cell stopped the run'})"
    if result.xfail:
        return "timeout", "the check never ran: an earlier cell ran past the cell timeout"
    if result.outcome == "passed":
        return "passed", "passed"
    if result.kernel_died:
        return "kernel died", "the kernel died while running this check"
    if "Kernel dead on test start" in result.message:
        return "kernel died", "the check never ran: the kernel died in an earlier cell"
    if "Timeout of" in result.message and "exceeded" in result.message:
        return "timeout", f"the check ran past the {cell_timeout} s cell timeout"
    if "CheckTampered" in result.message:
        return "tampered", exception_line(result.message).removeprefix("CheckTampered: ")
    if "Cell outputs differ" in result.message:
        return "wrong output", "the check printed other lines than the reference: " + output_difference(
            result.expected, result.received)
    line = exception_line(result.message)
    if "MemoryError" in line:  # raised in the cell, or inside a check (which names the student's line)
        limit = "MemoryError: the code needed more memory than the grader's limit (--memory-limit-mb)"
        line = limit if line.startswith("MemoryError") else f"{limit}; {line}"
    return "error", line


def score(submission: Submission, lesson: str, reference: dict, student_nb, results, ended, options) -> list[Row]:
    """Return one row per reference check."""
    exercise_cells = {}
    for cell in student_nb.cells:
        marker = found_marker(cell)
        if marker is not None and marker.kind == "exercise":
            exercise_cells[marker.exercise] = cell.get("source", "")
    rows = []
    check_cells = {ex: n for n, ex in results["check_cells"].items()}
    for check in reference["checks"]:
        ex = check["exercise"]
        number = check_cells.get(ex)
        status, reason = judge(results["cells"].get(number), ended, options.cell_timeout)
        before = results["cells"].get(number - 1) if number else None
        if status == "error" and before is not None and before.outcome == "failed" and not before.kernel_died:
            reason += f" (the cell before this check failed: {exception_line(before.message)})"
        skipped = results.get("skipped", {})
        own = [k for k, sk in skipped.items() if sk.marker is not None and sk.marker.kind == "exercise"
               and sk.marker.exercise == ex]
        earlier = [k for k in skipped if number is not None and k < number and k not in own]
        if own and status != "passed":
            what = skipped[own[-1]].what
            status = "kernel died" if what == "killed the kernel" else "timeout"
            reason = f"the exercise cell {what}; the grader ran the rest of the notebook without it"
        elif status != "passed" and earlier and number not in skipped:
            reason += "".join(f" ({skipped[k].says()})" for k in earlier)
        if status not in ("passed", "tampered") and ex in reference["stubs"]:
            source = exercise_cells.get(ex)
            if source is None and (status != "error" or reason.startswith("NameError")):
                status, reason = "not attempted", f"no '# EXERCISE {ex}' cell (deleted, or its marker line changed)"
            elif source is None:  # the check ran on a definition from another cell, and failed: say so
                reason += f" (no '# EXERCISE {ex}' cell was found; the check used what another cell defined)"
            elif is_stub("".join(source) if isinstance(source, list) else source, ex):
                status, reason = "not attempted", "the exercise cell still raises NotImplementedError"
        points = check["points"] if status == "passed" else 0
        rows.append(make_row(submission, lesson, ex, points, check["points"], status, reason))
    return rows


def rows_for_all(submission, lesson, reference, status, reason) -> list[Row]:
    """Return a zero-point row per exercise, or one row when the lesson is unknown."""
    if reference is None:
        return [make_row(submission, lesson or "?", "-", 0, 0, status, reason)]
    return [make_row(submission, lesson, c["exercise"], 0, c["points"], status, reason) for c in reference["checks"]]


def grade_submission(submission: Submission, options: Options) -> list[Row]:
    """Grade one notebook; every problem becomes rows with a reason, never an exception."""
    path = submission.path
    original = _original_name(submission)
    try:
        nb, unreadable = read_submission(path), ""
    except ValueError as err:
        nb, unreadable = None, str(err)
    found = intake.identify_lesson(original, nb)
    reference = load_reference(options.reference, found.lesson) if found.lesson else None
    if found.lesson and reference is None:
        return rows_for_all(submission, found.lesson, None, "unknown lesson",
                            f"no lesson {found.lesson} in {options.reference}")
    if unreadable:
        return rows_for_all(submission, found.lesson, reference, "unreadable notebook", unreadable)
    if found.status:
        return rows_for_all(submission, found.lesson, reference, found.status, found.reason)
    graded, check_cells = assemble(nb, reference)
    cells, ended, skipped = run_past_stops(graded, path.resolve().parent, options)
    return score(submission, found.lesson, reference, nb,
                 {"cells": cells, "check_cells": check_cells, "skipped": skipped}, ended, options)


def _original_name(submission: Submission) -> str:
    """Return the file name the student gave, without the LMS's prefix (see ``intake.identity_of``)."""
    who = intake.moodle_identity(submission.path, None) or (
        intake.canvas_identity(submission.path) if submission.layout == "canvas" else None)
    return who.original if who else submission.path.name


MAX_RESTARTS = 3


def stopping_cell(results: dict[int, CellResult]) -> tuple[int, str] | None:
    """Return (code cell number, what it did) of the first cell that stopped the run: a timeout or a dead kernel."""
    for n in sorted(results):
        r = results[n]
        if r.kernel_died:
            return n, "killed the kernel"
        if r.outcome == "failed" and "Timeout of" in r.message and "exceeded" in r.message:
            return n, "ran past the cell timeout"
    return None


@dataclass
class Skipped:
    """A cell the grader left out of a later run: what it did, how it began, and its marker if it had one."""

    what: str            # "ran past the cell timeout" or "killed the kernel"
    first_line: str
    marker: object = None

    def says(self) -> str:
        return f"the grader skipped the cell starting {self.first_line!r}, which {self.what}, and ran the rest without it"


def run_past_stops(graded, folder: Path, options: Options) -> tuple[dict[int, CellResult], str, dict[int, Skipped]]:
    """Run nbval; after a timeout or a dead kernel, run again without that cell, so later exercises still count.

    Returns the results (a skipped cell keeps the result that stopped the run), how the
    last run ended, and ``{code cell number: what it did}`` of the skipped cells. At most
    ``MAX_RESTARTS`` restarts, and none once ``options.notebook_timeout`` seconds are spent.
    """
    start = time.monotonic()
    code = [c for c in graded.cells if c.cell_type == "code"]
    cells, ended = run_nbval(graded, folder, options, len(code))
    kept, skipped = {}, {}
    for _ in range(MAX_RESTARTS):
        stop = stopping_cell(cells)
        if stop is None or stop[0] >= len(code) - 1 or time.monotonic() - start > options.notebook_timeout:
            break
        n, what = stop
        first = next((line.strip() for line in code[n].source.splitlines() if line.strip()), "")
        kept[n], skipped[n] = cells[n], Skipped(what, first[:60], found_marker(code[n]))
        code[n].source = f"# skipped by the grader: in an earlier run this cell {what}"
        code[n].outputs = []
        cells, ended = run_nbval(graded, folder, options, len(code))
    return {**cells, **kept}, ended, skipped


# the report -------------------------------------------------------------------------------

class Report:
    """Rows by submission, saved to CSV and JSON after every submission."""

    def __init__(self, csv_path: Path | None):
        self.csv_path = Path(csv_path) if csv_path else None
        self.json_path = self.csv_path.with_suffix(".json") if self.csv_path else None
        self.submissions: dict[str, dict] = {}

    def load(self) -> None:
        """Read what an earlier run of the same report finished (for --resume)."""
        if self.json_path and self.json_path.exists():
            self.submissions.update(json.loads(self.json_path.read_text())["submissions"])

    def add(self, submission: Submission, rows: list[Row], seconds: float) -> None:
        self.submissions[submission.key] = {"student": submission.student, "seconds": round(seconds, 1),
                                            "rows": [asdict(r) for r in rows]}
        self.save()

    def rows(self) -> list[dict]:
        ordered = sorted(self.submissions.values(), key=lambda s: (s["student"], s["rows"][0]["notebook"]))
        return [r for s in ordered for r in s["rows"]]

    def save(self) -> None:
        if not self.csv_path:
            return
        self.csv_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.csv_path.with_name(self.csv_path.name + ".tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
            writer.writeheader()
            writer.writerows(self.rows())
        os.replace(tmp, self.csv_path)
        tmp = self.json_path.with_name(self.json_path.name + ".tmp")
        tmp.write_text(json.dumps({"submissions": self.submissions}, indent=1, sort_keys=True) + "\n")
        os.replace(tmp, self.json_path)


def summary_table(rows: list[dict]) -> str:
    """Return a per-student table: score and each exercise's status."""
    exercises = sorted({r["exercise"] for r in rows})
    groups: dict[tuple, list] = {}
    for r in rows:
        who = f"{r['student']} ({r['name']})" if r.get("name") else r["student"]
        groups.setdefault((who, r["lesson"], r["notebook"]), []).append(r)
    width = max([7] + [len(k[0]) for k in groups])
    col = max([6] + [len(r["status"]) for r in rows])
    head = f"{'student':<{width}}  lesson  score  " + "  ".join(f"{e:<{col}}" for e in exercises)
    lines = [head, "-" * len(head)]
    for (student, lesson, _), rs in sorted(groups.items()):
        by_ex = {r["exercise"]: r["status"] for r in rs}
        got, top = sum(int(r["points"]) for r in rs), sum(int(r["max_points"]) for r in rs)
        cells = "  ".join(f"{by_ex.get(e, ''):<{col}}" for e in exercises)
        lines.append(f"{student:<{width}}  {lesson:<6}  {got:>2}/{top:<2}  {cells}".rstrip())
    return "\n".join(lines)


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
            lesson = intake.name_lesson(_original_name(sub))
            rows = rows_for_all(sub, lesson, load_reference(options.reference, lesson or ""),
                                "grader error", f"{type(err).__name__}: {err}")
        return sub, rows, time.monotonic() - start

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for sub, rows, seconds in (f.result() for f in
                                   concurrent.futures.as_completed([pool.submit(one, s) for s in todo])):
            report.add(sub, rows, seconds)
            got, top = sum(r.points for r in rows), sum(r.max_points for r in rows)
            log(f"graded {sub.key}: {got}/{top} in {seconds:.1f} s")
    return report


def regrade_keys(report: Report, only: list[str] | None = None, failed: bool = False) -> set[str]:
    """Return the keys of the report's submissions to grade again: those of the ``only`` students, or
    (``failed``) those with an exercise that did not pass."""
    keys = set()
    for key, entry in report.submissions.items():
        if only and entry["student"] in only:
            keys.add(key)
        if failed and any(r["status"] != "passed" for r in entry["rows"]):
            keys.add(key)
    return keys


def merge(json_paths: list[Path], report: Report) -> Report:
    """Join the JSON reports of several shards into ``report``."""
    for path in json_paths:
        data = json.loads(Path(path).read_text())
        report.submissions.update(data["submissions"])
    report.save()
    return report


def check_text(rows: list[Row]) -> str:
    """Return the self-check printout of one notebook: each exercise with its hint."""
    lines = []
    for r in rows:
        mark = "ok " if r.status == "passed" else "-- "
        lines.append(f"{mark}{r.exercise:<6} {r.points}/{r.max_points}  {r.status}")
        if r.status != "passed":
            lines.append(f"        {r.reason}")
    got, top = sum(r.points for r in rows), sum(r.max_points for r in rows)
    lines.append(f"score: {got}/{top} (what the grader will give this file)")
    return "\n".join(lines)
