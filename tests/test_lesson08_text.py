"""Lesson 08's prose: the run figures it quotes are the bench's (benchmarks/results/bench.json), and it talks
about RL, not the course's tooling."""
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "08_actor_critic.ipynb"
BENCH = ROOT / "benchmarks" / "results" / "bench.json"


def prose() -> str:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    return " ".join(" ".join("".join(c["source"]).split()) for c in cells if c["cell_type"] == "markdown")


@pytest.fixture(scope="module")
def bench():
    report = json.loads(BENCH.read_text())
    rows = {row["algorithm"]: row for row in report["summary"]}
    seeds = {}
    for result in report["results"]:
        seeds.setdefault(result["algorithm"], {})[result["seed"]] = result
    return rows, seeds


def _steps(x) -> str:
    return f"{round(x):,}"


def test_the_actor_critic_figures_are_the_bench_s(bench):
    rows, _ = bench
    ac, text = rows["actor-critic"], prose()
    assert ac["solved"] == ac["seeds"] == 30
    assert f"Over 30 seeds this loop passed the stop test every time, after a median of {_steps(ac['steps']['median'])} " \
           f"environment steps ({_steps(ac['steps']['min'])} to {_steps(ac['steps']['max'])}, of a budget of 400,000)" in text
    assert f"it needed a median of {_steps(ac['steps']['median'])} environment steps to pass the stop test" in text


def test_the_budget_quoted_is_the_loop_s():
    from course_utils.lessons import lesson08

    assert lesson08.MAX_ENV_STEPS == 400_000 and "of a budget of 400,000" in prose()


def test_the_comparison_with_reinforce_is_the_bench_s(bench):
    rows, seeds = bench
    rf, text = rows["REINFORCE"], prose()
    # steps only: the two rows' seconds were measured in different runs, under different loads
    assert f"REINFORCE with its learned baseline {_steps(rf['steps']['median'])} steps" in text
    ac, rf_seeds = seeds["actor-critic"], seeds["REINFORCE"]
    fewer = sum(ac[s]["steps"] < rf_seeds[s]["steps"] for s in ac)
    assert rows["actor-critic"]["steps"]["median"] > rf["steps"]["median"] and "actor-critic is the slower" in text
    assert f"actor-critic took fewer steps on only {fewer} of the 30 seeds" in text


def test_gae_weights_sum_to_one():
    text = prose()
    assert r"$(1-\lambda)\lambda^{n-1}$, which sum to one" in text
    lam = 0.9
    assert np.isclose(sum((1 - lam) * lam ** (n - 1) for n in range(1, 2000)), 1.0)


@pytest.mark.parametrize("tooling", ["course bench", "course build", "export", "benchmarks/", "bench.json",
                                     "collapsed on one seed"])
def test_no_tooling_talk(tooling):
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    text = prose() + " ".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert tooling not in text
