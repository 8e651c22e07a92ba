import numpy as np
import pytest

from course_utils.acting import mlp_forward, sample_from_logits


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


def test_acting_weights_of_a_dueling_network_match_the_model():
    import keras

    from course_utils.lessons.lesson06 import build_dueling_q_network
    from course_utils.acting import acting_weights

    keras.utils.set_random_seed(1)
    model = build_dueling_q_network(4, 3, (16, 8))
    for layer in model.layers:  # non-zero head biases, so a fold that drops them shows
        if getattr(layer, "bias", None) is not None:
            layer.bias.assign(np.random.default_rng(2).normal(size=layer.bias.shape).astype(np.float32))
    x = np.random.default_rng(3).normal(size=(7, 4)).astype(np.float32)
    weights = acting_weights(model, verify=True)
    assert [w.shape for w in weights] == [(4, 16), (16,), (16, 8), (8,), (8, 3), (3,)]
    np.testing.assert_allclose(mlp_forward(weights, x), np.asarray(model(x)), rtol=1e-5, atol=1e-5)


def test_acting_weights_refuses_a_model_numpy_cannot_follow():
    import keras

    from course_utils.acting import acting_weights

    tanh = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(2)])
    assert len(acting_weights(tanh)) == 4  # without verify, the weights are simply listed
    with pytest.raises(ValueError, match="does not compute what a Dense-ReLU chain computes"):
        acting_weights(tanh, verify=True)
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    half = keras.Model(inputs, keras.layers.Dense(1, name="value")(hidden) + 0.0 * hidden)
    with pytest.raises(ValueError, match="needs Dense layers named 'value' and 'advantages'; found only"):
        acting_weights(half)
