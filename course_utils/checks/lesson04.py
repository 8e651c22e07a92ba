"""Checks of lesson 04: the Q-network, TD targets, the DQN loss and training step, one step of the loop."""
from __future__ import annotations

import numpy as np

from . import describe, fail, guarded, mean_return_reaches, must_be_tensor, passed, same_actions_again
from ._loop import (LoopEnv, run_loop, same as _same, stored_around_the_step_right, terminated_right,
                    trained_when_due)


def _dense_layers(model):
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


@guarded("04.1", "keras.Input((obs_dim,)), one Dense(units, activation='relu') per entry of hidden_units, a linear Dense(n_actions), then keras.Model(inputs, outputs)")
def check_build_q_network(build_q_network) -> None:
    """Check ``build_q_network(obs_dim, n_actions, hidden_units=(64, 64)) -> keras.Model``."""
    import keras

    cases = [(4, 2, (64, 64)), (6, 3, (32,)), (2, 5, (16, 8, 4))]
    for obs_dim, n_actions, hidden in cases:
        model = build_q_network(obs_dim, n_actions, hidden_units=hidden)
        if not isinstance(model, keras.Model):
            fail("04.1", f"returned {type(model).__name__}", "return a keras.Model (Sequential or functional)")
        out = model(np.zeros((3, obs_dim), np.float32))
        if tuple(out.shape) != (3, n_actions):
            fail("04.1", f"for obs_dim={obs_dim}, n_actions={n_actions} the output has shape {tuple(out.shape)}",
                 f"the input has obs_dim features; the last Dense layer has n_actions units: expected (3, {n_actions})")
        dense = _dense_layers(model)
        if [layer.units for layer in dense] != [*hidden, n_actions]:
            fail("04.1", f"Dense layer sizes {[layer.units for layer in dense]}, expected {[*hidden, n_actions]}",
                 "one Dense layer per entry of hidden_units, then the output layer")
        _behaves_like_dense_relu(model, dense, obs_dim)
        trainable = {id(v) for v in model.trainable_variables}
        frozen = [layer.name for layer in dense if not all(id(v) in trainable for v in (layer.kernel, layer.bias))]
        if frozen:
            fail("04.1", f"the layer(s) {frozen} are not trainable: a gradient step would leave them as they are",
                 "leave every layer trainable (no trainable=False, no model.trainable = False)")
    default = build_q_network(4, 2)
    if [layer.units for layer in _dense_layers(default)] != [64, 64, 2]:
        fail("04.1", "the default hidden_units is not (64, 64)", "keep the signature's default hidden_units=(64, 64)")
    passed("04.1", len(cases) + 1)


def _behaves_like_dense_relu(model, dense, obs_dim) -> None:
    """Compare the model's output with a NumPy pass through its Dense weights: ReLU hidden, linear output.

    Judged by what the network computes, not by how its layers are spelled: a
    ``keras.layers.ReLU()`` layer after a linear Dense is as right as ``activation="relu"``.
    """
    from ..acting import mlp_forward

    x = np.random.default_rng(obs_dim).normal(0, 3, size=(64, obs_dim)).astype(np.float32)
    weights = [w for layer in dense for w in (np.asarray(layer.kernel), np.asarray(layer.bias))]
    got = np.asarray(model(x), dtype=float)
    if np.allclose(got, mlp_forward(weights, x), rtol=1e-4, atol=1e-4):
        return
    linear = x
    for i in range(0, len(weights), 2):
        linear = linear @ weights[i] + weights[i + 1]
    right = mlp_forward(weights, x)
    if np.allclose(got.sum(axis=1), 1.0, atol=1e-4):
        fail("04.1", "each row of outputs sums to 1: the output layer is a softmax",
             "Q-values are returns, not probabilities: no activation on the output layer")
    if np.allclose(got, np.maximum(right, 0), atol=1e-4) or (got >= 0).all() and (right < 0).any():
        fail("04.1", "the network's outputs are never negative: the output layer is squashed (a ReLU)",
             "Q-values are returns, which can be negative or large: no activation on the output layer")
    if np.allclose(got, linear, rtol=1e-4, atol=1e-4):
        fail("04.1", "the network is linear: the hidden layers have no activation",
             "use activation='relu' on every hidden layer")
    fail("04.1", "the outputs differ from Dense layers with ReLU on the hidden ones and a linear output",
         "use activation='relu' on every hidden layer and none on the output layer (tanh or sigmoid are not ReLU)")


