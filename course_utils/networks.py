"""NumPy forward passes of small Keras networks, for acting fast (introduced in lesson 06).

Calling a Keras model costs milliseconds per call; the same Dense-ReLU network
evaluated in NumPy with the model's weights costs microseconds. Training still
happens in TensorFlow; only acting uses these.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def build_mlp(n_inputs: int, n_outputs: int, hidden_units=(64, 64)):
    """Return a Keras Dense network: ReLU on every hidden layer, a linear output.

    The shape ``mlp_forward`` evaluates: a Q-network (lesson 03) or a policy or
    value network (lessons 06-07) in the reference agents.
    """
    import keras

    inputs = keras.Input((n_inputs,))
    x = inputs
    for units in hidden_units:
        x = keras.layers.Dense(units, activation="relu")(x)
    return keras.Model(inputs, keras.layers.Dense(n_outputs)(x))


def mlp_forward(weights: Sequence[np.ndarray], obs) -> np.ndarray:
    """Return the output of a Dense-ReLU-...-Dense (linear) network for a batch of observations.

    Args:
        weights: ``model.get_weights()`` of a ``keras.Sequential``/functional model
            made only of ``Dense`` layers (kernel, bias, kernel, bias, ...), ReLU on
            every hidden layer and a linear output.
        obs: array of shape ``(batch, obs_dim)``.

    Returns:
        Array of shape ``(batch, n_outputs)``.

    Example:
        >>> w = [np.eye(2), np.zeros(2), np.ones((2, 1)), np.zeros(1)]
        >>> mlp_forward(w, np.array([[1.0, -2.0]]))
        array([[1.]])
    """
    if len(weights) % 2 or not weights:
        raise ValueError(f"mlp_forward: expected kernel/bias pairs, got {len(weights)} arrays")
    x = np.asarray(obs, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != weights[0].shape[0]:
        raise ValueError(f"mlp_forward: obs has shape {x.shape}, expected (batch, {weights[0].shape[0]})")
    for i in range(0, len(weights) - 2, 2):
        x = np.maximum(x @ weights[i] + weights[i + 1], 0.0)
    return x @ weights[-2] + weights[-1]


def sample_from_logits(logits, rng: np.random.Generator) -> np.ndarray:
    """Return one action per row of ``logits``, drawn from ``softmax(logits)`` with ``rng``.

    Example:
        >>> sample_from_logits(np.array([[0.0, 50.0], [50.0, 0.0]]), np.random.default_rng(0))
        array([1, 0])
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"sample_from_logits: logits must have shape (batch, n_actions), got {z.shape}")
    p = np.exp(z - z.max(axis=1, keepdims=True))
    cdf = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    u = rng.random((len(z), 1))
    return np.minimum((u > cdf).sum(axis=1), z.shape[1] - 1)
