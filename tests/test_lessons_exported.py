"""The generated lesson modules (course_utils/lessons): every exported exercise passes
its own lesson's check, and later lessons and the bench run these very functions."""
import importlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(p.stem for p in (ROOT / "course_utils" / "lessons").glob("lesson[0-9][0-9].py"))


def exported_exercises():
    """Yield (lesson module name, exercise, check cell source) for every exported exercise."""
    for source in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(source.read_text())["cells"]
        exported = [m[1] for c in cells if "export" in c.get("metadata", {}).get("tags", [])
                    and (m := re.match(r"#\s*EXERCISE\s+(\d\d\.\d+)", "".join(c["source"])))]
        for cell in cells:
            m = re.match(r"#\s*CHECK\s+(\d\d\.\d+)", "".join(cell["source"]))
            if m and m[1] in exported:
                yield f"lesson{source.name[:2]}", m[1], "".join(cell["source"])


CASES = list(exported_exercises())


def test_lessons_export_their_pieces():
    assert MODULES == ["lesson01", "lesson02", "lesson03", "lesson04", "lesson05", "lesson06", "lesson07", "lesson08",
                       "lesson09", "lesson10", "lesson11"]
    # every exercise but the checks of a run's results (the learning checks, 10.4): they judge a run, not a piece
    assert [c[1] for c in CASES] == ["01.1", "01.2", "01.3", "02.1", "02.2", "02.3", "03.1", "03.2", "03.3", "04.1", "04.2", "04.3", "04.4",
                                     "04.5", "05.1", "06.1", "06.2", "07.1", "07.2", "07.3", "08.1", "08.2",
                                     "08.3", "09.1", "09.2", "09.3", "09.5", "10.1", "10.2", "10.3",
                                     "10.5", "11.1", "11.2", "11.3", "11.4"]


@pytest.mark.parametrize("module, exercise, check", CASES, ids=[c[1] for c in CASES])
def test_every_exported_exercise_passes_its_own_check(module, exercise, check, capsys):
    namespace = dict(vars(importlib.import_module(f"course_utils.lessons.{module}")))
    namespace["checks"] = importlib.import_module(f"course_utils.checks.{module}")
    if exercise == "10.5":   # the dict the lesson builds by running its exported first_failure on the eight suspects
        namespace["FIRST_FAILURE"] = {name: probe for name, (probe, _) in namespace["checks"].DIAGNOSIS.items()}
    exec(check, namespace)  # noqa: S102 - the course's own check cell
    assert f"Exercise {exercise}: passed" in capsys.readouterr().out


def test_one_dqn_loop_for_lessons_04_to_05_and_the_bench():
    import inspect

    from course_utils.instructor import bench
    from course_utils.lessons import lesson03, lesson04, lesson05, lesson06, lesson07

    defaults = inspect.signature(lesson04.train_dqn).parameters
    assert defaults["network"].default is lesson04.build_q_network
    assert defaults["train_step"].default is lesson04.dqn_train_step
    assert lesson04.epsilon_greedy is lesson03.epsilon_greedy and lesson06.dqn_loss is lesson04.dqn_loss
    assert lesson07.build_policy_network is lesson04.build_q_network
    assert bench._dqn_pieces("soft")["soft"] is lesson05.soft_update
    assert bench._dqn_pieces("double")["train_step"] is lesson06.double_dqn_train_step
    assert bench._dqn_pieces("dueling")["network"] is lesson06.build_dueling_q_network
    squared = bench._dqn_pieces("squared error")["train_step"]
    assert squared.__code__ is lesson04.dqn_train_step.__code__  # lesson 04's step, the student's other loss
    for name in ("05_target_network", "06_double_dueling_dqn"):
        text = (ROOT / "notebooks" / f"{name}.ipynb").read_text()
        assert "from course_utils.lessons.lesson04 import" in text and "def train_dqn" not in text


def test_the_registered_probes_are_lesson_10s_classes_and_the_bench_runs_its_runner():
    import gymnasium as gym

    from course_utils.debugging import probes
    from course_utils.instructor import bench
    from course_utils.lessons import lesson10

    for env_id, (name, _) in probes.PROBES.items():
        assert type(gym.make(env_id).unwrapped) is getattr(lesson10, name)
    ran, judged, diagnosed = [], [], []

    def run_probe(agent, env_id, steps, seed=0):
        ran.append((type(agent).__name__, env_id, steps, seed))
        return 0.0, 1.0

    def passes(error, prob):
        judged.append((error, prob))
        return True

    def first_failure(make, seed=0, report=print):
        diagnosed.append(seed)
        return None

    with pytest.MonkeyPatch.context() as mp:   # the bench's probe row runs lesson 10's runner, not its own
        for name, fake in (("run_probe", run_probe), ("passes", passes), ("first_failure", first_failure)):
            mp.setattr(lesson10, name, fake)
        bench._probes(3, True)
    agents = ("DQNProbeAgent", "ReinforceProbeAgent", "ActorCriticProbeAgent")
    assert ran == [(a, env_id, lesson10.PROBE_STEPS, 3) for a in agents for env_id in probes.PROBES]
    assert judged == [(0.0, 1.0)] * len(ran) and diagnosed == [3] * len(probes.suspects())


def test_lesson_09_trains_with_lesson_08s_rollout_and_its_own_pieces(monkeypatch):
    """PPO's loop runs lesson 08's rollout (the student's code there), this lesson's GAE and loss, and the update
    loop the student writes here: one round of train, with each piece wrapped to say it was called."""
    import inspect

    from course_utils.lessons import lesson08, lesson09

    assert inspect.signature(lesson09.train).parameters["update"].default is lesson09.ppo_update
    called = []

    def spy(module, name):
        real = getattr(module, name)

        def wrapped(*args, **kwargs):
            called.append(name)
            return real(*args, **kwargs)
        monkeypatch.setattr(module, name, wrapped)

    for module, name in ((lesson08, "collect_rollout"), (lesson09, "gae_advantages"), (lesson09, "ppo_losses"),
                         (lesson09, "ppo_update")):
        spy(module, name)
    one_round = lesson09.N_ENVS * lesson09.ROLLOUT_STEPS
    log = lesson09.train(0, one_round, update=lesson09.ppo_update)
    assert called[:3] == ["collect_rollout", "gae_advantages", "ppo_update"], called
    assert "ppo_losses" in called and log.steps and log.steps[-1] <= one_round