def reference_td_targets(rewards, next_q_values, terminated, gamma):
    return rewards + gamma * (1.0 - terminated) * np.max(next_q_values, axis=1)


@guarded("04.2", "use TensorFlow ops on the whole batch: rewards + gamma * (1 - terminated) * tf.reduce_max(next_q_values, axis=1), one target per transition")
def check_td_targets(td_targets) -> None:
    """Check ``td_targets(rewards, next_q_values, terminated, gamma)``."""
    rng = np.random.default_rng(3)
    for gamma, n_actions in [(0.99, 2), (0.9, 3), (0.0, 2), (1.0, 4)]:
        r = rng.normal(1, 1, 16).astype(np.float32)
        nq = rng.normal(5, 3, (16, n_actions)).astype(np.float32)
        term = (rng.random(16) < 0.4).astype(np.float32)
        got = np.asarray(td_targets(r, nq, term, gamma), dtype=float)
        want = reference_td_targets(r, nq, term, gamma)
        if got.shape != (16,):
            fail("04.2", f"returned shape {got.shape} for a batch of 16", "return one target per transition: shape (batch,)")
        if np.allclose(got, want, atol=1e-5):
            continue
        if np.allclose(got, r + gamma * nq.max(axis=1), atol=1e-5):
            fail("04.2", "terminated transitions still add gamma * max Q(s', a')",
                 "you bootstrapped from a terminal state: multiply by (1 - terminated)")
        if np.allclose(got, r + gamma * (1 - term) * nq.mean(axis=1), atol=1e-5):
            fail("04.2", "the target averages the next Q-values", "take the max over the next actions")
        if np.allclose(got, r + (1 - term) * nq.max(axis=1), atol=1e-5):
            fail("04.2", "the next value is not discounted", "multiply max Q(s', a') by gamma")
        i = int(np.argmax(np.abs(got - want)))
        fail("04.2", f"with gamma={gamma}, one transition of the batch: reward {r[i]:.3f}, next Q-values "
             f"[{', '.join(f'{float(q):.3f}' for q in nq[i])}], terminated {term[i]:.0f}: your target {got[i]:.3f}, expected "
             f"{want[i]:.3f} (= reward + gamma * (1 - terminated) * max of the next Q-values)",
             "compute it element-wise for the batch, one target per transition")
    _inside_tf_function(td_targets, r, nq, term, gamma)
    passed("04.2", 5)


def _inside_tf_function(td_targets, r, nq, term, gamma) -> None:
    """The training step runs td_targets on symbolic tensors inside tf.function: it must work there too."""
    import tensorflow as tf

    try:
        got = tf.function(lambda a, b, c: td_targets(a, b, c, gamma))(tf.constant(r), tf.constant(nq), tf.constant(term))
    except Exception as err:  # noqa: BLE001 - NumPy calls and Python loops fail on symbolic tensors
        what = f"td_targets fails inside tf.function, where the training step calls it: it {describe(err)}"
    else:
        what = None
    if what:
        fail("04.2", what,
             "use TensorFlow operations (tf.reduce_max, arithmetic on tensors), not NumPy functions, .numpy() "
             "or Python loops over the batch")
    if not np.allclose(np.asarray(got), reference_td_targets(r, nq, term, gamma), atol=1e-5):
        fail("04.2", "inside tf.function td_targets gave other values", "use TensorFlow operations only")


