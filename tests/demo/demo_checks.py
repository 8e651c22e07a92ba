"""Checks of the demo lesson used by the pipeline tests (needs no TensorFlow)."""
import numpy as np

from course_utils.checks import fail, guarded, passed, say


def reference_discounted_sum(rewards, gamma):
    return float(sum(r * gamma**t for t, r in enumerate(rewards)))


@guarded("00.1", "return sum_t gamma**t * rewards[t] as a float")
def check_discounted_sum(discounted_sum):
    cases = [([], 0.9), ([1.0], 0.5), ([1, 1, 1], 0.9), ([0, 0, 5], 0.5), ([2, -1, 3, 4], 0.99), ([1, 2], 0.0)]
    for rewards, gamma in cases:
        got, want = discounted_sum(rewards, gamma), reference_discounted_sum(rewards, gamma)
        if np.isclose(got, sum(rewards)) and not np.isclose(want, sum(rewards)):
            fail("00.1", f"discounted_sum({rewards}, {gamma}) = {got}, expected {want}",
                 "you did not discount: multiply the reward at step t by gamma**t")
        if not np.isclose(got, want):
            fail("00.1", f"discounted_sum({rewards}, {gamma}) = {got}, expected {want}",
                 "the first reward is not discounted (gamma**0 = 1)")
    passed("00.1", len(cases))


@guarded("00.2", "return min(max(x, low), high)")
def check_clip(clip):
    cases = [(0.5, 0.0, 1.0), (-3.0, -1.0, 1.0), (7.0, 0.0, 2.0), (2.0, 2.0, 2.0)]
    for x, low, high in cases:
        want = min(max(x, low), high)
        got = clip(x, low, high)
        if got != want:
            fail("00.2", f"clip({x}, {low}, {high}) = {got}, expected {want}",
                 "values below low become low, values above high become high")
    passed("00.2", len(cases))


@guarded("00.3", "run the training cell above first")
def check_score(score):
    if score < 10:
        fail("00.3", f"score {score} is below 10", "run the training cell above first")
    say("Exercise 00.3: passed (score >= 10).")
