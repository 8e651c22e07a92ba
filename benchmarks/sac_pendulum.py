"""Issue 36, step 1: what soft actor-critic costs on Pendulum-v1 with Keras 3 on a CPU; prints a table.

    .venv/bin/python benchmarks/sac_pendulum.py --seeds 5 [--hidden 64 64] [--steps-per-call 16]
    .venv/bin/python benchmarks/sac_pendulum.py --costs      # what a gradient step and acting cost, by setting

A measurement, not course code: a compact SAC (Haarnoja et al., 2018, with the learned temperature of their second
paper; twin critics and the clipped double-Q target of Fujimoto et al., 2018) written the way the course's DQN is
(acting with a NumPy forward pass of the actor's weights; ``steps_per_call`` gradient steps of the actor, both
critics and the temperature in one XLA-compiled call; Polyak-averaged target critics). Each seed runs until its
deterministic policy (the tanh of the Gaussian's mean) scores a mean return of ``--threshold`` or more over 10
quick episodes, confirmed by 20 fresh ones, or until ``--max-steps``. It prints one row per seed (environment steps,
seconds, the confirmed mean) and the median, so the lesson's budgets (issue 36: 30/30 seeds >= -200 over 20 fresh
episodes, median <= 20,000 steps, <= 30 s per seed on 2 cores) can be judged before the lesson is written.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build_mlp(in_dim: int, out_dim: int, hidden) -> "keras.Model":
    import keras

    x = inputs = keras.Input((in_dim,))
    for units in hidden:
        x = keras.layers.Dense(units, activation="relu")(x)
    return keras.Model(inputs, keras.layers.Dense(out_dim)(x))


LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0


def numpy_action(weights, obs: np.ndarray, rng, greedy: bool) -> np.ndarray:
    """Actions in [-1, 1] for a batch of observations: tanh of a Gaussian sample (or of its mean)."""
    from course_utils.acting import mlp_forward

    out = mlp_forward(weights, obs)
    mean, log_std = np.split(out, 2, axis=1)
    if greedy:
        return np.tanh(mean)
    log_std = np.clip(log_std, LOG_STD_MIN, LOG_STD_MAX)
    return np.tanh(mean + np.exp(log_std) * rng.standard_normal(mean.shape))


class SAC:
    def __init__(self, obs_dim: int, act_dim: int, hidden, lr: float, gamma: float, tau: float, steps_per_call: int):
        import keras
        import tensorflow as tf

        self.actor = build_mlp(obs_dim, 2 * act_dim, hidden)
        self.q1, self.q2 = (build_mlp(obs_dim + act_dim, 1, hidden) for _ in range(2))
        self.t1, self.t2 = (build_mlp(obs_dim + act_dim, 1, hidden) for _ in range(2))
        self.t1.set_weights(self.q1.get_weights())
        self.t2.set_weights(self.q2.get_weights())
        self.log_alpha = tf.Variable(0.0)
        self.opt_actor, self.opt_critic, self.opt_alpha = (keras.optimizers.Adam(lr) for _ in range(3))
        critic_vars = self.q1.trainable_variables + self.q2.trainable_variables
        self.opt_critic.build(critic_vars)
        self.opt_actor.build(self.actor.trainable_variables)
        self.opt_alpha.build([self.log_alpha])
        target_entropy = -float(act_dim)
        actor, q1, q2, t1, t2, log_alpha = self.actor, self.q1, self.q2, self.t1, self.t2, self.log_alpha

        def sample(obs, noise):
            mean, log_std = tf.split(actor(obs), 2, axis=1)
            log_std = tf.clip_by_value(log_std, LOG_STD_MIN, LOG_STD_MAX)
            u = mean + tf.exp(log_std) * noise
            # log N(u; mean, std) minus log |d tanh(u) / du| = 2 (log 2 - u - softplus(-2u)), summed over the actions
            log_prob = tf.reduce_sum(-0.5 * noise ** 2 - log_std - 0.5 * math.log(2 * math.pi)
                                     - 2.0 * (math.log(2.0) - u - tf.nn.softplus(-2.0 * u)), axis=1)
            return tf.tanh(u), log_prob

        @tf.function(jit_compile=True)
        def train_many(obs, actions, rewards, next_obs, terminated, noise, next_noise):
            for i in tf.range(steps_per_call):
                alpha = tf.exp(log_alpha)
                next_a, next_logp = sample(next_obs[i], next_noise[i])
                sa_next = tf.concat([next_obs[i], next_a], axis=1)
                q_next = tf.minimum(t1(sa_next), t2(sa_next))[:, 0] - alpha * next_logp
                y = tf.stop_gradient(rewards[i] + gamma * (1.0 - terminated[i]) * q_next)
                sa = tf.concat([obs[i], actions[i]], axis=1)
                with tf.GradientTape() as tape:
                    critic_loss = tf.reduce_mean((q1(sa)[:, 0] - y) ** 2) + tf.reduce_mean((q2(sa)[:, 0] - y) ** 2)
                self.opt_critic.apply_gradients(zip(tape.gradient(critic_loss, critic_vars), critic_vars))
                with tf.GradientTape() as tape:
                    a, logp = sample(obs[i], noise[i])
                    sa_new = tf.concat([obs[i], a], axis=1)
                    actor_loss = tf.reduce_mean(alpha * logp - tf.minimum(q1(sa_new), q2(sa_new))[:, 0])
                grads = tape.gradient(actor_loss, actor.trainable_variables)
                self.opt_actor.apply_gradients(zip(grads, actor.trainable_variables))
                with tf.GradientTape() as tape:
                    alpha_loss = -tf.reduce_mean(log_alpha * tf.stop_gradient(logp + target_entropy))
                self.opt_alpha.apply_gradients([(tape.gradient(alpha_loss, log_alpha), log_alpha)])
                for target, online in ((t1, q1), (t2, q2)):
                    for tw, ow in zip(target.weights, online.weights):
                        tw.assign(tau * ow + (1.0 - tau) * tw)
            return critic_loss, tf.exp(log_alpha), -tf.reduce_mean(logp)

        self.train_many = train_many


def evaluate(weights, env_id: str, episodes: int, seed: int, action_scale: float) -> float:
    """Mean return of the deterministic policy over ``episodes`` episodes played side by side."""
    import gymnasium as gym

    envs = gym.make_vec(env_id, num_envs=episodes, vectorization_mode="sync")
    obs, _ = envs.reset(seed=seed)
    total, done = np.zeros(episodes), np.zeros(episodes, bool)
    while not done.all():
        obs, reward, terminated, truncated, _ = envs.step(action_scale * numpy_action(weights, obs, None, True))
        total += np.where(done, 0.0, reward)
        done |= terminated | truncated
    envs.close()
    return float(total.mean())


def run(seed: int, args) -> dict:
    import gymnasium as gym
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    env = gym.make(args.env_id)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    scale = float(env.action_space.high[0])
    agent = SAC(obs_dim, act_dim, args.hidden, args.lr, args.gamma, args.tau, args.steps_per_call)
    size = args.max_steps
    buf = {"obs": np.zeros((size, obs_dim), np.float32), "actions": np.zeros((size, act_dim), np.float32),
           "rewards": np.zeros(size, np.float32), "next_obs": np.zeros((size, obs_dim), np.float32),
           "terminated": np.zeros(size, np.float32)}
    weights = agent.actor.get_weights()
    obs, _ = env.reset(seed=seed)
    start, train_seconds, solved, confirmed = time.perf_counter(), 0.0, False, None
    k, b = args.steps_per_call, args.batch_size
    for step in range(1, args.max_steps + 1):
        if step <= args.learning_starts:
            action = rng.uniform(-1.0, 1.0, act_dim)
        else:
            action = numpy_action(weights, obs[None].astype(np.float32), rng, False)[0]
        next_obs, reward, terminated, truncated, _ = env.step(scale * action)
        i = step - 1
        buf["obs"][i], buf["actions"][i], buf["rewards"][i] = obs, action, reward
        buf["next_obs"][i], buf["terminated"][i] = next_obs, float(terminated)
        obs = env.reset()[0] if terminated or truncated else next_obs
        if step >= args.learning_starts and step % k == 0:
            t0 = time.perf_counter()
            rows = rng.integers(0, step, size=(k, b))
            agent.train_many(buf["obs"][rows], buf["actions"][rows], buf["rewards"][rows], buf["next_obs"][rows],
                             buf["terminated"][rows], rng.standard_normal((k, b, act_dim)).astype(np.float32),
                             rng.standard_normal((k, b, act_dim)).astype(np.float32))
            weights = agent.actor.get_weights()
            train_seconds += time.perf_counter() - t0
        if step % args.eval_every == 0 and evaluate(weights, args.env_id, 10, 10_000 + step, scale) >= args.threshold:
            confirmed = evaluate(weights, args.env_id, 20, 500_000 + seed, scale)
            if confirmed >= args.threshold:
                solved = True
                break
    return {"seed": seed, "solved": solved, "steps": step, "seconds": time.perf_counter() - start,
            "train_seconds": train_seconds, "confirmed": confirmed, "alpha": float(np.exp(agent.log_alpha.numpy()))}


def costs(hidden_sizes=((64, 64), (256, 256)), per_call=(1, 4, 16, 64), batch: int = 256) -> None:
    """Print what one gradient step (actor, twin critics, temperature, targets) costs, by network size and by how many
    run in one compiled call, and what acting costs with NumPy against calling the Keras model."""
    import keras

    from course_utils.acting import mlp_forward

    rng = np.random.default_rng(0)
    print("| hidden | gradient steps per call | first call (compile) | ms per gradient step after it |")
    print("| --- | --- | --- | --- |")
    for hidden in hidden_sizes:
        for k in per_call:
            agent = SAC(3, 1, hidden, 1e-3, 0.99, 0.005, k)
            args = [rng.standard_normal((k, batch, 3)).astype(np.float32), rng.uniform(-1, 1, (k, batch, 1)).astype(
                np.float32), rng.standard_normal((k, batch)).astype(np.float32), rng.standard_normal(
                (k, batch, 3)).astype(np.float32), np.zeros((k, batch), np.float32),
                rng.standard_normal((k, batch, 1)).astype(np.float32), rng.standard_normal((k, batch, 1)).astype(np.float32)]
            t0 = time.perf_counter()
            agent.train_many(*args)
            first = time.perf_counter() - t0
            calls = max(1, 512 // k)
            t0 = time.perf_counter()
            for _ in range(calls):
                agent.train_many(*args)
            per_step = (time.perf_counter() - t0) / (calls * k)
            print(f"| {'-'.join(map(str, hidden))} | {k} | {first:.1f} s | {1000 * per_step:.3f} |", flush=True)
    actor = build_mlp(3, 2, (64, 64))
    weights, obs = actor.get_weights(), rng.standard_normal((1, 3)).astype(np.float32)
    for name, act in [("NumPy forward of the weights", lambda: mlp_forward(weights, obs)),
                      ("keras model(obs)", lambda: actor(obs)), ("actor.get_weights()", actor.get_weights)]:
        act()
        t0 = time.perf_counter()
        for _ in range(200):
            act()
        print(f"{name}: {1000 * (time.perf_counter() - t0) / 200:.3f} ms per call")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--env-id", default="Pendulum-v1")
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 64])
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--tau", type=float, default=0.005)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps-per-call", type=int, default=16)
    parser.add_argument("--learning-starts", type=int, default=1000)
    parser.add_argument("--eval-every", type=int, default=1000)
    parser.add_argument("--threshold", type=float, default=-200.0)
    parser.add_argument("--max-steps", type=int, default=30_000)
    parser.add_argument("--costs", action="store_true", help="print the cost table instead of training")
    args = parser.parse_args(argv)
    if args.costs:
        costs()
        return 0

    print(f"SAC on {args.env_id}: hidden {args.hidden}, batch {args.batch_size}, lr {args.lr}, "
          f"{args.steps_per_call} gradient steps per compiled call, one per environment step")
    print("| seed | solved | env steps | seconds | of which training | confirmed mean (20 episodes) | alpha |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        r = run(seed, args)
        rows.append(r)
        print(f"| {r['seed']} | {r['solved']} | {r['steps']:,} | {r['seconds']:.1f} | {r['train_seconds']:.1f} | "
              f"{r['confirmed'] if r['confirmed'] is None else round(r['confirmed'], 1)} | {r['alpha']:.3f} |",
              flush=True)
    solved = [r for r in rows if r["solved"]]
    print(f"\n{len(solved)} of {len(rows)} solved; median {statistics.median(r['steps'] for r in rows):,.0f} env steps, "
          f"{statistics.median(r['seconds'] for r in rows):.1f} s; per gradient step "
          f"{1000 * sum(r['train_seconds'] for r in rows) / sum(r['steps'] - args.learning_starts for r in rows):.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