def _batch(rng, n=32, obs_dim=4, n_actions=2):
    from ..replay import Batch

    return Batch(rng.normal(size=(n, obs_dim)).astype(np.float32), rng.integers(n_actions, size=n),
                 rng.normal(1, 1, n).astype(np.float32), rng.normal(size=(n, obs_dim)).astype(np.float32),
                 (rng.random(n) < 0.3).astype(np.float32))


def _network(seed, obs_dim=4, n_actions=2):
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((obs_dim,)), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(n_actions)])


def _shape_of(value) -> tuple:
    """The shape of a tensor, array or number (a number has shape ())."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return tuple(shape)
    try:
        return np.shape(value)
    except ValueError:  # a list of tensors of different shapes
        return (len(value),)


def reference_losses(q_network, batch, targets):
    """Return (huber, squared) losses of Q(s, a) against the targets."""
    import keras
    import tensorflow as tf

    q_taken = tf.gather(q_network(batch.obs), batch.actions, axis=1, batch_dims=1)
    targets = tf.stop_gradient(tf.cast(targets, q_taken.dtype))
    return keras.losses.Huber()(targets, q_taken), tf.reduce_mean(tf.square(targets - q_taken))


@guarded("04.3", "Q(s, a) of the taken actions is tf.gather(q_network(batch.obs), batch.actions, axis=1, batch_dims=1); compare it with tf.stop_gradient(targets) by a Huber or squared error, averaged")
def check_dqn_loss(dqn_loss) -> None:
    """Check ``dqn_loss(q_network, batch, targets)``: Huber or squared error of Q(s, a), no gradient into targets."""
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(5)
    for seed in range(3):
        net, batch = _network(seed), _batch(rng)
        targets = tf.Variable(rng.normal(3, 2, len(batch.actions)).astype(np.float32))
        with tf.GradientTape(persistent=True) as tape:
            got = dqn_loss(net, batch, targets)
            huber, squared = reference_losses(net, batch, targets)
        if got is None or isinstance(got, (tuple, list, dict, str)):
            fail("04.3", f"returned {type(got).__name__}, expected the loss as a scalar tensor",
                 "return only the loss: one number, the mean over the batch")
        shape = _shape_of(got)
        if shape != ():
            n = len(batch.actions)
            hint = ("return the mean over the batch: one number (tf.reduce_mean, or keras.losses.Huber() "
                    "called on the whole batch)")
            if shape in ((n,), (n, 1)):
                hint = "you returned one error per transition; average them over the batch: tf.reduce_mean"
            elif shape == (n, n):
                hint = ("Q(s, a) has shape (batch,) and the targets (batch,): a (batch, 1) operand broadcast them "
                        "to (batch, batch); pick Q(s, a) with tf.gather(..., axis=1, batch_dims=1) and do not "
                        "add an axis")
            fail("04.3", f"the loss has shape {shape}, expected a scalar (shape ()) for a batch of {n}", hint)
        value = float(np.asarray(got))
        reference = huber if np.isclose(value, float(huber), atol=1e-5) else squared
        if not np.isclose(value, float(reference), atol=1e-5):
            q_max = tf.reduce_max(net(batch.obs), axis=1)
            of_max = (float(tf.reduce_mean(tf.square(targets - q_max))), float(keras.losses.Huber()(targets, q_max)))
            if any(np.isclose(value, m, atol=1e-5) for m in of_max):
                fail("04.3", "the loss uses max_a Q(s, a)", "use the Q-value of the action actually taken: "
                     "tf.gather(q_network(batch.obs), batch.actions, axis=1, batch_dims=1)")
            n = len(batch.actions)
            if any(np.isclose(value, n * float(r), rtol=1e-5) for r in (huber, squared)):
                fail("04.3", f"loss {value:.4f} is the sum of the errors over the {n} transitions, not their mean",
                     "average over the batch (tf.reduce_mean), so the step size does not grow with the batch")
            fail("04.3", f"loss {value:.4f}; expected Huber {float(huber):.4f} or squared error {float(squared):.4f}",
                 "compare Q(s, a) of the taken actions with the targets, mean over the batch")
        must_be_tensor("04.3", got, "the loss", "compute it with TensorFlow operations on q_network(batch.obs) "
                       "(no .numpy() or np.* inside)")
        g = tape.gradient(got, targets)
        if g is not None and np.abs(np.asarray(g)).max() > 0:
            fail("04.3", "gradient flows into the targets",
                 "wrap the targets in tf.stop_gradient: the target is a fixed goal for this step")
        grads, ref = tape.gradient(got, net.trainable_variables), tape.gradient(reference, net.trainable_variables)
        if any(a is None for a in grads) or not all(np.allclose(a, b, atol=1e-5) for a, b in zip(grads, ref)):
            fail("04.3", "the loss has the right value but not the right gradient",
                 "compute it with TensorFlow operations on q_network(batch.obs) (no .numpy() inside)")
        del tape
    passed("04.3", 3)


@guarded("04.4", "targets from target_network (q_network when it is None) before the tape, dqn_loss inside tf.GradientTape, then optimizer.apply_gradients over q_network.trainable_variables; return the loss")
def check_dqn_train_step(dqn_train_step, dqn_loss, td_targets) -> None:
    """Check ``dqn_train_step(q_network, optimizer, batch, gamma, target_network=None)``: one gradient step."""
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(9)
    batch = _batch(rng)
    for use_target in (False, True):
        net, reference_net = _network(1), _network(1)
        target = _network(2) if use_target else None
        with tf.GradientTape() as tape:
            source = target if use_target else reference_net
            targets = td_targets(batch.rewards, source(batch.next_obs).numpy(), batch.terminated, 0.9)
            want_loss = dqn_loss(reference_net, batch, targets)
        keras.optimizers.SGD(0.1).apply_gradients(
            zip(tape.gradient(want_loss, reference_net.trainable_variables), reference_net.trainable_variables))
        before = [w.copy() for w in net.get_weights()]
        kwargs = {"target_network": target} if use_target else {}
        got_loss = dqn_train_step(net, keras.optimizers.SGD(0.1), batch, 0.9, **kwargs)
        if got_loss is None:
            fail("04.4", "returned None, expected the loss", "return the loss computed inside the GradientTape")
        if _shape_of(got_loss) != ():
            fail("04.4", f"returned {type(got_loss).__name__} of shape {_shape_of(got_loss)}, expected the loss "
                 "(one number)", "return only the loss computed inside the GradientTape")
        got_value, want_value = float(np.asarray(got_loss)), float(want_loss)
        after = net.get_weights()
        stepped_right = all(np.allclose(a, b, atol=1e-5) for a, b in zip(after, reference_net.get_weights()))
        if not np.isclose(got_value, want_value, atol=1e-4):
            _wrong_loss("04.4", got_value, want_value, stepped_right, batch, dqn_loss, target if use_target else None)
        if all(np.allclose(a, b) for a, b in zip(before, after)):
            fail("04.4", "the network's weights did not change", "apply the gradients: optimizer.apply_gradients(zip(grads, vars))")
        if not stepped_right:
            hint = ("compute the targets with target_network when it is given (q_network otherwise)" if use_target
                    else "targets from q_network(batch.next_obs) with td_targets, then dqn_loss, one optimizer step")
            fail("04.4", "the weights after one step differ from the reference step", hint)
    net, target = _network(3), _network(4)
    optimizer = keras.optimizers.SGD(0.1)
    compiled = tf.function(lambda b: dqn_train_step(net, optimizer, b, 0.9, target_network=target))
    try:
        compiled(batch)
    except Exception as err:  # noqa: BLE001 - .numpy(), NumPy calls and Python ifs fail on symbolic tensors
        what = f"the step fails inside tf.function: it {describe(err)}"
    else:
        what = None
    if what:
        fail("04.4", what,
             "use TensorFlow operations only (no .numpy(), no Python if on tensors): the training loop compiles it")
    passed("04.4", 3)


def _wrong_loss(exercise, got, want, stepped_right, batch, dqn_loss, target_network) -> None:
    """Fail 04.4 when the returned loss is not the reference's, naming the likely cause.

    When the step itself matched the reference, only the returned value is wrong; when
    both differ, the targets are the usual culprit, so try the common wrong ones.
    """
    if stepped_right:
        fail(exercise, f"returned {got:.4f}, expected the loss {want:.4f}; the gradient step itself is right",
             "return the loss computed inside the GradientTape (before apply_gradients), not another value")
    bootstrap = target_network if target_network is not None else _network(1)
    next_max = np.asarray(bootstrap(batch.next_obs)).max(axis=1)
    obs_max = np.asarray(bootstrap(batch.obs)).max(axis=1)
    r, mask, gamma = batch.rewards, 1.0 - batch.terminated, 0.9
    suspects = [
        (r + gamma * next_max, "the targets bootstrap from terminated transitions",
         "multiply gamma * max Q(s', a') by (1 - batch.terminated): use your td_targets"),
        (r + mask * next_max, "the targets are not discounted", "pass gamma on to td_targets"),
        (r + gamma * mask * obs_max, "the targets were computed from batch.obs",
         "the targets look one step ahead: td_targets(batch.rewards, network(batch.next_obs), batch.terminated, gamma)"),
        (r, "the targets are the rewards alone", "add gamma * (1 - terminated) * max Q(s', a'): use your td_targets"),
    ]
    if target_network is not None:
        own_max = np.asarray(_network(1)(batch.next_obs)).max(axis=1)
        suspects.insert(0, (r + gamma * mask * own_max, "the targets came from q_network although a target_network "
                            "was given", "compute the targets with target_network(batch.next_obs) when it is given"))
    for targets, what, hint in suspects:
        loss = float(np.asarray(dqn_loss(_network(1), batch, targets.astype(np.float32))))
        if np.isclose(got, loss, atol=1e-4):
            fail(exercise, f"returned loss {got:.4f}, expected {want:.4f}: {what}", hint)
    fail(exercise, f"on a batch of {len(batch.actions)} transitions (gamma {gamma}) you returned the loss {got:.4f}, "
         f"expected {want:.4f}, and the weights moved differently from one correct step: the targets (first "
         f"three expected: {', '.join(f'{float(y):.3f}' for y in r[:3] + gamma * mask[:3] * next_max[:3])}) or the "
         "loss differ",
         "targets = td_targets(batch.rewards, network(batch.next_obs), batch.terminated, gamma) with the target "
         "network when given (q_network otherwise), computed before the tape; then dqn_loss(q_network, batch, "
         "targets) inside it")


@guarded("04.6", "pass the array of returns that cu.evaluate gave, one per episode")
def check_solved(greedy_returns, threshold: float = 475.0, episodes: int = 100) -> None:
    """Check the trained network's greedy mean return over ``episodes`` episodes reaches ``threshold``."""
    mean_return_reaches("04.6", greedy_returns, threshold, episodes,
                        f"Greedy mean over {episodes} episodes >= {threshold:g}: CartPole-v1 is solved.",
                        "over 30 seeds the lesson's code always passed its stop test within this budget, so "
                        "look for what the checks above could not see: is your learning curve inside the gray "
                        "band, and did the training cell say it passed the stop test?")


