"""``course bench``: how fast and how reliably each algorithm of the course learns.

Every algorithm is measured by **the training code its solution notebook runs**:

- random search, tabular Q-learning, REINFORCE, actor-critic and PPO call the lesson's
  training function of the seed (lesson 01's ``search``, lesson 02's, 06's, 07's and 09's
  ``train``), which ``course build`` exports from the lesson's cell tagged ``export``
  into ``course_utils.lessons.lessonNN``: that function and what it returns are the
  contract between a lesson and the bench;
- the DQN variants run lesson 03's ``train_dqn`` (exported the same way), the loop lessons
  03, 04 and 05 run, with the pieces of the lesson that teaches each variant (no target
  network is lesson 04's ``"none"`` run; "squared error" is lesson 03's step with the
  squared error that check 03.3 accepts in place of the Huber loss).

"Solved" is the lessons' own stop test, checked at the lesson's regular interval:
``cu.passes_with_margin`` at 475 for DQN, REINFORCE, actor-critic and PPO; a mean of at
least 475 over 100 fresh episodes for random search and tabular Q-learning (195 for
the first tabular row).
Steps and seconds are counted up to that test; evaluation episodes are not counted as
steps, their time is included in the seconds.
"""
from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import platform
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..plotting import REFERENCE_FILE   # the bands file the lessons' plots read
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
    best: float | None = None   # best greedy mean seen, where the lesson records it
    # the run's curves for reference_curves.json: name -> (x values, y values); not in bench.json
    curves: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def steps_per_second(self) -> float:
        return self.total_steps / self.total_seconds if self.total_seconds > 0 else float("nan")


@dataclass
class Algorithm:
    """One training run per seed; ``goals`` names the table rows it fills, in order, with their goals."""

    name: str
    run: Callable[[int, bool], list]   # (seed, quick) -> [SeedResult, one per row]
    goals: dict


# ---------------------------------------------------------------- lesson code
# Each lesson's training code is a function of the seed in a cell tagged ``export``, which
# ``course build`` copies into ``course_utils.lessons.lessonNN``: the bench calls that
# function (the contract), never the notebook's text or its globals.


def _quiet(fn, *args, **kwargs):
    """Call a lesson's training function with its prints swallowed (they would bury the table)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def _training_curves(returns, steps=None) -> dict:
    """A run's training returns against the episode number, and against env steps where the lesson logs them."""
    curves = {"training_by_episode": (list(range(1, len(returns) + 1)), [float(r) for r in returns])}
    if steps is not None:
        curves["training_by_step"] = ([int(s) for s in steps], [float(r) for r in returns])
    return curves


def _random_search(seed: int, quick: bool) -> list:
    from ..lessons import lesson01

    start = time.perf_counter()
    _, returns, steps, rounds = _quiet(lesson01.search, seed=seed)
    seconds = time.perf_counter() - start
    mean = float(np.mean(returns))
    at, _, fresh = zip(*rounds)
    curves = {"best_fresh_by_step": ([int(s) for s in at], np.maximum.accumulate(fresh).tolist())}
    return [SeedResult("random search", seed, mean >= lesson01.THRESHOLD, int(steps), seconds, int(steps), seconds, mean,
                       curves=curves)]


def _tabular(seed: int, quick: bool) -> list:
    from ..lessons import lesson02

    rows = []
    for name, stop_at in (("tabular Q (195)", 195), ("tabular Q (475)", lesson02.STOP_AT)):
        start = time.perf_counter()
        _, returns, history, steps = _quiet(lesson02.train, lesson02.BINS, seed=seed, stop_at=stop_at)
        seconds = time.perf_counter() - start
        best = max(m for _, m in history)
        rows.append(SeedResult(name, seed, best >= stop_at, int(steps), seconds, int(steps), seconds, best,
                               curves=_training_curves(returns)))
    return rows


