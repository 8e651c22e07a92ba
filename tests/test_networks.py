import numpy as np
import pytest

from course_utils.networks import mlp_forward, sample_from_logits


def test_mlp_forward_matches_keras():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(mlp_forward(model.get_weights(), x), model(x).numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("weights, obs, message", [
    ([np.eye(2)], np.zeros((1, 2)), "kernel/bias pairs"),
    ([np.eye(2), np.zeros(2)], np.zeros(2), r"obs has shape \(2,\), expected \(batch, 2\)"),
    ([np.eye(2), np.zeros(2)], np.zeros((1, 3)), r"expected \(batch, 2\)"),
])
def test_mlp_forward_bad_input(weights, obs, message):
    with pytest.raises(ValueError, match=message):
        mlp_forward(weights, obs)


def test_sample_from_logits_frequencies():
    rng = np.random.default_rng(0)
    logits = np.tile(np.log([[0.2, 0.5, 0.3]]), (20_000, 1))
    freq = np.bincount(sample_from_logits(logits, rng), minlength=3) / 20_000
    np.testing.assert_allclose(freq, [0.2, 0.5, 0.3], atol=0.015)
    with pytest.raises(ValueError, match=r"shape \(batch, n_actions\)"):
        sample_from_logits(np.zeros(3), rng)
