"""The sandboxed runner: nbval on an assembled notebook, in its own process group, and what each cell did.

``run_nbval`` runs pytest with nbval and ``nbval_plugin`` in the submission's folder,
in a new session (killed as a group at the end, the kernel too), under a memory limit
(``limited``) and a time budget. The plugin writes each cell's outcome as typed fields
(timed out, outputs differ, kernel died, the exception's name) to a JSON-lines file the
moment the cell ends, so nothing is read back from nbval's messages but the reason
text. A kernel that never started (it died at start, or did not answer in time: two kernels
started at once can race for a port) is started again, up to ``KERNEL_STARTS`` times.
``run_past_stops`` runs again without a cell that ran past the timeout or killed
the kernel, so the exercises after it still count.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .assembly import GradedNotebook
from .options import Options
from ..checks.own_work import ACCEPT_REFERENCE
from ..session import HEADLESS_ENV

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CELL_NAME = re.compile(r"Cell (\d+)$")   # nbval's name of a code cell's test item
MAX_RESTARTS = 3
KERNEL_STARTS = 3   # tries to start a notebook's kernel before its checks are "not run"


@dataclass
class CellResult:
    """What nbval said of one code cell."""

    outcome: str                  # pytest's: "passed", "failed" or "skipped"
    xfail: bool = False           # nbval did not run it: an earlier cell ran past the timeout
    kernel_died: bool = False     # the kernel died while this cell ran
    message: str = ""             # nbval's report, for the reason text
    expected: str | None = None   # for outputs that differ: what the reference printed, and what this run did
    received: str | None = None
    timed_out: bool = False       # this cell ran past the cell timeout
    outputs_differ: bool = False  # it ran, and printed other outputs than the reference
    dead_at_start: bool = False   # the kernel was already dead when this cell's turn came
    exception: str = ""           # the name of the exception the cell raised, if it raised one
    no_kernel: str = ""           # the kernel never started, and why (jupyter_client's words)


@dataclass
class Skipped:
    """A cell the grader left out of a later run: what it did, how it began, and its exercise if it was one."""

    what: str                 # "ran past the cell timeout" or "killed the kernel"
    first_line: str
    exercise: str | None = None

    def says(self) -> str:
        return f"the grader skipped the cell starting {self.first_line!r}, which {self.what}, and ran the rest without it"


@dataclass
class RunResult:
    """What the runs of one notebook gave: per code cell number, how the last run ended, what was skipped."""

    cells: dict[int, CellResult]
    ended: str = ""
    skipped: dict[int, Skipped] = field(default_factory=dict)


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


def nbval_command(nb_path: Path, options: Options) -> list[str]:
    """Return the pytest command that runs nbval, and our plugin, on ``nb_path`` alone."""
    return [sys.executable, "-m", "pytest", str(nb_path), "--nbval-lax", "--nbval-current-env",
            f"--nbval-cell-timeout={options.cell_timeout}",
            f"--nbval-kernel-startup-timeout={options.kernel_timeout}",
            "-p", "course_utils.instructor.nbval_plugin", "-p", "no:cacheprovider", "--noconftest",
            "-c", os.devnull, f"--rootdir={nb_path.parent}", "-q", "--color=no", "-W", "ignore"]


def run_sandboxed(cmd: list[str], cwd: Path, env: dict, log_path: Path, budget: float) -> tuple[int, bool]:
    """Run ``cmd`` in its own session within ``budget`` seconds, then kill its whole group.

    Returns ``(exit code, whether the budget ran out)``.
    """
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        out_of_time = False
        try:
            proc.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            out_of_time = True
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the kernel too, whatever it is doing
            except ProcessLookupError:
                pass
            proc.wait()
    return proc.returncode, out_of_time


def read_results(path: Path) -> dict[int, CellResult]:
    """Return ``{code cell number: CellResult}`` from the plugin's JSON-lines file (empty if it wrote none)."""
    results = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            m = CELL_NAME.match(row.pop("cell"))
            if m:
                row["message"] = ANSI.sub("", row["message"])
                results[int(m[1])] = CellResult(**row)
    return results