def _training_log(name: str, train: Callable) -> Callable:
    """A row for a lesson whose ``train(seed=...)`` returns a ``cu.TrainingLog`` (lessons 06 and 07)."""
    def run(seed: int, quick: bool) -> list:
        start = time.perf_counter()
        log = _quiet(train, seed=seed)
        seconds = time.perf_counter() - start  # the whole call: the last episode's log time misses the stop test
        steps = log.steps[-1]
        return [SeedResult(name, seed, log.solved, steps, seconds, steps, seconds,
                           curves=_training_curves(log.returns, log.steps))]
    return run


def _reinforce(seed: int, quick: bool) -> list:
    from ..lessons import lesson06

    return _training_log("REINFORCE", lesson06.train)(seed, quick)


def _no_baseline(seed: int, quick: bool) -> list:
    from ..lessons import lesson06

    return _training_log("vanilla policy gradient (no baseline)",
                         functools.partial(lesson06.train, use_baseline=False))(seed, quick)


def _actor_critic(seed: int, quick: bool) -> list:
    from ..lessons import lesson07

    return _training_log("actor-critic", lesson07.train)(seed, quick)


def _ppo(seed: int, quick: bool) -> list:
    from ..lessons import lesson09

    return _training_log("PPO", lesson09.train)(seed, quick)


def _probes(seed: int, quick: bool) -> list:
    """Lesson 08's probe runs, as its notebook does them: the course's three agents on all five probes, and
    the eight suspects, simplest probe first. Solved when every correct agent passes every probe and every
    suspect fails first the probe that check 08.5 expects."""
    from .. import probes
    from ..checks.lesson08 import DIAGNOSIS
    from ..lessons import lesson08

    start, ok, steps = time.perf_counter(), True, 0
    for make in (probes.DQNProbeAgent, probes.ReinforceProbeAgent, probes.ActorCriticProbeAgent):
        for env_id in probes.PROBES:
            n = int(probes.gym.make(env_id).action_space.n)
            ok &= lesson08.passes(*lesson08.run_probe(make(n, seed=seed), env_id, lesson08.PROBE_STEPS, seed=seed))
            steps += lesson08.PROBE_STEPS
    for name, make in probes.suspects().items():
        tried = []
        ok &= lesson08.first_failure(make, seed=seed, report=tried.append) == DIAGNOSIS[name][0]
        steps += len(tried) * lesson08.PROBE_STEPS
    seconds = time.perf_counter() - start
    return [SeedResult("probes (lesson 08)", seed, bool(ok), steps, seconds, steps, seconds)]


def _loops_on_probes(seed: int, quick: bool) -> list:
    """Lessons 03, 06 and 07's own training loops (the ones that solve CartPole) on all five probes, as lesson 08
    runs them on two. Solved when every loop passes every probe (``lesson08.run_probe`` with no more training).
    ``--quick`` runs the context probe only."""
    from .. import probes
    from ..lessons import lesson08

    start, ok, steps = time.perf_counter(), True, 0
    for env_id in ["course/ProbeContext-v0"] if quick else probes.PROBES:
        for loop in _quiet(probes.course_loops, env_id, seed).values():
            ok &= lesson08.passes(*lesson08.run_probe(loop, env_id, 0, seed=seed))
            steps += loop.env_steps
    seconds = time.perf_counter() - start
    return [SeedResult("lessons' loops on probes", seed, bool(ok), steps, seconds, steps, seconds)]


# ---------------------------------------------------------------- DQN variants


def _with_squared_error(step: Callable) -> Callable:
    """Lesson 03's own ``dqn_train_step`` text, calling the squared-error loss where it calls ``dqn_loss``.

    This is what a student who wrote the squared error in exercise 03.3 trains with.
    """
    from ..variants import squared_error_loss, swap_globals

    return swap_globals(step, dqn_loss=squared_error_loss)


