"""Probe environments and small agents built from the lessons' pieces (lesson 10).

A probe is a tiny environment whose right values are known in closed form, so an agent
trained on it for a few seconds can be compared with the truth, one part of the agent at a
time (Andy Jones, "Debugging RL, Without the Agonizing Pain", 2021). The five probes are
lesson 10's exported classes. Importing this module registers them with Gymnasium, their
entry points naming the classes in ``course_utils.lessons.lesson10`` (Gymnasium imports
that module on the first make), so ``cu.make_env("course/ProbeDiscount-v0")``,
``gymnasium.make`` and ``gymnasium.make_vec`` work, and the lessons' own training loops
run on a probe given its id.

The agents are probe-sized versions of the course's DQN, REINFORCE and actor-critic:
their losses, targets and returns are the lessons' own functions (lessons 04, 07, 08),
their loops are a few lines each. All share one interface, the one lesson 10's
``run_probe`` uses: ``act(obs)``, ``observe(obs, action, reward, next_obs,
terminated, truncated)``, ``value(obs)`` (None for an agent without values),
``action_probs(obs)``, ``gamma`` and ``history`` (the diagnostics of every update).
"""
from __future__ import annotations

import collections

import gymnasium as gym
import numpy as np

# The five probes, simplest first: id -> (lesson 10's class, what it tests).
PROBES = {
    "course/ProbeConstant-v0": ("ProbeConstant", "the value itself: one state, reward 1, value 1"),
    "course/ProbeObservation-v0": ("ProbeObservation", "the observation reaches the value (backpropagation, input handling)"),
    "course/ProbeDiscount-v0": ("ProbeDiscount", "discounting and bootstrapping over two steps"),
    "course/ProbeAction-v0": ("ProbeAction", "the action: its value or probability, in the loss"),
    "course/ProbeContext-v0": ("ProbeContext", "the action chosen from the observation: value and policy together"),
}
for _id, (_class, _) in PROBES.items():
    if _id not in gym.registry:
        gym.register(_id, entry_point=f"course_utils.lessons.lesson10:{_class}", max_episode_steps=10)


PROBE_GAMMA = 0.5   # a missing or doubled discount moves a value by 0.5, far more than training noise


def closed_form(env_id: str, gamma: float = PROBE_GAMMA) -> list:
    """Return the probe's ``[(observation, Q-values of every action)]`` for discount ``gamma``."""
    if env_id not in PROBES:
        raise ValueError(f"closed_form: {env_id!r} is not a probe; the probes are {', '.join(PROBES)}")
    return gym.make(env_id).unwrapped.closed_form(gamma)


# ------------------------------------------------------------------------------ agents


class _ProbeAgent:
    """What the three agents share: seeding, the diagnostics history, the return obtained from each state."""

    kind = "agent"

    def __init__(self, n_actions: int, gamma: float, seed: int, hidden_units=(32, 32)):
        import keras

        keras.utils.set_random_seed(seed)
        self.n_actions, self.gamma, self.hidden_units = int(n_actions), float(gamma), tuple(hidden_units)
        self.rng = np.random.default_rng(seed)
        self.history = collections.defaultdict(list)   # per update: loss, grad_norm, entropy, predicted, obtained
        self._episode = []                             # (obs, action, reward) of the running episode
        self._finished = collections.deque(maxlen=64)  # (obs, action, discounted return obtained) of ended episodes
        self._networks, self._weights = [], None       # the Keras models read; their weights since the last update

    def _forward(self, network: int, obs) -> np.ndarray:
        """The output of ``self._networks[network]`` at ``obs`` (one observation or many), from NumPy copies of
        the weights, made again only after an update (a Keras call per step would cost far more)."""
        from .. import acting_weights

        if self._weights is None:
            self._weights = [acting_weights(model) for model in self._networks]
        return _read(self._weights[network], obs)

    def _end_episode(self) -> None:
        from ..lessons.lesson07 import discounted_returns   # lesson 07's returns to go

        if self._episode:
            returns = discounted_returns([r for _, _, r in self._episode], self.gamma)
            self._finished.extend((o, a, g) for (o, a, _), g in zip(self._episode, returns))
        self._episode = []

    def _remember(self, obs, action, reward, terminated, truncated) -> None:
        self._episode.append((np.asarray(obs, dtype=np.float32), int(action), float(reward)))
        if terminated or truncated:
            self._end_episode()

    def _record(self, loss, grad_norm, entropy=None) -> None:
        h = self.history
        h["loss"].append(float(loss))
        h["grad_norm"].append(float(grad_norm))
        if entropy is not None:
            h["entropy"].append(float(entropy))
        if len(h["loss"]) % 10 == 1 and self._finished and self.value(self._finished[-1][0]) is not None:
            obs = np.stack([o for o, _, _ in self._finished])
            h["predicted"].append(float(np.mean(self._predict_taken(obs, [a for _, a, _ in self._finished]))))
            h["obtained"].append(float(np.mean([g for _, _, g in self._finished])))

    def _predict_taken(self, obs, actions):
        return [self.value(o) for o in obs]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_actions={self.n_actions}, gamma={self.gamma})"


