"""``course bench``: how fast and how reliably each algorithm of the course learns.

Every algorithm is measured by **the training code its solution notebook runs**:

- random search, tabular Q-learning, REINFORCE, actor-critic, PPO and SAC call the lesson's
  training function of the seed (lesson 01's ``search``, lesson 03's, 07's, 08's, 09's and 11's
  ``train``), which ``course build`` exports from the lesson's cell tagged ``export``
  into ``course_utils.lessons.lessonNN``: that function and what it returns are the
  contract between a lesson and the bench;
- the DQN variants run lesson 04's ``train_dqn`` (exported the same way), the loop lessons
  04, 05 and 06 run, with the pieces of the lesson that teaches each variant (no target
  network is lesson 05's ``"none"`` run; "squared error" is lesson 04's step with the
  squared error that check 04.3 accepts in place of the Huber loss).

"Solved" is the lessons' own stop test, checked at the lesson's regular interval:
``cu.passes_with_margin`` at 475 for DQN, REINFORCE, actor-critic and PPO, at -200 for SAC on
Pendulum-v1 (the policy's mean action); a mean of at
least 475 over 100 fresh episodes for random search and tabular Q-learning (195 for
the first tabular row).
Steps and seconds are counted up to that test; evaluation episodes are not counted as
steps, their time is included in the seconds. What was measured is written down by
``bench_report`` (the table, ``bench.md``, ``bench.json``, the plot and the reference bands).
"""
from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..plotting import REFERENCE_FILE   # the bands file the lessons' plots read
from ..session import HEADLESS_ENV, environment
from .bench_report import (REFERENCE_WINDOW, SeedResult, _record, _write_json,  # noqa: F401
                           machine_facts, markdown, plot, reference_bands, summarize, time_notebooks)


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
    from ..lessons import lesson03

    rows = []
    for name, stop_at in (("tabular Q (195)", 195), ("tabular Q (475)", lesson03.STOP_AT)):
        start = time.perf_counter()
        _, returns, history, steps = _quiet(lesson03.train, lesson03.BINS, seed=seed, stop_at=stop_at)
        seconds = time.perf_counter() - start
        best = max(m for _, m in history)
        rows.append(SeedResult(name, seed, best >= stop_at, int(steps), seconds, int(steps), seconds, best,
                               curves=_training_curves(returns)))
    return rows


def _training_log(name: str, train: Callable) -> Callable:
    """A row for a lesson whose ``train(seed=...)`` returns a ``cu.TrainingLog`` (lessons 07 and 08)."""
    def run(seed: int, quick: bool) -> list:
        start = time.perf_counter()
        log = _quiet(train, seed=seed)
        seconds = time.perf_counter() - start  # the whole call: the last episode's log time misses the stop test
        steps = log.steps[-1]
        return [SeedResult(name, seed, log.solved, steps, seconds, steps, seconds,
                           curves=_training_curves(log.returns, log.steps))]
    return run


def _reinforce(seed: int, quick: bool) -> list:
    from ..lessons import lesson07

    return _training_log("REINFORCE", lesson07.train)(seed, quick)


def _no_baseline(seed: int, quick: bool) -> list:
    from ..lessons import lesson07

    return _training_log("vanilla policy gradient (no baseline)",
                         functools.partial(lesson07.train, use_baseline=False))(seed, quick)


def _actor_critic(seed: int, quick: bool) -> list:
    from ..lessons import lesson08

    return _training_log("actor-critic", lesson08.train)(seed, quick)


def _ppo(seed: int, quick: bool) -> list:
    from ..lessons import lesson09

    return _training_log("PPO", lesson09.train)(seed, quick)


def _sac(seed: int, quick: bool) -> list:
    """Lesson 11's ``train`` on Pendulum-v1; ``--quick`` caps it at 2,000 environment steps."""
    from ..lessons import lesson11

    settings = lesson11.SACSettings(max_steps=2_000) if quick else lesson11.SACSettings()
    start = time.perf_counter()
    log = _quiet(lesson11.train, seed, settings)
    seconds = time.perf_counter() - start
    from ..evaluation import evaluate
    from ..sac import deterministic_policy

    import gymnasium as gym

    space = gym.make("Pendulum-v1").action_space
    # as every row: the kept policy (its mean action) on 100 fresh episodes, after the stop test and not timed
    fresh = float(evaluate(deterministic_policy(log.weights, space.low, space.high), "Pendulum-v1", 100,
                           seed=500_000 + 1_000 * seed).mean())   # disjoint sets of starts
    alphas = [(int(step), float(alpha)) for step, _, alpha, _ in log.history]
    curves = _training_curves(log.returns, log.steps)
    if alphas:
        curves["temperature_by_step"] = tuple(list(x) for x in zip(*alphas))
    return [SeedResult("SAC", seed, log.solved and fresh >= -200.0, log.env_steps, seconds, log.env_steps, seconds,
                       fresh, curves=curves)]