# 04.5: one step of the loop -----------------------------------------------------------------
# The student's step is driven on a small scripted environment whose observations name the
# episode and the time step, so every stored transition, every reset and every call of
# agent.train() can be compared with what the step should have done.

# (length, how it ends) of each episode; both kinds of end fall into the exploring phase and
# into the greedy one
LOOP_EPISODES = [(6, "terminated"), (9, "truncated"), (4, "terminated"), (11, "truncated"), (7, "terminated"),
                 (8, "truncated"), (5, "terminated"), (10, "truncated"), (6, "terminated"), (12, "truncated"),
                 (40, "terminated")]
LOOP_STEPS, EXPLORING, LEARNING_STARTS, TRAIN_EVERY, N_ACTIONS = 80, 40, 10, 4, 3


class _LoopEnv(LoopEnv):
    """The scripted environment of check 04.5: three discrete actions, episodes ``LOOP_EPISODES``."""

    EXERCISE, EPISODES = "04.5", LOOP_EPISODES

    def _space(self, gym):
        return gym.spaces.Discrete(N_ACTIONS, seed=0)

    def _action(self, action):
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)) or not 0 <= action < N_ACTIONS:
            fail("04.5", f"at step {self.now} env.step got the action {action!r} ({type(action).__name__})",
                 f"pass one action, an int from 0 to {N_ACTIONS - 1} (epsilon_greedy returns one)")
        return int(action)