def _dqn_pieces(variant: str) -> dict:
    """The keyword arguments of ``lesson03.train_dqn`` that make ``variant``, from the lessons that teach them."""
    from ..lessons import lesson03, lesson04, lesson05

    return {
        "none": {"target_update": "none"},
        "hard": {"target_update": "hard", "hard": lesson04.hard_update},
        "soft": {"target_update": "soft", "soft": lesson04.soft_update},
        "double": {"train_step": lesson05.double_dqn_train_step},
        "dueling": {"network": lesson05.build_dueling_q_network},
        "squared error": {"train_step": _with_squared_error(lesson03.dqn_train_step)},
    }[variant]


def _dqn(name: str, variant: str, goal: str = "<= 12,000 steps, <= 10 s", max_steps: int | None = None) -> Algorithm:
    """A row run by lesson 03's ``train_dqn`` (the loop lessons 03-05 run), with ``variant``'s pieces.

    ``max_steps`` is the budget the lesson gives that variant, where it is not lesson 03's.
    """
    def run(seed: int, quick: bool) -> list:
        from ..lessons import lesson03

        budget = {} if max_steps is None else {"max_steps": max_steps}
        settings = lesson03.DQNSettings(max_steps=2_000, learning_starts=500) if quick else lesson03.DQNSettings(**budget)
        log = _quiet(lesson03.train_dqn, seed, settings, **_dqn_pieces(variant))
        best = max((m for _, m in log.evals), default=None)
        curves = _training_curves(log.returns, log.steps)
        if log.evals:
            curves["greedy_by_step"] = tuple(list(x) for x in zip(*log.evals))
        if log.solved:
            return [SeedResult(name, seed, True, log.solved_at, log.solved_seconds, log.env_steps, log.seconds, best,
                               curves=curves)]
        return [SeedResult(name, seed, False, log.env_steps, log.seconds, log.env_steps, log.seconds, best,
                           curves=curves)]
    return Algorithm(name, run, {name: goal})


def algorithms() -> list[Algorithm]:
    """The benchmark's runs, in course order, with the goals of the benchmark issue."""
    return [
        Algorithm("random search", _random_search, {"random search": "<= 2,000 steps, <= 5 s"}),
        Algorithm("tabular Q", _tabular, {"tabular Q (195)": "<= 25,000 steps, <= 2 s",
                                                "tabular Q (475)": "<= 100,000 steps, <= 10 s"}),
        _dqn("DQN, no target network", "none", goal="report it", max_steps=30_000),  # lesson 04's budget for it
        _dqn("DQN + hard target", "hard"),
        _dqn("DQN + soft target", "soft"),
        _dqn("DQN + hard target, squared error", "squared error"),
        _dqn("double DQN", "double"),
        _dqn("dueling DQN", "dueling"),
        Algorithm("REINFORCE", _reinforce, {"REINFORCE": "<= 100,000 steps, <= 10 s"}),
        Algorithm("vanilla policy gradient (no baseline)", _no_baseline,   # lesson 06's code, its baseline at zero
                  {"vanilla policy gradient (no baseline)": "report it"}),
        Algorithm("actor-critic", _actor_critic, {"actor-critic": "<= 100,000 steps, <= 15 s"}),
        Algorithm("PPO", _ppo, {"PPO": "<= 50,000 steps, <= 10 s"}),
        Algorithm("probes (lesson 08)", _probes,
                  {"probes (lesson 08)": "every seed: the course's agents pass all five probes, each suspect "
                                         "fails the expected probe first"}),
        Algorithm("lessons' loops on probes", _loops_on_probes,
                  {"lessons' loops on probes": "every seed: lessons 03, 06, 07 and 09's own loops pass all five probes"}),
    ]


# ---------------------------------------------------------------- notebooks, machine


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
REFERENCE_POINTS = 120      # points per band


