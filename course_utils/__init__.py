"""Companion package of the deep reinforcement learning course.

Notebooks import it under one short name and call everything through it::

    import course_utils as cu
    env = cu.make_env("CartPole-v1", seed=0)

Importing the package is cheap: each helper's module (and TensorFlow, where a
helper needs it) is imported the first time the helper is used.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it (introduced in lesson 01 unless noted)
_EXPORTS = {
    "make_env": "envs",
    "seed_everything": "envs",
    "CountSteps": "envs",
    "NoisyReward": "envs",  # lesson 05
    "greedy_q_vs_returns": "diagnostics",  # lesson 05
    "plot_diagnostics": "diagnostics",  # lesson 08
    "HEALTHY": "diagnostics",  # lesson 08
    "closed_form": "probes",  # lesson 08
    "PROBES": "probes",  # lesson 08
    "PROBE_GAMMA": "probes",  # lesson 08
    "DQNProbeAgent": "probes",  # lesson 08
    "ReinforceProbeAgent": "probes",  # lesson 08
    "ActorCriticProbeAgent": "probes",  # lesson 08
    "course_loops": "probes",  # lesson 08
    "TrainedLoop": "probes",  # lesson 08
    "DQNAgent": "dqn",  # lesson 03
    "GreedyEvaluator": "dqn",  # lesson 03
    "RecordEpisodes": "training_log",  # lesson 03
    "ActorCriticAgent": "actor_critic",  # lesson 07
    "RecordVectorEpisodes": "actor_critic",  # lesson 07
    "flatten_rollout": "actor_critic",  # lesson 07
    "ReplayBuffer": "replay",  # lesson 03
    "Batch": "replay",  # lesson 03
    "NStepAdder": "replay",  # lesson 03
    "LinearSchedule": "schedules",  # lesson 02
    "ExponentialSchedule": "schedules",  # lesson 02
    "evaluate": "evaluation",
    "passes_with_margin": "evaluation",  # lesson 03
    "greedy_stop_test": "evaluation",  # lesson 06
    "ReinforceAgent": "reinforce",  # lesson 06
    "moving_average": "plotting",
    "plot_learning_curve": "plotting",
    "plot_q_values": "plotting",  # lesson 03
    "plot_search_rounds": "plotting",  # lesson 01
    "plot_reference": "plotting",  # lessons 02-08
    "reference_band": "plotting",  # lessons 02-08
    "record_episode": "video",
    "save_video": "video",
    "show_video": "video",
    "side_by_side": "video",
    "mlp_forward": "acting",  # lesson 06
    "sample_from_logits": "acting",  # lesson 06
    "softmax": "acting",  # lesson 08
    "acting_weights": "acting",  # lesson 05
    "fold_dueling_heads": "acting",  # lesson 05
    "progress_bar": "progress",
    "TrainingLog": "training_log",  # lesson 06
    "AssistedPlay": "player",  # lesson 03
    "is_headless": "session",
    "lesson_seed": "session",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Import a helper's module on first use and return the helper."""
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'course_utils' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module_name}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