class _LoopAgent:
    """What the step is given as ``agent``, recording what the step does with it."""

    def __init__(self):
        from types import SimpleNamespace

        self.settings = SimpleNamespace(learning_starts=LEARNING_STARTS, train_every=TRAIN_EVERY, batch_size=4,
                                        gamma=0.99, n_step=3)
        self.rng = np.random.default_rng(0)
        self.now, self.stored, self.trained_at, self.asked_epsilon, self.asked_q = 0, [], [], [], []

    @staticmethod
    def q_of(obs) -> np.ndarray:
        episode, t, _ = np.asarray(obs, dtype=float)
        return np.array([np.sin(3 * episode + t), np.cos(2 * t + episode), np.sin(episode * t + 1)])

    def q_values(self, obs):
        self.asked_q.append((self.now, np.array(obs, dtype=np.float32, copy=True)))
        return self.q_of(obs)

    def epsilon(self, step):
        self.asked_epsilon.append((self.now, step))
        return 1.0 if step <= EXPLORING else 0.0

    def store(self, obs, action, reward, next_obs, terminated, truncated):
        self.stored.append((self.now, np.array(obs, dtype=np.float32, copy=True), action, reward,
                            np.array(next_obs, dtype=np.float32, copy=True), terminated, truncated))

    def train(self):
        self.trained_at.append(self.now)
        return 0.0


