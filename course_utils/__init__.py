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
    "NoisyReward": "envs",  # lesson 06
    "greedy_q_vs_returns": "diagnostics",  # lesson 06
    "plot_diagnostics": "diagnostics",  # lesson 10
    "HEALTHY": "diagnostics",  # lesson 10
    "DQNAgent": "dqn",  # lesson 04
    "GreedyEvaluator": "dqn",  # lesson 04
    "RecordEpisodes": "training_log",  # lesson 04
    "ActorCriticAgent": "actor_critic",  # lesson 08
    "RecordVectorEpisodes": "actor_critic",  # lesson 08
    "flatten_rollout": "actor_critic",  # lesson 08
    "ReplayBuffer": "replay",  # lesson 04
    "Batch": "replay",  # lesson 04
    "NStepAdder": "replay",  # lesson 04
    "LinearSchedule": "schedules",  # lesson 03
    "ExponentialSchedule": "schedules",  # lesson 03
    "evaluate": "evaluation",
    "passes_with_margin": "evaluation",  # lesson 04
    "greedy_stop_test": "evaluation",  # lesson 07
    "ReinforceAgent": "reinforce",  # lesson 07
    "SACAgent": "sac",  # lesson 11
    "TwinCritics": "sac",  # lesson 11
    "deterministic_policy": "sac",  # lesson 11
    "scale_actions": "sac",  # lesson 11
    "moving_average": "plotting",
    "plot_learning_curve": "plotting",
    "plot_q_values": "plotting",  # lesson 04
    "plot_search_rounds": "plotting",  # lesson 01
    "plot_value_grid": "plotting",  # lesson 02
    "plot_reference": "plotting",  # lessons 03-09
    "reference_band": "plotting",  # lessons 03-09
    "record_episode": "video",
    "save_video": "video",
    "show_video": "video",
    "side_by_side": "video",
    "mlp_forward": "acting",  # lesson 07
    "sample_from_logits": "acting",  # lesson 07
    "softmax": "acting",  # lesson 10
    "acting_weights": "acting",  # lesson 06
    "fold_dueling_heads": "acting",  # lesson 06
    "progress_bar": "progress",
    "TrainingLog": "training_log",  # lesson 07
    "AssistedPlay": "player",  # lesson 04
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
