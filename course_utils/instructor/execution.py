"""Execution: run a solution headless, and refuse a check whose printed output is not the same every run.

``course build`` runs each stale solution twice (``execute``); ``check_outputs_stable``
compares the check cells of the two runs, since nbval could not grade a check that
prints differently. ``without_timings`` is what a rebuild compares with the stored
solution to keep it when only durations changed.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

from .errors import BuildError, where
from .markers import cell_marker
from .transforms import header_length
from ..session import HEADLESS_ENV, environment


def execute(nb, cwd: Path, timeout: int, path: Path):
    """Return an executed copy of ``nb``, run headless with ``cwd`` as its folder."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = copy.deepcopy(nb)
    cwd.mkdir(parents=True, exist_ok=True)
    try:
        with environment(HEADLESS_ENV):  # inherited by the kernel
            NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                           resources={"metadata": {"path": str(cwd)}}).execute()
    except (CellExecutionError, CellTimeoutError) as err:
        text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", str(err))
        raise BuildError(f"{path.name}: the solution does not run through: {text[-1500:]}") from None
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code" and cell_marker(cell) is None:
            cell.outputs = [o for o in cell.outputs if not is_library_noise(o)]
    return nb


LIBRARY_NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
                           r"|[IWE]\d{4} [\d:.]+\s+\d+ \S+\.cc:\d+\] .*"
                           r"|\[IPKernelApp\] WARNING \| Kernel is running over TCP without encryption.*)$")


def is_library_noise(output) -> bool:
    """Return whether an output is only TensorFlow's C++ start-up log (stderr), which the
    ``tensorflow`` wheel prints whatever TF_CPP_MIN_LOG_LEVEL says and says nothing to a student."""
    if output.get("output_type") != "stream" or output.get("name") != "stderr":
        return False
    lines = [l for l in output.get("text", "").splitlines() if l.strip()]
    return bool(lines) and all(LIBRARY_NOISE.match(l) for l in lines)


def comparable(outputs) -> list:
    """Return outputs as nbval compares them (no execution counts or metadata)."""
    keep = []
    for out in outputs:
        out = {k: v for k, v in out.items() if k not in ("execution_count", "metadata", "transient")}
        if "data" in out:
            out["data"] = {k: v for k, v in out["data"].items() if k not in ("image/png", "image/jpeg")}
        keep.append(out)
    return keep


# A duration printed by a solution ("21.6 s", "1248 env steps/s"): it differs from run to run and
# machine to machine, so it is left out when a rebuild decides whether anything changed.
TIMING = re.compile(r"\d+(?:\.\d+)?(?=\s?(?:s|ms|seconds|min)\b)|\d+(?:\.\d+)?(?=\s(?:env\s)?steps/s\b)")


def without_timings(nb) -> list:
    """Return each cell's source and text outputs with every duration masked (pictures kept as they are)."""
    def text(out):
        out = {k: v for k, v in out.items() if k not in ("execution_count", "metadata", "transient")}
        if "text" in out:
            out["text"] = TIMING.sub("<t>", out["text"])
        if "text/plain" in out.get("data", {}):
            out["data"] = {**out["data"], "text/plain": TIMING.sub("<t>", out["data"]["text/plain"])}
        return out

    return [(c.cell_type, c.source, [text(o) for o in c.get("outputs", [])]) for c in nb.cells]


def check_outputs_stable(first, second, path: Path) -> None:
    """Raise ``BuildError`` when a check cell printed differently in two runs."""
    header = header_length()  # errors name the cell as it is in the source
    for i, (a, b) in enumerate(zip(first.cells[header:], second.cells[header:])):
        marker = cell_marker(a)
        if marker is not None and marker.kind == "check" and comparable(a.outputs) != comparable(b.outputs):
            raise BuildError(
                f"{where(path, i, a)}: the check printed differently in two runs of the solution, so "
                f"nbval could not grade it; print only fixed lines (no timings, seeds or scores).\n"
                f"run 1: {json.dumps(comparable(a.outputs))[:400]}\nrun 2: {json.dumps(comparable(b.outputs))[:400]}"
            )
