"""What ``course bench`` measured, written down: the per-seed result, the summary table, ``bench.md``,
``bench.json``, ``bench.png``, the reference bands behind the lessons' curves, the solution notebooks'
timings and the machine's facts. ``bench`` runs the algorithms and calls these.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..session import HEADLESS_ENV, environment


@dataclass
class SeedResult:
    """One algorithm, one seed."""

    algorithm: str
    seed: int
    solved: bool
    steps: int            # env steps to the passed test, or all steps of an unsolved run
    seconds: float        # wall seconds to the passed test, or of the whole run
    total_steps: int      # env steps the training loop took in all
    total_seconds: float
    best: float | None = None   # best greedy mean seen, where the lesson records it (SAC: the kept policy's mean
                                # over 100 fresh episodes after the stop test)
    # the run's curves for reference_curves.json: name -> (x values, y values); not in bench.json
    curves: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def steps_per_second(self) -> float:
        return self.total_steps / self.total_seconds if self.total_seconds > 0 else float("nan")


def time_notebooks(paths: list[Path], timeout: int = 1800) -> list[dict]:
    """Execute each notebook headless in a scratch folder; return its wall seconds and status."""
    import shutil

    import nbformat
    from nbclient import NotebookClient

    rows = []
    for path in paths:
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(shutil.copy(path, scratch))
            nb = nbformat.read(copy, as_version=4)
            client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                    resources={"metadata": {"path": scratch}})
            start = time.perf_counter()
            status = "ok"
            with environment(HEADLESS_ENV):
                try:
                    client.execute()
                except Exception as err:  # report it and go on to the next notebook
                    status = f"failed: {type(err).__name__}"
            rows.append({"notebook": path.name, "seconds": round(time.perf_counter() - start, 1), "status": status})
            print(f"  {path.name}: {rows[-1]['seconds']:.0f} s ({status})", flush=True)
    return rows


def machine_facts() -> dict:
    """CPU, Python and library versions, recorded with every result."""
    from importlib import metadata

    facts = {"cpus": os.cpu_count(), "machine": platform.machine(), "system": platform.platform(),
             "processor": platform.processor() or "unknown", "python": platform.python_version()}
    for dist in ("tensorflow", "keras", "gymnasium", "numpy"):
        try:
            facts[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            facts[dist] = "not installed"
    try:
        with open("/proc/cpuinfo") as f:
            facts["processor"] = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return facts


# ---------------------------------------------------------------- summary, output


def summarize(results: list[SeedResult], names: list[str]) -> list[dict]:
    """One row per algorithm: median/min/max steps and seconds of the solved seeds, seeds solved."""
    rows = []
    for name in names:
        mine = [r for r in results if r.algorithm == name]
        solved = [r for r in mine if r.solved]
        row = {"algorithm": name, "seeds": len(mine), "solved": len(solved),
               "steps_per_second": round(statistics.median(r.steps_per_second for r in mine)) if mine else None}
        for key in ("steps", "seconds"):
            values = [getattr(r, key) for r in solved]
            row[key] = ({"median": statistics.median(values), "min": min(values), "max": max(values)}
                        if values else None)
        best = [r.best for r in mine if r.best is not None]
        row["best_median"] = statistics.median(best) if best else None
        rows.append(row)
    return rows


def _span(stat: dict | None, fmt: str) -> str:
    if stat is None:
        return "—"
    return f"{stat['median']:{fmt}} ({stat['min']:{fmt}}–{stat['max']:{fmt}})"


def markdown(rows: list[dict], goals: dict, notebooks: list[dict] | None, facts: dict, command: str) -> str:
    """The results as a Markdown page."""
    lines = ["# Benchmark results", "", f"Made by `{command}`.", "",
             "Solved = greedy mean over 100 fresh episodes >= the threshold. Steps and seconds: median "
             "(min–max) over the seeds that solved. Steps/s: median over all seeds of the whole training "
             "loop, evaluations included.", "",
             "| algorithm | seeds solved | env steps to solve | seconds to solve | steps/s | goal |",
             "| --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        solved = f"{row['solved']}/{row['seeds']}"
        if row["best_median"] is not None and row["solved"] < row["seeds"]:
            solved += f" (median best {row['best_median']:.0f})"
        lines.append(f"| {row['algorithm']} | {solved} | {_span(row['steps'], ',.0f')} | "
                     f"{_span(row['seconds'], '.1f')} | {row['steps_per_second']:,} | {goals.get(row['algorithm'], '')} |")
    lines += ["", "## Solution notebooks, executed", ""]
    if notebooks:
        lines += ["| notebook | seconds | status |", "| --- | --- | --- |"]
        lines += [f"| {n['notebook']} | {n['seconds']:.0f} | {n['status']} |" for n in notebooks]
        lines.append(f"| **all** | **{sum(n['seconds'] for n in notebooks):.0f}** | |")
    else:
        lines.append("Not measured in this run (`--quick`, or `--no-notebooks`).")
    lines += ["", "## Machine", ""] + [f"- {k}: {v}" for k, v in facts.items()]
    return "\n".join(lines) + "\n"


def plot(results: list[SeedResult], names: list[str], path: Path) -> None:
    """Steps to solve per algorithm: every seed as a dot (a cross if unsolved), the median as a bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.5 * len(names) + 1.5))
    for y, name in enumerate(names):
        mine = [r for r in results if r.algorithm == name]
        solved = [r.steps for r in mine if r.solved]
        failed = [r.steps for r in mine if not r.solved]
        jitter = np.linspace(-0.15, 0.15, max(len(mine), 1))
        ax.scatter(solved, y + jitter[: len(solved)], color="tab:blue", s=18, zorder=3)
        ax.scatter(failed, y + jitter[len(solved):], color="tab:red", marker="x", s=24, zorder=3)
        if solved:
            ax.plot([statistics.median(solved)] * 2, [y - 0.3, y + 0.3], color="black", linewidth=2)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("environment steps to a greedy mean >= threshold over 100 episodes (log scale)")
    ax.set_title("Steps to solve: dots are seeds, bars medians, crosses unsolved (steps run)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _record(result: SeedResult) -> dict:
    record = asdict(result) | {"steps_per_second": result.steps_per_second}
    del record["curves"]
    return record


# ---------------------------------------------------------------- reference curves

REFERENCE_WINDOW = 20       # episodes in the moving average of a training curve, as the lessons plot them
# rows whose lesson plots another window: Pendulum's episodes are 200 steps, so 20 of them would span half a SAC run
REFERENCE_WINDOWS = {"SAC": 5}
REFERENCE_POINTS = 120      # points per band


def reference_bands(results: list[SeedResult], names: list[str]) -> dict:
    """For each row and curve, the 10th, 50th and 90th percentiles over the seeds at each x.

    A training curve is first smoothed seed by seed (moving average of ``REFERENCE_WINDOW``
    episodes, or the row's own in ``REFERENCE_WINDOWS``), then read at ``REFERENCE_POINTS`` x values by holding each seed's last
    value until its next point. A band goes as far as at least half of the seeds ran:
    beyond that the runs still going are the slow ones, and their percentiles would say
    little about a typical run.

    A best-so-far curve (its kind starts with ``best``, lesson 01's search) is different:
    a run that stopped keeps what it found, so each seed holds its last value after its
    end, and the band goes on until nine seeds in ten have stopped.
    """
    from ..plotting import moving_average

    bands = {}
    for name in names:
        mine = [r for r in results if r.algorithm == name and r.curves]
        kinds = sorted({kind for r in mine for kind in r.curves})
        for kind in kinds:
            runs = [r.curves[kind] for r in mine if kind in r.curves and len(r.curves[kind][0])]
            if len(runs) < 2:
                continue
            smooth, held = kind.startswith("training"), kind.startswith("best")
            window = REFERENCE_WINDOWS.get(name, REFERENCE_WINDOW)
            series = [(np.asarray(x, float), moving_average(y, window) if smooth else np.asarray(y, float))
                      for x, y in runs]
            ends = sorted(x[-1] for x, _ in series)
            reach = ends[int(0.9 * (len(ends) - 1))] if held else ends[(len(ends) - 1) // 2]
            start = min(x[0] for x, _ in series)
            grid = np.unique(np.linspace(start, reach, REFERENCE_POINTS).round())
            columns = []
            for x, y in series:
                idx = np.searchsorted(x, grid, side="right") - 1
                column = np.where((idx >= 0) & (held | (grid <= x[-1])), y[np.clip(idx, 0, None)], np.nan)
                columns.append(column)
            values = np.array(columns)
            enough = np.sum(~np.isnan(values), axis=0) >= max(2, (len(series) + 1) // 2)
            low, median, high = (np.nanpercentile(values[:, enough], q, axis=0) for q in (10, 50, 90))
            bands.setdefault(name, {})[kind] = {
                "x": grid[enough].tolist(), "low": low.round(1).tolist(), "median": median.round(1).tolist(),
                "high": high.round(1).tolist(), "seeds": len(series),
                "window": window if smooth else 1}
    return bands


def _write_json(path: Path, data: dict) -> None:
    """Write atomically; NumPy scalars become plain numbers (a run that stops keeps what it measured)."""
    def plain(value):
        if isinstance(value, np.generic):
            return value.item()
        raise TypeError(f"course bench: cannot write {type(value).__name__} to JSON")

    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1, default=plain) + "\n")
    tmp.replace(path)