def _probes(seed: int, quick: bool) -> list:
    """Lesson 10's probe runs, as its notebook does them: the course's three agents on all five probes, and
    the eight suspects, simplest probe first. Solved when every correct agent passes every probe and every
    suspect fails first the probe that check 10.5 expects."""
    from ..debugging import probes
    from ..checks.lesson10 import DIAGNOSIS
    from ..lessons import lesson10

    start, ok, steps = time.perf_counter(), True, 0
    for make in (probes.DQNProbeAgent, probes.ReinforceProbeAgent, probes.ActorCriticProbeAgent):
        for env_id in probes.PROBES:
            n = int(probes.gym.make(env_id).action_space.n)
            ok &= lesson10.passes(*lesson10.run_probe(make(n, seed=seed), env_id, lesson10.PROBE_STEPS, seed=seed))
            steps += lesson10.PROBE_STEPS
    for name, make in probes.suspects().items():
        tried = []
        ok &= lesson10.first_failure(make, seed=seed, report=tried.append) == DIAGNOSIS[name][0]
        steps += len(tried) * lesson10.PROBE_STEPS
    seconds = time.perf_counter() - start
    return [SeedResult("probes (lesson 10)", seed, bool(ok), steps, seconds, steps, seconds)]


def _loops_on_probes(seed: int, quick: bool) -> list:
    """Lessons 04, 07 and 08's own training loops (the ones that solve CartPole) on all five probes, as lesson 10
    runs them on two. Solved when every loop passes every probe (``lesson10.run_probe`` with no more training).
    ``--quick`` runs the context probe only."""
    from ..debugging import probes
    from ..lessons import lesson10

    start, ok, steps = time.perf_counter(), True, 0
    for env_id in ["course/ProbeContext-v0"] if quick else probes.PROBES:
        for loop in _quiet(probes.course_loops, env_id, seed).values():
            ok &= lesson10.passes(*lesson10.run_probe(loop, env_id, 0, seed=seed))
            steps += loop.env_steps
    seconds = time.perf_counter() - start
    return [SeedResult("lessons' loops on probes", seed, bool(ok), steps, seconds, steps, seconds)]


# ---------------------------------------------------------------- DQN variants


def _with_squared_error(step: Callable) -> Callable:
    """Lesson 04's own ``dqn_train_step`` text, calling the squared-error loss where it calls ``dqn_loss``.

    This is what a student who wrote the squared error in exercise 04.3 trains with.
    """
    from ..variants import squared_error_loss, swap_globals

    return swap_globals(step, dqn_loss=squared_error_loss)


def _dqn_pieces(variant: str) -> dict:
    """The keyword arguments of ``lesson04.train_dqn`` that make ``variant``, from the lessons that teach them."""
    from ..lessons import lesson04, lesson05, lesson06

    return {
        "none": {"target_update": "none"},
        "hard": {"target_update": "hard", "hard": lesson05.hard_update},
        "soft": {"target_update": "soft", "soft": lesson05.soft_update},
        "double": {"train_step": lesson06.double_dqn_train_step},
        "dueling": {"network": lesson06.build_dueling_q_network},
        "squared error": {"train_step": _with_squared_error(lesson04.dqn_train_step)},
    }[variant]