def no_kernel(results: dict[int, CellResult]) -> bool:
    """Whether a run's kernel never started: every cell it reported failed at the kernel's start."""
    return bool(results) and all(r.no_kernel for r in results.values())


def run_nbval(nb, folder: Path, options: Options, n_code_cells: int) -> tuple[dict[int, CellResult], str]:
    """Run nbval on ``nb`` in ``folder``, starting the kernel again if it never started (``KERNEL_STARTS``
    tries); return per-code-cell results and a note on how it ended."""
    for _ in range(KERNEL_STARTS):
        results, ended = _run_nbval_once(nb, folder, options, n_code_cells)
        if not no_kernel(results):
            break
    return results, ended


def _run_nbval_once(nb, folder: Path, options: Options, n_code_cells: int) -> tuple[dict[int, CellResult], str]:
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        nb_path = folder / f".course-grade-{uuid.uuid4().hex[:8]}.ipynb"
        try:
            nbformat.write(nb, nb_path)
        except OSError:  # a read-only submission folder: run beside a copy instead
            nb_path = Path(tmp) / "submission.ipynb"
            nbformat.write(nb, nb_path)
        results_path, log_path = Path(tmp) / "results.jsonl", Path(tmp) / "pytest.log"
        env = {**os.environ, **HEADLESS_ENV, "COURSE_NBVAL_RESULTS": str(results_path)}
        env.pop(ACCEPT_REFERENCE, None)   # the checks refuse the course's reference code, whoever grades
        budget = options.kernel_timeout + (n_code_cells + 2) * (options.cell_timeout + 30)
        try:
            code, out_of_time = run_sandboxed(limited(nbval_command(nb_path, options), options.memory_limit_mb),
                                              nb_path.parent, env, log_path, budget)
            ended = f"grading of this notebook stopped after {budget} s" if out_of_time else ""
            if code not in (0, 1, -signal.SIGKILL) and not ended:
                tail = log_path.read_bytes()[-600:].decode(errors="replace")
                ended = f"nbval ended with exit code {code}: {tail.strip().splitlines()[-1:] or ''}"
            return read_results(results_path), ended
        finally:
            nb_path.unlink(missing_ok=True)


def stopping_cell(results: dict[int, CellResult]) -> tuple[int, str] | None:
    """Return (code cell number, what it did) of the first cell that stopped the run: a timeout or a dead kernel."""
    for n in sorted(results):
        r = results[n]
        if r.kernel_died:
            return n, "killed the kernel"
        if r.outcome == "failed" and r.timed_out:
            return n, "ran past the cell timeout"
    return None


def run_past_stops(graded: GradedNotebook, folder: Path, options: Options) -> RunResult:
    """Run nbval; after a timeout or a dead kernel, run again without that cell, so later exercises still count.

    Returns a ``RunResult``: each code cell's ``CellResult`` (a skipped cell keeps the one
    that stopped the run), how the last run ended, and ``{code cell number: Skipped}`` for
    the skipped cells (what each did, its first line, its exercise). At most
    ``MAX_RESTARTS`` restarts, and none once ``options.notebook_timeout`` seconds are spent.
    """
    start = time.monotonic()
    code = [c for c in graded.nb.cells if c.cell_type == "code"]
    cells, ended = run_nbval(graded.nb, folder, options, len(code))
    kept, skipped = {}, {}
    for _ in range(MAX_RESTARTS):
        stop = stopping_cell(cells)
        if stop is None or stop[0] >= len(code) - 1 or time.monotonic() - start > options.notebook_timeout:
            break
        n, what = stop
        first = next((line.strip() for line in code[n].source.splitlines() if line.strip()), "")
        kept[n], skipped[n] = cells[n], Skipped(what, first[:60], graded.exercise_cells.get(n))
        code[n].source = f"# skipped by the grader: in an earlier run this cell {what}"
        code[n].outputs = []
        cells, ended = run_nbval(graded.nb, folder, options, len(code))
    return RunResult({**cells, **kept}, ended, skipped)