def reference_bands(results: list[SeedResult], names: list[str]) -> dict:
    """For each row and curve, the 10th, 50th and 90th percentiles over the seeds at each x.

    A training curve is first smoothed seed by seed (moving average of ``REFERENCE_WINDOW``
    episodes), then read at ``REFERENCE_POINTS`` x values by holding each seed's last
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
            series = [(np.asarray(x, float), moving_average(y, REFERENCE_WINDOW) if smooth else np.asarray(y, float))
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
                "window": REFERENCE_WINDOW if smooth else 1}
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


def run(root: Path, out: Path, seeds: int = 5, quick: bool = False, only: list[str] | None = None,
        notebooks: bool = True, command: str = "course bench", update_reference: bool = False) -> dict:
    """Run the benchmark, print the table and write ``bench.md``, ``bench.json``, ``bench.png`` and
    ``reference_curves.json`` into ``out``; with ``update_reference``, the reference curves go into the
    package too (``course_utils/data/``), where the lessons' plots read them."""
    root, out = root.resolve(), out.resolve()
    if update_reference and (quick or seeds < 10):
        raise ValueError(f"course bench: --update-reference needs a full run of at least 10 seeds, not "
                         f"{'--quick' if quick else f'{seeds} seed(s)'}")
    everything = algorithms()
    chosen = [a for a in everything
              if not only or any(o.lower() in name.lower() for o in only for name in (a.name, *a.goals))]
    if not chosen:
        raise ValueError(f"course bench: --only {only} matches no algorithm; names: "
                         f"{', '.join(a.name for a in everything)}")
    out.mkdir(parents=True, exist_ok=True)
    goals = {row: goal for a in chosen for row, goal in a.goals.items()}
    results: list[SeedResult] = []
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch, environment({**HEADLESS_ENV, "MPLBACKEND": "Agg"}):
        os.chdir(scratch)  # the lessons' videos and logs land here, not in the course
        try:
            for algorithm in chosen:
                for seed in range(seeds):
                    for result in algorithm.run(seed, quick):
                        results.append(result)
                        _write_json(out / "bench.json", {"command": command, "partial": True,
                                                         "results": [_record(r) for r in results]})
                        state = "solved" if result.solved else "NOT solved"
                        print(f"  {result.algorithm:24} seed {seed}: {state} at {result.steps:7,} steps, "
                              f"{result.seconds:6.1f} s ({result.steps_per_second:,.0f} steps/s)", flush=True)
        finally:
            os.chdir(here)
    timed = None
    if notebooks and not quick:
        print("executing the solution notebooks ...", flush=True)
        timed = time_notebooks(sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb")))
    facts = machine_facts()
    rows = summarize(results, list(goals))
    page = markdown(rows, goals, timed, facts, command)
    (out / "bench.md").write_text(page)
    report = {"command": command, "seeds": seeds, "quick": quick, "machine": facts, "summary": rows,
              "results": [_record(r) for r in results], "notebooks": timed}
    _write_json(out / "bench.json", report)
    plot(results, list(goals), out / "bench.png")
    bands = reference_bands(results, list(goals))
    reference = {"about": "What healthy runs of the lessons' code look like: for each bench row and curve, the "
                          "10th, 50th and 90th percentiles over seeds (the bands behind the lessons' learning "
                          "curves). Written by course bench.",
                 "command": command, "made_by": {name: command for name in bands}, "machine": facts, "bands": bands}
    _write_json(out / REFERENCE_FILE, reference)
    written = [out / "bench.md", "bench.json", "bench.png", REFERENCE_FILE]
    if update_reference:
        package = Path(__file__).resolve().parents[1] / "data" / REFERENCE_FILE
        old = json.loads(package.read_text()) if package.exists() else {"bands": {}}
        old_bands = {k: v for k, v in old.get("bands", {}).items() if k not in bands}   # rows not run this time stay
        old_made_by = {k: old.get("made_by", {}).get(k, old.get("command")) for k in old_bands}
        merged = {"bands": {**old_bands, **bands}, "made_by": {**old_made_by, **reference["made_by"]}}
        if merged["bands"] == old.get("bands"):
            # rewriting would stale every lesson that draws a band (the file is a build input) for nothing
            print(f"the bands in {package} are unchanged; not rewritten")
        else:
            _write_json(package, {**reference, **merged})
            written.append(package)
    print(page)
    print("wrote " + ", ".join(map(str, written)))
    return report
