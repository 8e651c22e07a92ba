"""The probe environments, the probe agents, the diagnostics and the reference bands (lesson 10)."""
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import gymnasium as gym  # noqa: E402
from gymnasium.utils.env_checker import check_env  # noqa: E402

import course_utils as cu  # noqa: E402
from course_utils import variants  # noqa: E402
from course_utils.debugging import probes  # noqa: E402
from course_utils.lessons import lesson04, lesson07, lesson10  # noqa: E402


@pytest.mark.parametrize("env_id", list(probes.PROBES))
def test_every_probe_is_registered_typed_and_passes_check_env(env_id):
    assert "Probe" in env_id
    env = cu.make_env(env_id, seed=0)
    check_env(env.unwrapped, skip_render_check=True)
    assert env.observation_space == gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    obs, info = env.reset(seed=3)
    assert obs.dtype == np.float32 and obs.shape == (1,) and info == {}


def test_gymnasium_make_finds_the_probes_in_a_fresh_interpreter():
    code = ("import gymnasium as gym, course_utils.debugging.probes\n"
            "env = gym.make('course/ProbeDiscount-v0'); obs, _ = env.reset(seed=0)\n"
            "print(obs, env.step(0)[1:3], env.step(0)[1:3])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[-1.] (0.0, False) (1.0, True)"
    code = ("import course_utils.debugging.probes, course_utils as cu\n"
            "print(cu.make_env('course/ProbeContext-v0').action_space)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() \
        == "Discrete(2)"
    # a lesson's loop makes vectorised copies with gymnasium.make_vec; cu.evaluate does too
    code = ("import gymnasium as gym, numpy as np, course_utils as cu, course_utils.debugging.probes\n"
            "envs = gym.make_vec('course/ProbeContext-v0', num_envs=3); print(envs.reset(seed=0)[0].shape)\n"
            "print(cu.evaluate(lambda o: (o[:, 0] > 0).astype(int), 'course/ProbeContext-v0', 4).tolist())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["(3,", "1)", "[1.0,", "1.0,", "1.0,", "1.0]"]


def test_the_library_alone_registers_no_probe_and_loads_no_lesson():
    """The probes are the debugging kit's: importing the library's helpers leaves Gymnasium and the lessons alone."""
    code = ("import sys, gymnasium as gym, course_utils as cu\n"
            "cu.make_env('CartPole-v1'); cu.evaluate(lambda o: o[:, 0].astype(int) * 0, 'CartPole-v1', 2)\n"
            "print(any(k.startswith('course/') for k in gym.registry),"
            " sorted(m for m in sys.modules if m.startswith(('course_utils.lessons', 'course_utils.debugging'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False []"


def test_the_dynamics_are_exactly_the_tables():
    def play(env_id, action, seed):
        env = cu.make_env(env_id)
        obs, _ = env.reset(seed=seed)
        return float(obs[0]), env.step(action)[1:4]

    assert play("course/ProbeConstant-v0", 0, 0) == (1.0, (1.0, True, False))
    for seed in range(20):
        x, (reward, terminated, _) = play("course/ProbeObservation-v0", 0, seed)
        assert x in (-1.0, 1.0) and reward == x and terminated
        x, (reward, _, _) = play("course/ProbeContext-v0", 1, seed)
        assert reward == (1.0 if x > 0 else -1.0)
    assert play("course/ProbeAction-v0", 0, 0)[1][0] == -1.0 and play("course/ProbeAction-v0", 1, 0)[1][0] == 1.0
    xs = {play("course/ProbeObservation-v0", 0, seed)[0] for seed in range(20)}
    assert xs == {-1.0, 1.0}


def test_closed_forms():
    assert [(o.tolist(), q.tolist()) for o, q in probes.closed_form("course/ProbeDiscount-v0", 0.9)] == \
        [([-1.0], [0.9]), ([1.0], [1.0])]
    assert [q.tolist() for _, q in probes.closed_form("course/ProbeContext-v0")] == [[1.0, -1.0], [-1.0, 1.0]]
    with pytest.raises(ValueError, match="'CartPole-v1' is not a probe; the probes are course/ProbeConstant-v0"):
        probes.closed_form("CartPole-v1")


def test_the_course_agents_learn_the_closed_form_on_every_probe():
    for make in (probes.DQNProbeAgent, probes.ReinforceProbeAgent, probes.ActorCriticProbeAgent):
        for env_id in probes.PROBES:
            n = cu.make_env(env_id).action_space.n
            error, prob = lesson10.run_probe(make(n, seed=1), env_id, lesson10.PROBE_STEPS, seed=1)
            assert lesson10.passes(error, prob), (make.kind, env_id, error, prob)


def test_a_bug_moves_the_learned_value_where_theory_says():
    """No terminal mask on ProbeConstant: V = 1 + gamma V, so V = 1 / (1 - gamma) = 2 for gamma 0.5."""
    agent = probes.suspects()["dqn-3"](1, seed=0)
    lesson10.run_probe(agent, "course/ProbeConstant-v0", lesson10.PROBE_STEPS, seed=0)
    assert agent.value(np.array([1.0], np.float32)) == pytest.approx(2.0, abs=0.05)
    agent = probes.suspects()["actor-critic-1"](1, seed=0)   # no discount: V(first) = V(second) = 1, not 0.5
    error, _ = lesson10.run_probe(agent, "course/ProbeDiscount-v0", lesson10.PROBE_STEPS, seed=0)
    assert error == pytest.approx(0.5, abs=0.05)


def test_agents_keep_their_diagnostics():
    agent = probes.ActorCriticProbeAgent(2, seed=0)
    lesson10.run_probe(agent, "course/ProbeContext-v0", 200, seed=0)
    h = agent.history
    assert len(h["loss"]) == len(h["grad_norm"]) == len(h["entropy"]) == 50
    assert len(h["predicted"]) == len(h["obtained"]) == 5
    assert h["entropy"][0] == pytest.approx(np.log(2), abs=0.05)
    assert min(h["grad_norm"]) > 0 and len(set(h["grad_norm"])) > 1   # a norm of each update's gradient, not a stand-in
    axes = cu.plot_diagnostics({"a2c": h})
    assert [ax.get_title() for ax in axes] == ["predicted vs obtained", "loss", "gradient norm", "entropy"]
    assert set(cu.HEALTHY) == {"predicted vs obtained", "loss", "grad_norm", "entropy"}
    with pytest.raises(TypeError, match=r"pass \{name: agent.history\}"):
        cu.plot_diagnostics({"a2c": agent})


def test_swap_globals_runs_the_lesson_text_with_one_name_changed():
    from course_utils.lessons import lesson04

    step = variants.swap_globals(lesson04.dqn_train_step, dqn_loss=variants.squared_error_loss)
    assert step.__code__ is lesson04.dqn_train_step.__code__ and step.__globals__["dqn_loss"] is variants.squared_error_loss
    with pytest.raises(ValueError, match="dqn_train_step does not use td_target; it uses"):
        variants.swap_globals(lesson04.dqn_train_step, td_target=None)


def test_reference_bands_are_shipped_and_unknown_names_are_refused():
    band = cu.reference_band("DQN + hard target", "greedy_by_step")
    assert band["seeds"] >= 10 and len(band["x"]) == len(band["low"]) == len(band["median"]) == len(band["high"])
    assert all(lo <= med <= hi for lo, med, hi in zip(band["low"], band["median"], band["high"]))
    search = cu.reference_band("random search", "best_fresh_by_step")
    # every seed's best-so-far only rises, but seeds join the band as their first round ends: the median rises
    # from below the threshold to above it, not necessarily at every point
    assert search["seeds"] >= 10 and search["median"][0] < 475 <= search["median"][-1]
    assert all(lo <= med <= hi for lo, med, hi in zip(search["low"], search["median"], search["high"]))
    for name in ("tabular Q (475)", "DQN + hard target", "DQN, no target network", "DQN + soft target",
                 "double DQN", "dueling DQN", "REINFORCE", "actor-critic", "PPO", "SAC"):
        cu.reference_band(name, "training_by_episode")
    with pytest.raises(ValueError, match="no reference for 'TD3'; there are"):
        cu.reference_band("TD3")
    with pytest.raises(ValueError, match="'REINFORCE' has no 'greedy_by_step' curve"):
        cu.reference_band("REINFORCE", "greedy_by_step")


def test_the_lessons_own_training_loops_learn_every_probe():
    """Lessons 04, 07, 08 and 09's CartPole loops, given a probe's id, learn its closed form (what lesson 10 shows)."""
    for env_id in probes.PROBES:
        loops = probes.course_loops(env_id, seed=0)
        assert set(loops) == {"DQN", "REINFORCE", "actor-critic", "PPO"}
        for kind, loop in loops.items():
            error, prob = lesson10.run_probe(loop, env_id, 0, seed=0)
            assert lesson10.passes(error, prob), (kind, env_id, error, prob)
        for obs, q in probes.closed_form(env_id):
            np.testing.assert_allclose(loops["DQN"].q_values(obs)[0], q, atol=0.05)
    with pytest.raises(ValueError, match="'CartPole-v1' is not a probe"):
        probes.course_loops("CartPole-v1")


def test_a_loop_s_bug_shows_on_a_probe_too():
    """The same loops, broken: REINFORCE normalising each episode's returns (instead of lesson 07's learned
    baseline) learns nothing from one-step episodes, and lesson 04's loop with a target network never copied
    into bootstraps the discount probe from its first weights."""
    def normalising_episode(agent, env, gamma):
        observations, actions, rewards, done = [], [], [], False
        obs, _ = env.reset()
        while not done:
            action = agent.sample_action(obs)
            observations.append(obs)
            actions.append(action)
            obs, reward, terminated, truncated, _ = env.step(action)
            rewards.append(reward)
            done = terminated or truncated
        returns = lesson07.discounted_returns(rewards, gamma)
        agent.update(np.array(observations), np.array(actions), (returns - returns.mean()) / (returns.std() + 1e-8),
                     returns)

    for episode, learns in ((normalising_episode, False), (lesson07.reinforce_episode, True)):
        log = lesson07.train(seed=0, max_episodes=300, stop_when_solved=False, env_id="course/ProbeContext-v0",
                             gamma=probes.PROBE_GAMMA, episode=episode)
        loop = probes.TrainedLoop("REINFORCE", probes.PROBE_GAMMA, policy=log.weights)
        error, prob = lesson10.run_probe(loop, "course/ProbeContext-v0", 0)
        assert lesson10.passes(error, prob) == learns and (prob > 0.9 if learns else prob < 0.6), (episode, prob)

    settings = lesson04.DQNSettings(gamma=probes.PROBE_GAMMA, eval_every=2_000, **probes.LOOP_RUNS["DQN"])
    log = lesson04.train_dqn(0, settings, env_id="course/ProbeDiscount-v0", hard=lambda target, online: None)
    stale = probes.TrainedLoop("DQN", probes.PROBE_GAMMA, q=log.weights)
    error, _ = lesson10.run_probe(stale, "course/ProbeDiscount-v0", 0)
    assert error > 0.3 and stale.value([1.0]) == pytest.approx(1.0, abs=0.1)   # the second state is right


def test_a_trained_loop_reads_like_the_probe_agents_and_refuses_missing_weights():
    net = lesson04.build_q_network(1, 2, (4,))
    loop = probes.TrainedLoop("DQN", 0.5, q=net.get_weights())
    agent = probes.DQNProbeAgent(2, seed=0)
    assert loop.q_values([1.0]).shape == agent.q_values([1.0]).shape == (1, 2)
    assert loop.q_values([[1.0], [-1.0]]).shape == (2, 2)
    assert loop.action_probs([1.0]).sum() == 1 and loop.act([1.0]) in (0, 1) and loop.observe() is None
    with pytest.raises(ValueError, match=r"weights of a Q-network \(q=, DQN\) or of a policy"):
        probes.TrainedLoop("REINFORCE", 0.5)