class DQNProbeAgent(_ProbeAgent):
    """Lesson 04's DQN on a probe: its network, its ``dqn_train_step`` (targets and loss), a replay buffer.

    It acts at random (Q-learning learns the best policy's values from any behaviour),
    takes one gradient step per environment step once it holds ``batch_size``
    transitions, and bootstraps from the online network (a probe is too small to need a
    target network). ``train_step`` and ``store`` replace the lesson's step or the way a
    transition is stored.
    """

    kind = "DQN"

    def __init__(self, n_actions, gamma=PROBE_GAMMA, seed=0, *, train_step=None, store=None,
                 learning_rate=1e-2, batch_size=32, hidden_units=(32, 32)):
        super().__init__(n_actions, gamma, seed, hidden_units)
        import tensorflow as tf

        from .. import ReplayBuffer
        from ..lessons import lesson04

        self.q = lesson04.build_q_network(1, self.n_actions, self.hidden_units)
        self._networks = [self.q]
        self.optimizer = _norm_recording_adam(learning_rate)
        self.buffer = ReplayBuffer(10_000, obs_shape=(1,))
        self.batch_size = batch_size
        self._store = store or (lambda buffer, o, a, r, o2, term: buffer.add(o, a, r, o2, term))
        step = train_step or lesson04.dqn_train_step
        self.optimizer.build(self.q.trainable_variables)
        self._train = tf.function(lambda batch: step(self.q, self.optimizer, batch, self.gamma))

    def act(self, obs) -> int:
        return int(self.rng.integers(self.n_actions))

    def observe(self, obs, action, reward, next_obs, terminated, truncated) -> None:
        self._store(self.buffer, obs, action, reward, next_obs, terminated)
        self._remember(obs, action, reward, terminated, truncated)
        if len(self.buffer) >= self.batch_size:
            loss = self._train(self.buffer.sample(self.batch_size, self.rng))
            self._weights = None
            self._record(loss, self.optimizer.grad_norm.numpy())

    def q_values(self, obs) -> np.ndarray:
        """Q(obs, a) for every action, one row per observation."""
        return self._forward(0, obs)

    def value(self, obs) -> float:
        """max_a Q(obs, a): the value of acting greedily."""
        return float(self.q_values(obs)[0].max())

    def action_probs(self, obs) -> np.ndarray:
        """The greedy policy: probability 1 on the action with the largest Q."""
        return _greedy(self.q_values(obs)[0])

    def _predict_taken(self, obs, actions):
        return self.q_values(obs)[np.arange(len(actions)), actions]