LOOP_HINT = ("action = epsilon_greedy(agent.q_values(obs), agent.epsilon(step), agent.rng); env.step(action); "
             "agent.store(...) with terminated and truncated as env.step gave them; agent.train() when due; "
             "env.reset() when the episode is over; return the observation to act on next")


@guarded("04.5", LOOP_HINT)
def check_dqn_env_step(dqn_env_step) -> None:
    """Check ``dqn_env_step(agent, env, obs, step) -> next obs`` on a scripted environment, step by step."""
    env, agent = _run_loop(dqn_env_step)
    _stored_right(agent.stored, env)
    trained_when_due("04.5", agent.trained_at, LOOP_STEPS, LEARNING_STARTS, TRAIN_EVERY)
    _acted_epsilon_greedily(agent, env)
    _replayed_by_the_agents_rng(dqn_env_step, [row[1] for row in env.log])
    passed("04.5", LOOP_STEPS)


def _run_loop(dqn_env_step):
    """Run the student's step LOOP_STEPS times on a fresh scripted environment and agent, checking each call's
    environment step and returned observation; return (env, agent) with what they recorded."""
    env, agent = _LoopEnv(), _LoopAgent()
    run_loop("04.5", dqn_env_step, env, agent, LOOP_STEPS, LOOP_HINT)
    return env, agent


def _replayed_by_the_agents_rng(dqn_env_step, actions) -> None:
    """The same loop again with an agent whose rng starts where the first one's did: the actions must repeat.

    An answer that explores with a generator of its own (np.random, a fresh default_rng()) takes other actions in
    the EXPLORING steps, whose epsilon is 1: all of them the same by chance only with probability 3**-EXPLORING."""
    same_actions_again("04.5", actions, [row[1] for row in _run_loop(dqn_env_step)[0].log],
                       "draw every random number from agent.rng (pass it to epsilon_greedy), not from np.random or "
                       "a generator of your own")


