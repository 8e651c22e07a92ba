"""NumPy forward passes of small Keras networks, for acting fast (introduced in lesson 07).

Calling a Keras model costs milliseconds per call; the same Dense-ReLU network
(lesson 04's ``build_q_network``, which lessons 07-08 reuse for policies and values)
evaluated in NumPy with the model's weights costs microseconds. Training still
happens in TensorFlow; only acting uses these.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


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


def fold_dueling_heads(value_kernel, value_bias, advantage_kernel, advantage_bias):
    """Return the kernel and bias of one linear layer equal to the dueling heads (lesson 06).

    ``V + A - mean_a A`` of two linear heads is itself linear in the last hidden
    features, so a dueling network acts like a plain Dense chain with this last layer.

    Example:
        >>> k, b = fold_dueling_heads(np.ones((1, 1)), np.zeros(1), np.array([[1.0, 3.0]]), np.zeros(2))
        >>> k, b
        (array([[0., 2.]]), array([0., 0.]))
    """
    kernel = value_kernel + advantage_kernel - advantage_kernel.mean(axis=1, keepdims=True)
    bias = value_bias + advantage_bias - advantage_bias.mean()
    return kernel, bias


def acting_weights(model, verify: bool = False) -> list:
    """Return the weights ``mlp_forward`` needs to act like ``model`` (lessons 04-06).

    ``model`` is a Dense-ReLU chain (lesson 04's ``build_q_network``) or a dueling network whose heads are
    Dense layers named ``value`` and ``advantages`` on a Dense-ReLU trunk; the dueling
    heads are folded into one layer (``fold_dueling_heads``). With ``verify=True`` the
    NumPy forward pass is compared with the model on random inputs, and a model of
    another shape raises ``ValueError`` saying what differs.
    """
    import keras

    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    heads = {layer.name: layer for layer in dense if layer.name in ("value", "advantages")}
    kind = "dueling network (V + A - mean A of heads 'value' and 'advantages')" if heads else "Dense-ReLU chain"
    problem = (f"acting_weights: the model does not compute what a {kind} computes, so it cannot act "
               f"through mlp_forward; build it from Dense layers with ReLU hidden activations and a linear "
               f"output (see build_q_network / build_dueling_q_network)")
    if heads and set(heads) != {"value", "advantages"}:
        raise ValueError(f"acting_weights: a dueling network needs Dense layers named 'value' and "
                         f"'advantages'; found only {sorted(heads)}")
    try:
        weights = [w for layer in dense if layer.name not in heads for w in layer.get_weights()]
        if heads:
            value, advantages = heads["value"].get_weights(), heads["advantages"].get_weights()
            weights += list(fold_dueling_heads(value[0], value[1], advantages[0], advantages[1]))
        if not verify:
            return weights
        inputs = np.random.default_rng(0).normal(size=(8, weights[0].shape[0])).astype(np.float32)
        got, want = mlp_forward(weights, inputs), np.asarray(model(inputs))
    except (ValueError, IndexError) as err:
        raise ValueError(f"{problem} ({err})") from err
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-4):
        raise ValueError(problem)
    return weights


def softmax(logits) -> np.ndarray:
    """Return the probabilities ``softmax(logits)`` along the last axis, in float64 (lesson 10).

    Example:
        >>> softmax(np.array([0.0, np.log(3.0)])).round(2)
        array([0.25, 0.75])
    """
    z = np.asarray(logits, dtype=np.float64)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True)


def sample_from_logits(logits, rng: np.random.Generator) -> np.ndarray:
    """Return one action per row of ``logits``, drawn from ``softmax(logits)`` with ``rng``.

    Example:
        >>> sample_from_logits(np.array([[0.0, 50.0], [50.0, 0.0]]), np.random.default_rng(0))
        array([1, 0])
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"sample_from_logits: logits must have shape (batch, n_actions), got {z.shape}")
    cdf = np.cumsum(softmax(z), axis=1)
    u = rng.random((len(z), 1))
    return np.minimum((u > cdf).sum(axis=1), z.shape[1] - 1)