class ReinforceProbeAgent(_ProbeAgent):
    """Lesson 07's REINFORCE on a probe: its returns to go and policy-gradient loss.

    It samples from its softmax policy and updates once every ``batch_episodes``
    episodes, weighting every step by its return to go, centred and scaled over the
    whole batch (over 16 episodes, one episode's own actions barely move that mean). It
    has no value, so ``value`` returns None and only its policy is compared.
    ``loss`` replaces the lesson's loss; ``store_next_obs`` stores each step under the
    observation that followed it.
    """

    kind = "REINFORCE"

    def __init__(self, n_actions, gamma=PROBE_GAMMA, seed=0, *, loss=None, store_next_obs=False,
                 learning_rate=1e-2, batch_episodes=16, hidden_units=(32, 32)):
        super().__init__(n_actions, gamma, seed, hidden_units)
        import tensorflow as tf

        from ..lessons import lesson04, lesson07

        self.policy = lesson04.build_q_network(1, self.n_actions, self.hidden_units)
        self._networks = [self.policy]
        self.optimizer = _norm_recording_adam(learning_rate)
        self.batch_episodes, self.store_next_obs = batch_episodes, store_next_obs
        self._steps, self._episodes = [], []   # the running episode, the batch's episodes
        policy_loss = loss or lesson07.policy_gradient_loss
        self.optimizer.build(self.policy.trainable_variables)

        @tf.function
        def update(obs, actions, weights):
            with tf.GradientTape() as tape:
                logits = self.policy(obs)
                value = policy_loss(logits, actions, weights)
            grads = tape.gradient(value, self.policy.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.policy.trainable_variables))
            return value, _entropy(logits)

        self._update = update

    def act(self, obs) -> int:
        from .. import sample_from_logits

        return int(sample_from_logits(self._forward(0, obs), self.rng)[0])

    def observe(self, obs, action, reward, next_obs, terminated, truncated) -> None:
        from ..lessons.lesson07 import discounted_returns

        self._steps.append((next_obs if self.store_next_obs else obs, int(action), float(reward)))
        self._remember(obs, action, reward, terminated, truncated)
        if not (terminated or truncated):
            return
        self._episodes.append(self._steps)
        self._steps = []
        if len(self._episodes) < self.batch_episodes:
            return
        steps = [step for episode in self._episodes for step in episode]
        returns = np.concatenate([discounted_returns([r for _, _, r in e], self.gamma) for e in self._episodes])
        loss, entropy = self._update(np.stack([o for o, _, _ in steps]).astype(np.float32),
                                     np.array([a for _, a, _ in steps], dtype=np.int64),
                                     _normalized(returns))
        self._episodes, self._weights = [], None
        self._record(loss, self.optimizer.grad_norm.numpy(), entropy)

    def value(self, obs):
        """None: REINFORCE learns no value."""
        return None

    def action_probs(self, obs) -> np.ndarray:
        """The softmax of the policy's logits at ``obs``."""
        from .. import softmax

        return softmax(self._forward(0, obs)[0])


class ActorCriticProbeAgent(_ProbeAgent):
    """Lesson 08's actor-critic on a probe: its TD advantages and its actor and critic losses.

    It samples from the actor and updates every ``rollout`` steps: the critic towards the
    TD targets ``r + gamma (1 - terminated) V(s')``, the actor along the normalised TD
    advantages, with lesson 08's entropy bonus. ``advantages_and_targets`` replaces the lesson's (exercise 08.1).
    """

    kind = "actor-critic"

    def __init__(self, n_actions, gamma=PROBE_GAMMA, seed=0, *, advantages_and_targets=None,
                 actor_lr=1e-2, critic_lr=1e-2, rollout=4, hidden_units=(32, 32)):
        super().__init__(n_actions, gamma, seed, hidden_units)
        import tensorflow as tf

        from ..lessons import lesson04, lesson08

        self.actor = lesson04.build_q_network(1, self.n_actions, self.hidden_units)
        self.critic = lesson04.build_q_network(1, 1, self.hidden_units)
        self._networks = [self.actor, self.critic]
        self.optimizer = _norm_recording_adam(actor_lr)          # its grad_norm: the actor's
        critic_optimizer = _norm_recording_adam(critic_lr)
        self.optimizer.build(self.actor.trainable_variables)
        critic_optimizer.build(self.critic.trainable_variables)
        self.rollout = rollout
        self._advantages_and_targets = advantages_and_targets or lesson08.advantages_and_targets
        self._steps = []

        @tf.function
        def update(obs, actions, advantages, returns):
            with tf.GradientTape(persistent=True) as tape:
                actor_loss, critic_loss, entropy = lesson08.actor_critic_losses(
                    self.actor(obs), tf.squeeze(self.critic(obs), axis=1), actions, advantages, returns,
                    lesson08.ENTROPY_COEF)
            for loss, model, opt in ((actor_loss, self.actor, self.optimizer), (critic_loss, self.critic, critic_optimizer)):
                opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
            return critic_loss, entropy

        self._update = update

    def act(self, obs) -> int:
        from .. import sample_from_logits

        return int(sample_from_logits(self._forward(0, obs), self.rng)[0])

    def observe(self, obs, action, reward, next_obs, terminated, truncated) -> None:
        self._steps.append((obs, int(action), float(reward), next_obs, float(terminated)))
        self._remember(obs, action, reward, terminated, truncated)
        if len(self._steps) < self.rollout:
            return
        o, a, r, o2, term = (np.array(x, dtype=np.float32) for x in zip(*self._steps))
        values, next_values = self._forward(1, o)[:, 0], self._forward(1, o2)[:, 0]
        advantages, returns = (np.asarray(x, dtype=np.float32) for x in self._advantages_and_targets(
            r, values, next_values, term, self.gamma))
        loss, entropy = self._update(o, a.astype(np.int64), advantages, returns)
        self._steps, self._weights = [], None
        self._record(loss, self.optimizer.grad_norm.numpy(), entropy)

    def value(self, obs) -> float:
        """V(obs), the critic's estimate."""
        return float(self._forward(1, obs)[0, 0])

    def action_probs(self, obs) -> np.ndarray:
        """The softmax of the actor's logits at ``obs``."""
        from .. import softmax

        return softmax(self._forward(0, obs)[0])