def _dqn(name: str, variant: str, goal: str = "<= 12,000 steps, <= 10 s", max_steps: int | None = None) -> Algorithm:
    """A row run by lesson 04's ``train_dqn`` (the loop lessons 04-06 run), with ``variant``'s pieces.

    ``max_steps`` is the budget the lesson gives that variant, where it is not lesson 04's.
    """
    def run(seed: int, quick: bool) -> list:
        from ..lessons import lesson04

        budget = {} if max_steps is None else {"max_steps": max_steps}
        settings = lesson04.DQNSettings(max_steps=2_000, learning_starts=500) if quick else lesson04.DQNSettings(**budget)
        log = _quiet(lesson04.train_dqn, seed, settings, **_dqn_pieces(variant))
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
        _dqn("DQN, no target network", "none", goal="report it", max_steps=30_000),  # lesson 05's budget for it
        _dqn("DQN + hard target", "hard"),
        _dqn("DQN + soft target", "soft"),
        _dqn("DQN + hard target, squared error", "squared error"),
        _dqn("double DQN", "double"),
        _dqn("dueling DQN", "dueling"),
        Algorithm("REINFORCE", _reinforce, {"REINFORCE": "<= 100,000 steps, <= 10 s"}),
        Algorithm("vanilla policy gradient (no baseline)", _no_baseline,   # lesson 07's code, its baseline at zero
                  {"vanilla policy gradient (no baseline)": "report it"}),
        Algorithm("actor-critic", _actor_critic, {"actor-critic": "<= 100,000 steps, <= 15 s"}),
        Algorithm("PPO", _ppo, {"PPO": "<= 50,000 steps, <= 10 s"}),
        Algorithm("SAC", _sac, {"SAC": "Pendulum-v1, mean action >= -200: <= 20,000 steps, <= 30 s"}),
        Algorithm("probes (lesson 10)", _probes,
                  {"probes (lesson 10)": "every seed: the course's agents pass all five probes, each suspect "
                                         "fails the expected probe first"}),
        Algorithm("lessons' loops on probes", _loops_on_probes,
                  {"lessons' loops on probes": "every seed: lessons 04, 07, 08 and 09's own loops pass all five probes"}),
    ]


# ---------------------------------------------------------------- notebooks, machine


def _chosen(only: list[str] | None) -> list[Algorithm]:
    """Return the algorithms ``--only`` names (a row's or an algorithm's name, any part, any case), or all."""
    everything = algorithms()
    chosen = [a for a in everything
              if not only or any(o.lower() in name.lower() for o in only for name in (a.name, *a.goals))]
    if not chosen:
        raise ValueError(f"course bench: --only {only} matches no algorithm; names: "
                         f"{', '.join(a.name for a in everything)}")
    return chosen


def _train_all(chosen: list[Algorithm], seeds: int, quick: bool, out: Path, command: str) -> list[SeedResult]:
    """Run every chosen algorithm on every seed in a scratch folder, saving bench.json after each result."""
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
    return results


def _write_reference(out: Path, results: list[SeedResult], names: list[str], facts: dict, command: str,
                     update_reference: bool) -> list:
    """Write the run's reference bands into ``out`` and, with ``update_reference``, into the package's file
    (rows not run this time kept); return the paths written."""
    bands = reference_bands(results, names)
    reference = {"about": "What healthy runs of the lessons' code look like: for each bench row and curve, the "
                          "10th, 50th and 90th percentiles over seeds (the bands behind the lessons' learning "
                          "curves). Written by course bench.",
                 "command": command, "made_by": {name: command for name in bands}, "machine": facts, "bands": bands}
    _write_json(out / REFERENCE_FILE, reference)
    written = [REFERENCE_FILE]
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
    return written


def run(root: Path, out: Path, seeds: int = 5, quick: bool = False, only: list[str] | None = None,
        notebooks: bool = True, command: str = "course bench", update_reference: bool = False) -> dict:
    """Run the benchmark, print the table and write ``bench.md``, ``bench.json``, ``bench.png`` and
    ``reference_curves.json`` into ``out``; with ``update_reference``, the reference curves go into the
    package too (``course_utils/data/``), where the lessons' plots read them."""
    root, out = root.resolve(), out.resolve()
    if update_reference and (quick or seeds < 10):
        raise ValueError(f"course bench: --update-reference needs a full run of at least 10 seeds, not "
                         f"{'--quick' if quick else f'{seeds} seed(s)'}")
    chosen = _chosen(only)
    out.mkdir(parents=True, exist_ok=True)
    goals = {row: goal for a in chosen for row, goal in a.goals.items()}
    results = _train_all(chosen, seeds, quick, out, command)
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
    written = [out / "bench.md", "bench.json", "bench.png",
               *_write_reference(out, results, list(goals), facts, command, update_reference)]
    print(page)
    print("wrote " + ", ".join(map(str, written)))
    return report
