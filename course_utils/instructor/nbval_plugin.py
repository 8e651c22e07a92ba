"""A pytest plugin that ``course grade`` loads next to nbval (``-p course_utils.instructor.nbval_plugin``).

It does what nbval 0.11 does not:

- writes each cell's outcome to the JSON-lines file named by ``COURSE_NBVAL_RESULTS``
  the moment the cell finishes, so a grading run that is killed still has the
  results of every cell that ran;
- says what happened in typed fields (``runner.CellResult``): the cell timed out
  (nbval's own ``timed_out`` flag turned on while it ran), its outputs differ from the
  reference (and both texts), the kernel died in it or was dead before it, the name
  of the exception it raised; the grader reads nbval's message only for its reasons;
- notices a dead kernel within a second (nbval alone waits out the whole cell
  timeout when the student's code exits the kernel process);
- says when the kernel never started (nbval's setup failed), so the runner can try again.

Loaded before nbval, it also keeps the run from compiling grammars it never uses (``startup``).
"""
from __future__ import annotations

import json
import os
import time
from queue import Empty

import pytest

from .startup import skip_iri_grammars

skip_iri_grammars()   # pytest imports a `-p` plugin before nbval, which imports nbformat and jsonschema
MAX_MESSAGE = 4000


class KernelDied(RuntimeError):
    """The kernel process ended while a cell was running."""


def _install_liveness_check() -> None:
    from nbval.kernel import RunningKernel

    original = RunningKernel.await_reply
    if getattr(original, "_course_patched", False):
        return

    def await_reply(self, msg_id, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            step = 1.0 if deadline is None else max(0.05, min(1.0, deadline - time.monotonic()))
            try:
                return original(self, msg_id, timeout=step)
            except Empty:
                if not self.is_alive():
                    raise KernelDied(
                        "the kernel died while running this cell (the code ended the Python "
                        "process, crashed it, or ran out of memory)"
                    ) from None
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    await_reply._course_patched = True
    RunningKernel.await_reply = await_reply


def output_text(outputs) -> str:
    """Return the text a cell's outputs show: streams and plain-text results, in order."""
    parts = []
    for out in outputs or []:
        if "text" in out:
            parts.append(out["text"] if isinstance(out["text"], str) else "".join(out["text"]))
        elif "text/plain" in out.get("data", {}):
            data = out["data"]["text/plain"]
            parts.append((data if isinstance(data, str) else "".join(data)) + "\n")
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename', 'Error')}: {out.get('evalue', '')}\n")
    return "".join(parts)


def _install_output_record() -> None:
    """Keep the reference and the received outputs of a cell whose outputs differ, for the report."""
    from nbval.plugin import IPyNbCell

    original = IPyNbCell.compare_outputs
    if getattr(original, "_course_patched", False):
        return

    def compare_outputs(self, test, ref, skip_compare=None):
        same = original(self, test, ref, skip_compare)
        if not same:
            self.course_outputs = (output_text(ref), output_text(test))
        return same

    compare_outputs._course_patched = True
    IPyNbCell.compare_outputs = compare_outputs


def pytest_configure(config):
    _install_liveness_check()
    _install_output_record()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    before = getattr(item.parent, "timed_out", False)
    yield
    item.course_timed_out = not before and getattr(item.parent, "timed_out", False)


def raised_name(item) -> str:
    """Return the name of the exception the cell's code raised in the kernel (its error output), or ""."""
    errors = [o for o in getattr(item, "test_outputs", None) or [] if o.get("output_type") == "error"]
    return str(errors[-1].get("ename", "")) if errors else ""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    failed = call.when == "call" and call.excinfo is not None
    report.course_kernel_died = failed and call.excinfo.errisinstance(KernelDied)
    report.course_dead_at_start = (failed and not report.course_kernel_died and call.excinfo.errisinstance(RuntimeError)
                                   and str(call.excinfo.value) == "Kernel dead on test start")   # nbval's words
    # nbval turns its timed_out flag on only when its own cell timeout fires (the cell's code cannot): a cell
    # during which it turned on ran past the timeout, whatever it raised or printed after the interrupt
    report.course_timed_out = failed and getattr(item, "course_timed_out", False)
    report.course_exception = raised_name(item) if failed else ""
    report.course_outputs = getattr(item, "course_outputs", None)
    # nbval's only setup is the kernel's start: a failed setup is a kernel that never answered (it died at
    # start, or did not reply within --nbval-kernel-startup-timeout), and every cell of the file reports it
    report.course_no_kernel = str(call.excinfo.value) or call.excinfo.typename \
        if call.when == "setup" and call.excinfo is not None else ""


def pytest_runtest_logreport(report):
    path = os.environ.get("COURSE_NBVAL_RESULTS")
    if not path or not (report.when == "call" or (report.when == "setup" and not report.passed)):
        return
    cell = getattr(report, "location", (None, None, ""))[2]
    message = str(report.longrepr) if report.longrepr else ""
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE // 2] + "\n[...]\n" + message[-MAX_MESSAGE // 2:]
    outputs = getattr(report, "course_outputs", None)
    row = {
        "cell": cell.split("::")[-1],
        "outcome": report.outcome,
        "xfail": bool(getattr(report, "wasxfail", "")),
        "kernel_died": bool(getattr(report, "course_kernel_died", False)),
        "dead_at_start": bool(getattr(report, "course_dead_at_start", False)),
        "timed_out": bool(getattr(report, "course_timed_out", False)),
        "outputs_differ": not report.passed and outputs is not None,
        "exception": getattr(report, "course_exception", ""),
        "no_kernel": getattr(report, "course_no_kernel", ""),
        "message": message,
    }
    if outputs:
        row["expected"], row["received"] = (text[:MAX_MESSAGE] for text in outputs)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