def _read(weights, obs) -> np.ndarray:
    """A network's output at ``obs`` (one observation or many), one row per observation, from its weights."""
    from .. import mlp_forward

    return mlp_forward(weights, np.asarray(obs, dtype=np.float32).reshape(-1, weights[0].shape[0]))


def _greedy(q) -> np.ndarray:
    """The greedy policy at one state: probability 1 on the action with the largest Q."""
    probs = np.zeros(len(q))
    probs[int(np.argmax(q))] = 1.0
    return probs


def _normalized(returns) -> np.ndarray:
    """Returns to go centred and scaled over a batch of episodes (float32): the probe agent's baseline."""
    returns = np.asarray(returns, dtype=np.float64)
    return ((returns - returns.mean()) / (returns.std() + 1e-8)).astype(np.float32)


def _entropy(logits):
    import tensorflow as tf

    log_probs = tf.nn.log_softmax(logits)
    return -tf.reduce_mean(tf.reduce_sum(tf.exp(log_probs) * log_probs, axis=1))


def _norm_recording_adam(learning_rate: float):
    """An Adam optimizer that keeps the global norm of the last gradients it applied in ``grad_norm``."""
    import keras
    import tensorflow as tf

    class NormRecordingAdam(keras.optimizers.Adam):
        def apply(self, grads, trainable_variables=None):
            self.grad_norm.assign(tf.linalg.global_norm([g for g in grads if g is not None]))
            return super().apply(grads, trainable_variables)

    optimizer = NormRecordingAdam(learning_rate)
    optimizer.grad_norm = tf.Variable(0.0, trainable=False)
    return optimizer


# ------------------------------------------------------------ the lessons' own loops

# How each lesson's own training loop runs on a probe: long enough for all five probes, on every bench seed.
# DQN bootstraps after every step (n_step 1): with 3-step returns, a probe's one- or two-step episodes
# would end inside every window, and the target network would never be read.
LOOP_RUNS = {"DQN": {"n_step": 1, "learning_starts": 500, "max_steps": 2_000},   # lesson 04's DQNSettings fields
             "REINFORCE": {"max_episodes": 300},                       # lesson 07's train
             "actor-critic": {"max_env_steps": 32_768},                # lesson 08's train: 256 updates
             "PPO": {"max_env_steps": 8_192}}                          # lesson 09's train: 32 rollouts


class TrainedLoop:
    """A network that a lesson's own training loop trained on a probe, read like the probe agents.

    It answers ``q_values`` (DQN), ``value``, ``action_probs`` and ``gamma`` as the agents
    do, so lesson 10's ``run_probe(loop, env_id, 0)`` compares it with the closed form; it
    learns no more (``observe`` does nothing, ``act`` takes its most probable action).
    The weights are lists of arrays for ``cu.mlp_forward``: ``q`` for DQN, ``policy``
    (and ``critic``) for REINFORCE (and actor-critic and PPO).
    """

    def __init__(self, kind: str, gamma: float, *, q=None, policy=None, critic=None, env_steps: int = 0):
        if (q is None) == (policy is None):
            raise ValueError("TrainedLoop: give the weights of a Q-network (q=, DQN) or of a policy (policy=, "
                             "REINFORCE, actor-critic and PPO, with critic= for the critic), not both or neither")
        self.kind, self.gamma, self.env_steps = kind, float(gamma), int(env_steps)   # env_steps: of its training
        self._q, self._policy, self._critic = q, policy, critic

    def q_values(self, obs):
        """Q(obs, a) for every action, one row per observation (DQN only; None otherwise)."""
        return None if self._q is None else _read(self._q, obs)

    def value(self, obs):
        """max_a Q (DQN), the critic's V (actor-critic), or None (REINFORCE)."""
        if self._q is not None:
            return float(self.q_values(obs)[0].max())
        return None if self._critic is None else float(_read(self._critic, obs)[0, 0])

    def action_probs(self, obs) -> np.ndarray:
        """DQN's greedy policy, or the softmax of the policy's logits."""
        from .. import softmax

        if self._q is not None:
            return _greedy(self.q_values(obs)[0])
        return softmax(_read(self._policy, obs)[0])

    def act(self, obs) -> int:
        return int(self.action_probs(obs).argmax())

    def observe(self, *transition) -> None:
        """Nothing: the loop has finished training."""

    def __repr__(self) -> str:
        return f"TrainedLoop({self.kind!r}, gamma={self.gamma})"


