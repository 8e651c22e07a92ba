"""`course bench`: the quick mode end to end (the smoke test the issue asks for) and its summary maths."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course_utils.instructor import bench

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_bench_measures_every_algorithm_with_the_lessons_code(tmp_path):
    out = tmp_path / "results"
    done = subprocess.run([sys.executable, "-m", "course_utils", "bench", "--quick", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((out / "bench.json").read_text())
    names = [row for algorithm in bench.algorithms() for row in algorithm.goals]
    assert [row["algorithm"] for row in report["summary"]] == names
    assert {r["algorithm"] for r in report["results"]} == set(names) and all(r["seed"] == 0 for r in report["results"])
    assert all(r["total_steps"] > 0 and r["total_seconds"] > 0 for r in report["results"])
    # The lessons' own runs reach their thresholds even in quick mode; only DQN is capped.
    solved = {r["algorithm"]: r["solved"] for r in report["results"]}
    assert solved["random search"] and solved["tabular Q (195)"] and solved["REINFORCE"] and solved["actor-critic"]
    assert solved["probes (lesson 10)"]
    assert all(r["total_steps"] <= 2_000 for r in report["results"] if "DQN" in r["algorithm"])
    assert report["machine"]["cpus"] >= 1 and report["machine"]["tensorflow"][0].isdigit()
    page = (out / "bench.md").read_text()
    assert "Made by `course bench --quick --out" in page and "| actor-critic | 1/1 |" in page
    assert (out / "bench.png").stat().st_size > 10_000
    assert "random search            seed 0: solved" in done.stdout
    assert "round 1:" not in done.stdout  # the lessons' own prints are kept out of the table
    reference = json.loads((out / "reference_curves.json").read_text())
    assert reference["bands"] == {}   # one seed makes no band
    assert "reference_curves.json" in done.stdout


def _result(name, seed, solved, steps, seconds, best=None):
    return bench.SeedResult(name, seed, solved, steps, seconds, steps + 100, seconds + 1, best)


def test_summary_takes_median_min_max_over_solved_seeds_only():
    results = [_result("a", 0, True, 1000, 2.0), _result("a", 1, True, 3000, 6.0), _result("a", 2, True, 2000, 4.0),
               _result("a", 3, False, 9000, 20.0, best=300.0), _result("b", 0, False, 500, 1.0, best=120.0)]
    rows = bench.summarize(results, ["a", "b"])
    assert rows[0]["solved"] == 3 and rows[0]["seeds"] == 4
    assert rows[0]["steps"] == {"median": 2000, "min": 1000, "max": 3000}
    assert rows[0]["seconds"] == {"median": 4.0, "min": 2.0, "max": 6.0}
    assert rows[1]["steps"] is None and rows[1]["best_median"] == 120.0
    page = bench.markdown(rows, {"a": "goal a"}, [{"notebook": "01_x.ipynb", "seconds": 9.0, "status": "ok"}],
                          {"cpus": 2}, "course bench --seeds 4")
    assert "| a | 3/4 (median best 300) | 2,000 (1,000–3,000) | 4.0 (2.0–6.0) |" in page
    assert "| b | 0/1 (median best 120) | — | — |" in page and "| **all** | **9** | |" in page


def test_each_lesson_row_calls_the_training_function_its_lesson_exports(monkeypatch):
    """The contract: a row calls a function of the seed in the lesson's exported module, not the notebook's text,
    and reports what that call returned."""
    from course_utils.lessons import lesson01, lesson03, lesson07, lesson08, lesson09
    from course_utils.training_log import TrainingLog

    calls = []

    def spy(name, result):
        def train(*args, **kwargs):
            calls.append((name, kwargs.get("seed"), kwargs.get("use_baseline", True)))
            return result
        return train

    log = TrainingLog()
    log.add(31.0, env_steps=31)
    log.solved = True
    monkeypatch.setattr(lesson01, "search", spy("lesson01.search", (None, [500.0], 77, [(77, 0, 500.0)])))
    monkeypatch.setattr(lesson03, "train", spy("lesson03.train", (None, [1.0], [(1, 500.0)], 77)))
    for module in (lesson07, lesson08, lesson09):
        monkeypatch.setattr(module, "train", spy(f"{module.__name__.rsplit('.', 1)[1]}.train", log))
    rows = [r for run in (bench._random_search, bench._tabular, bench._reinforce, bench._no_baseline,
                          bench._actor_critic, bench._ppo) for r in run(7, True)]
    assert calls == [("lesson01.search", 7, True), ("lesson03.train", 7, True), ("lesson03.train", 7, True),
                     ("lesson07.train", 7, True), ("lesson07.train", 7, False), ("lesson08.train", 7, True),
                     ("lesson09.train", 7, True)]
    assert [(r.seed, r.solved, r.steps) for r in rows] == [(7, True, 77)] * 3 + [(7, True, 31)] * 4


def test_the_sac_row_runs_lesson_11s_train_and_judges_the_kept_policy_on_fresh_episodes(monkeypatch):
    """The SAC row calls lesson 11's exported train (capped by --quick) and then plays the policy it kept: a passed
    stop test is not enough when the kept policy then averages below -200 on 100 fresh episodes."""
    from course_utils.lessons import lesson11
    from course_utils.training_log import TrainingLog

    calls = []

    def train(seed, settings):
        calls.append((seed, settings.max_steps))
        log = TrainingLog()
        log.add(-1200.0, env_steps=200)
        rng = np.random.default_rng(0)   # an untrained actor: it cannot hold the pendulum up
        log.weights = [rng.normal(size=(3, 8)).astype(np.float32), np.zeros(8, np.float32),
                       rng.normal(size=(8, 2)).astype(np.float32), np.zeros(2, np.float32)]
        log.history, log.env_steps, log.solved = [(1008, 1.0, 0.9, 0.5), (1024, 1.0, 0.8, 0.4)], 2_000, True
        return log

    monkeypatch.setattr(lesson11, "train", train)
    (row,) = bench._sac(7, True)
    assert calls == [(7, 2_000)]
    assert (row.algorithm, row.seed, row.steps, row.solved) == ("SAC", 7, 2_000, False) and row.best < -200
    assert row.curves["temperature_by_step"] == ([1008, 1024], [0.9, 0.8])


def test_a_row_with_a_window_of_its_own_is_smoothed_with_it():
    # SAC's Pendulum episodes are 200 steps: its lesson plots a 5-episode average, and its band is made alike
    results = []
    for seed in range(3):
        r = _result("SAC", seed, True, 10, 1.0)
        r.curves = bench._training_curves([0.0] * 4 + [10.0] * 6, list(range(200, 2001, 200)))
        results.append(r)
    band = bench.reference_bands(results, ["SAC"])["SAC"]["training_by_step"]
    assert band["window"] == 5 and band["median"][-1] == pytest.approx(10.0)   # a 20-episode window would give 6


def test_reference_bands_hold_the_middle_of_the_seeds_as_far_as_half_of_them_ran():
    def run(seed, returns):
        r = _result("a", seed, True, 10, 1.0)
        r.curves = bench._training_curves(returns, np.cumsum([10] * len(returns)).tolist())
        return r

    # 10 seeds of constant returns 0..9, seed k running 10 * (k + 1) episodes
    results = [run(k, [float(k)] * 10 * (k + 1)) for k in range(10)]
    band = bench.reference_bands(results, ["a"])["a"]["training_by_episode"]
    assert band["seeds"] == 10 and band["window"] == bench.REFERENCE_WINDOW
    assert band["x"][0] == 1 and band["x"][-1] == 50   # half of the seeds ran 50 episodes or more
    assert band["low"][0] == pytest.approx(0.9) and band["median"][0] == pytest.approx(4.5)
    assert band["high"][0] == pytest.approx(8.1)
    assert band["median"][-1] == pytest.approx(6.5)    # at episode 50 seeds 4-9 still run
    assert set(bench.reference_bands(results, ["a"])["a"]) == {"training_by_episode", "training_by_step"}
    assert bench.reference_bands(results[:1], ["a"]) == {}


def test_bench_refuses_bad_arguments(tmp_path):
    from course_utils.instructor.cli import main

    assert main(["bench", "--quick", "--update-reference", "--out", str(tmp_path)]) == 2
    assert main(["bench", "--seeds", "3", "--update-reference", "--out", str(tmp_path)]) == 2
    assert main(["bench", "--seeds", "0", "--out", str(tmp_path)]) == 2
    assert main(["bench", "--only", "nonesuch", "--out", str(tmp_path), "--root", str(ROOT)]) == 2


def test_the_squared_error_row_trains_lesson_04s_step_with_the_squared_error():
    import keras

    from course_utils.lessons import lesson04
    from course_utils.replay import Batch

    step = bench._dqn_pieces("squared error")["train_step"]
    keras.utils.set_random_seed(0)
    network = lesson04.build_q_network(4, 2)
    batch = Batch(np.ones((3, 4), np.float32), np.array([0, 1, 0]), np.array([10.0, -20.0, 30.0], np.float32),
                  np.zeros((3, 4), np.float32), np.ones(3, np.float32))  # terminated: the targets are the rewards
    q_taken = network(batch.obs).numpy()[[0, 1, 2], [0, 1, 0]]
    loss = step(network, keras.optimizers.SGD(0.0), batch, 0.99, None)
    np.testing.assert_allclose(float(loss), np.mean((batch.rewards - q_taken) ** 2), rtol=1e-5)
    huber = lesson04.dqn_train_step(network, keras.optimizers.SGD(0.0), batch, 0.99, None)
    assert float(huber) < float(loss) / 5  # errors of 10-30: Huber grows linearly, the square does not


def test_a_best_so_far_band_keeps_each_stopped_search_at_what_it_found():
    """Lesson 01's band: a search that stopped keeps its policy, so it counts at its last value after its end."""
    results = []
    for k in range(10):   # seed k scores 100 in its first round, at step 50, and 500 at step 100 * (k + 1)
        r = _result("s", k, True, 100 * (k + 1), 1.0)
        r.curves = {"best_fresh_by_step": ([50, 100 * (k + 1)], [100.0, 500.0])}
        results.append(r)
    band = bench.reference_bands(results, ["s"])["s"]["best_fresh_by_step"]
    assert band["window"] == 1 and band["x"][0] == 50
    assert band["x"][-1] == 900                    # nine seeds in ten have stopped here; they count as found
    assert band["median"][0] == band["high"][0] == 100
    assert band["median"][-1] == 500 and band["low"][-1] == pytest.approx(460)   # 9 seeds at 500, one at 100
    middle = band["x"].index(min(band["x"], key=lambda x: abs(x - 550)))
    assert band["median"][middle] == pytest.approx(300)                          # 5 found, 5 still at 100


def test_the_random_search_row_records_the_best_fresh_mean_so_far():
    result, = bench._random_search(0, quick=False)
    steps, best = result.curves["best_fresh_by_step"]
    assert steps == sorted(steps) and best == sorted(best) and best[-1] >= 475 and steps[-1] == result.steps