def _stored_right(stored, env) -> None:
    """One transition stored per step, each as env.step gave it."""
    if not stored:
        fail("04.5", f"agent.store was never called in {LOOP_STEPS} steps", "store every transition: agent.store(obs, "
             "action, reward, next_obs, terminated, truncated)")
    steps = [s[0] for s in stored]
    if steps != list(range(1, LOOP_STEPS + 1)):
        twice = sorted({s for s in steps if steps.count(s) > 1})
        missing = [s for s in range(1, LOOP_STEPS + 1) if s not in steps]
        what = f"stored twice at step {twice[0]}" if twice else f"nothing stored at step {missing[0]}"
        fail("04.5", f"{len(stored)} transitions stored in {LOOP_STEPS} steps ({what})",
             "store exactly one transition per environment step")
    for (step, obs, action, reward, next_obs, terminated, truncated), true in zip(stored, env.log):
        t_obs, t_action, t_reward, t_next, t_term, t_trunc = true
        if action != t_action and _same(obs, t_obs):
            fail("04.5", f"at step {step} you stored action={action!r}, but env.step was given {t_action}",
                 "store the action you passed to env.step")
        stored_around_the_step_right("04.5", step, obs, reward, next_obs, true, env)
        _flags_right(step, terminated, truncated, t_term, t_trunc)


def _flags_right(step, terminated, truncated, t_term, t_trunc) -> None:
    """terminated and truncated stored apart, as env.step returned them."""
    terminated_right("04.5", step, terminated, t_term, t_trunc)
    if bool(truncated) != t_trunc:
        fail("04.5", f"at step {step} env.step returned truncated={t_trunc} and you stored truncated={truncated!r}",
             "store truncated as env.step returned it: the buffer needs it to keep one episode's steps apart from "
             "the next one's")


def _acted_epsilon_greedily(agent, env) -> None:
    """Greedy on the current observation's Q-values where epsilon is 0; every action tried where it is 1."""
    if not agent.asked_epsilon:
        fail("04.5", "agent.epsilon(step) was never called", "act epsilon-greedily with epsilon = agent.epsilon(step)")
    wrong = [(now, asked) for now, asked in agent.asked_epsilon if asked != now]
    if wrong:
        fail("04.5", f"at step {wrong[0][0]} you asked agent.epsilon({wrong[0][1]!r})",
             "ask for the exploration rate of the current step: agent.epsilon(step)")
    actions = [true[1] for true in env.log]
    for step, (obs, action, *_) in enumerate(env.log, start=1):
        if step <= EXPLORING:
            continue
        q = _LoopAgent.q_of(obs)
        if action != int(q.argmax()):
            asked = [o for now, o in agent.asked_q if now == step]
            if asked and not _same(asked[-1], obs):
                fail("04.5", f"at step {step} you acted on the Q-values of {asked[-1]}, not of the current "
                     f"observation {obs}", "act on agent.q_values(obs), the observation you were given")
            if action == int(q.argmin()):
                fail("04.5", f"at step {step} epsilon was 0 and you took the action with the lowest Q-value "
                     f"(Q-values {np.round(q, 2)}, action {action})", "the greedy action is the argmax")
            fail("04.5", f"at step {step} epsilon was 0, the Q-values were {np.round(q, 2)} and you took action "
                 f"{action}; the greedy action is {int(q.argmax())}", "with probability 1 - epsilon take the greedy action")
    exploring = actions[:EXPLORING]
    greedy = [int(_LoopAgent.q_of(true[0]).argmax()) for true in env.log[:EXPLORING]]
    if exploring == greedy:
        fail("04.5", f"epsilon was 1 for the first {EXPLORING} steps and every action you took was the greedy one",
             "with probability epsilon take a random action: epsilon_greedy(q_values, epsilon, agent.rng)")
    if len(set(exploring)) < N_ACTIONS:
        fail("04.5", f"epsilon was 1 for the first {EXPLORING} steps and you took only actions {sorted(set(exploring))} "
             f"of the {N_ACTIONS}", "a random action is any of the n_actions actions, each as likely")