def course_loops(env_id: str, seed: int = 0, gamma: float = PROBE_GAMMA) -> dict:
    """Train lesson 04's ``train_dqn``, lesson 07's, 08's and 09's ``train`` on a probe; return
    ``{kind: TrainedLoop}`` for DQN, REINFORCE, actor-critic and PPO. The loops are the ones that
    solve CartPole, unchanged but for the environment id, the discount and the length of the
    run (``LOOP_RUNS``).

    ``train_dqn`` keeps the network of its best greedy evaluation, and on a probe every
    network may score alike, so it evaluates once, at the end of the run (``eval_every``
    is the run's length), and keeps the trained network. REINFORCE runs without
    its learned baseline, weighting each step by its return to go: on a probe's one- and
    two-step episodes a baseline has little variance to remove. On the three probes with one
    action REINFORCE has nothing to learn and passes whatever it does; the action and
    context probes are its test. PPO's critic is read like actor-critic's: its GAE targets
    must bootstrap through the discount probe's first step.
    """
    from ..lessons import lesson04, lesson07, lesson08, lesson09

    if env_id not in PROBES:
        raise ValueError(f"course_loops: {env_id!r} is not a probe; the probes are {', '.join(PROBES)}")
    settings = lesson04.DQNSettings(gamma=gamma, eval_every=LOOP_RUNS["DQN"]["max_steps"], **LOOP_RUNS["DQN"])
    dqn = lesson04.train_dqn(seed, settings, env_id=env_id, desc="lesson 04's train_dqn")
    reinforce = lesson07.train(use_baseline=False, seed=seed, stop_when_solved=False, env_id=env_id, gamma=gamma,
                               **LOOP_RUNS["REINFORCE"])
    a2c = lesson08.train(seed=seed, env_id=env_id, gamma=gamma, **LOOP_RUNS["actor-critic"])
    ppo = lesson09.train(seed=seed, env_id=env_id, gamma=gamma, **LOOP_RUNS["PPO"])
    return {"DQN": TrainedLoop("DQN", gamma, q=dqn.weights, env_steps=dqn.env_steps),
            "REINFORCE": TrainedLoop("REINFORCE", gamma, policy=reinforce.weights, env_steps=reinforce.steps[-1]),
            "actor-critic": TrainedLoop("actor-critic", gamma, policy=a2c.weights, critic=a2c.critic_weights,
                                        env_steps=a2c.steps[-1]),
            "PPO": TrainedLoop("PPO", gamma, policy=ppo.weights, critic=ppo.critic_weights, env_steps=ppo.steps[-1])}


# ------------------------------------------------------------------ lesson 10's suspects


def suspects() -> dict:
    """Lesson 10's eight agents to diagnose: name -> ``make(n_actions, seed)``. Some have a classic bug.

    Which bug each has is in ``course_utils.checks.lesson10``, for the check to reveal once
    the probes have found it.
    """
    from .. import variants
    from . import suspects as buggy
    from ..lessons import lesson04

    def swapped(buffer, obs, action, reward, next_obs, terminated):
        buffer.add(next_obs, action, reward, obs, terminated)

    def dqn(**kwargs):
        return lambda n_actions, seed=0: DQNProbeAgent(n_actions, seed=seed, **kwargs)

    def step(**names):
        return variants.swap_globals(lesson04.dqn_train_step, **names)

    return {
        "dqn-1": dqn(store=swapped),
        "dqn-2": dqn(train_step=step(dqn_loss=variants.squared_error_loss)),
        "dqn-3": dqn(train_step=step(td_targets=buggy.td_targets_without_terminal_mask)),
        "dqn-4": dqn(train_step=step(dqn_loss=buggy.dqn_loss_on_the_best_action)),
        "reinforce-1": lambda n_actions, seed=0: ReinforceProbeAgent(n_actions, seed=seed, store_next_obs=True),
        "reinforce-2": lambda n_actions, seed=0: ReinforceProbeAgent(
            n_actions, seed=seed, loss=buggy.policy_gradient_loss_sign_flipped),
        "actor-critic-1": lambda n_actions, seed=0: ActorCriticProbeAgent(
            n_actions, seed=seed, advantages_and_targets=buggy.critic_targets_without_discount),
        "actor-critic-2": lambda n_actions, seed=0: ActorCriticProbeAgent(
            n_actions, seed=seed, advantages_and_targets=buggy.critic_targets_without_terminal_mask),
    }
