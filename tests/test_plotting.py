import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils.plotting import moving_average, plot_learning_curve, plot_q_values, plot_search_rounds  # noqa: E402


def test_moving_average_values():
    np.testing.assert_allclose(moving_average([1, 2, 3, 4, 5], 3), [1, 1.5, 2, 3, 4])
    np.testing.assert_allclose(moving_average([4.0], 10), [4.0])
    np.testing.assert_allclose(moving_average([], 3), [])


@pytest.mark.parametrize("values, window, message", [([1, 2], 0, "window must be >= 1"), ([[1, 2]], 2, "must be 1-D")])
def test_moving_average_bad_input(values, window, message):
    with pytest.raises(ValueError, match=message):
        moving_average(values, window)


def test_learning_curve_draws_average_raw_and_threshold():
    returns = np.arange(50.0)
    ax = plot_learning_curve(returns, window=10, threshold=475)
    avg, raw = ax.lines[0], ax.lines[1]
    np.testing.assert_allclose(avg.get_ydata(), moving_average(returns, 10))
    np.testing.assert_allclose(raw.get_ydata(), returns)
    assert ax.lines[2].get_ydata()[0] == 475
    assert ax.get_xlabel() == "episode" and ax.get_ylabel() == "return"
    plt.close("all")


def test_learning_curve_with_steps_and_shared_axes():
    _, ax = plt.subplots()
    plot_learning_curve([1, 2, 3], steps=[10, 30, 60], ax=ax, label="seed 0")
    plot_learning_curve([3, 2, 1], steps=[10, 30, 60], ax=ax, label="seed 1")
    assert ax.get_xlabel() == "environment steps"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["seed 0", "seed 1"]
    with pytest.raises(ValueError, match=r"steps has shape \(2,\), expected \(3,\)"):
        plot_learning_curve([1, 2, 3], steps=[1, 2])
    plt.close("all")


def test_q_value_trace():
    q = np.stack([np.linspace(10, 1, 20), np.linspace(9, 2, 20)], axis=1)
    ax = plot_q_values(q, action_names=["left", "right"])
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[1].get_ydata(), q[:, 1])
    with pytest.raises(ValueError, match=r"shape \(steps, n_actions\)"):
        plot_q_values(np.zeros(5))
    with pytest.raises(ValueError, match="1 action names for 2 actions"):
        plot_q_values(q, action_names=["left"])
    plt.close("all")


def test_search_rounds_draw_scores_fresh_means_and_the_best_so_far_over_the_band():
    rounds = [(1_000, 500.0, 210.0), (1_900, 480.0, 150.0), (2_600, 500.0, 490.0)]
    ax = plot_search_rounds(rounds, threshold=475, reference="random search")
    assert len(ax.collections) == 1                          # the band of healthy searches
    band, scores, fresh, best, threshold = ax.lines
    np.testing.assert_allclose(scores.get_ydata(), [500, 480, 500])
    np.testing.assert_allclose(fresh.get_ydata(), [210, 150, 490])
    np.testing.assert_allclose(best.get_ydata(), [210, 210, 490])
    assert threshold.get_ydata()[0] == 475
    with pytest.raises(ValueError, match=r"triples, one per round, got shape \(3, 2\)"):
        plot_search_rounds([(1, 2), (3, 4), (5, 6)])
    plt.close("all")
