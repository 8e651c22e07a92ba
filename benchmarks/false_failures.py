"""How often a correct answer fails a check that judges randomness it cannot replay; prints a table.

    .venv/bin/python benchmarks/false_failures.py [--trials 20000]

Each row is one statistical judgement a check makes of a correct answer, and its rate of failing one:
- 09.5: an answer that draws its resamples otherwise than the check's reference (a generator of its own
  stream, say ``rng.random`` scaled to indices) is judged against the exact distribution of a resample's IQM
  (``near_the_bootstrap``). Measured: each trial draws every one of the check's eight cases with a fresh
  generator, as such an answer would, and fails if any case misses; the upper bound is the 95% one
  (3 / trials when none failed, the "rule of three").
- 10.2: a correct context probe shows each context at least one time in five; the check fails it when a
  context comes up fewer than ``RARE`` times in ``CONTEXT_SEEDS`` resets. Exact binomial tail, for the
  worst correct design (five contexts, each one time in five).
- 03.2: the normal-approximation bound that ``tests/test_lesson03_checks.py`` asserts.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from course_utils.checks import lesson03, lesson09, lesson10  # noqa: E402


def interval_drawn_otherwise(scores: np.ndarray, rng, level: float, resamples: int = 2000) -> tuple:
    """A correct 09.5 answer whose draws differ from the reference's: rows of indices from ``rng.random``."""
    n = len(scores)
    rows = np.floor(rng.random((resamples, n)) * n).astype(int)
    iqms = lesson09.reference_iqm(scores[rows])
    low, high = np.percentile(iqms, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return float(lesson09.reference_iqm(scores)), float(low), float(high)


def rate_09_5(trials: int, seed: int = 2026) -> tuple[int, int]:
    """Return (trials, trials in which a case failed) for check 09.5's judgement of an interval drawn otherwise."""
    failed = 0
    cases = [(k, scores, level) for k, scores in enumerate(lesson09.IQM_CASES) for level in (0.95, 0.8)]
    for t in range(trials):
        rng = np.random.default_rng([seed, t])
        bad = False
        for k, scores, level in cases:
            _, low, high = interval_drawn_otherwise(scores, rng, level)
            bad |= not (lesson09.near_the_bootstrap(k, low, (1 - level) / 2)
                        and lesson09.near_the_bootstrap(k, high, (1 + level) / 2))
        failed += bad
    return trials, failed


def binomial_cdf_below(k: int, n: int, p: float) -> float:
    """P(X < k) for X ~ Binomial(n, p), summed exactly in log space."""
    return sum(math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                        + i * math.log(p) + (n - i) * math.log1p(-p)) for i in range(k))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20_000, help="trials of check 09.5's tolerance (default 20000)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    trials, failed = rate_09_5(args.trials)
    seconds = time.perf_counter() - start
    upper = (3.0 if failed == 0 else 1.96 * math.sqrt(failed) + failed) / trials
    context = 5 * binomial_cdf_below(lesson10.RARE, lesson10.CONTEXT_SEEDS, 0.2)
    rows = [
        ("09.5", f"each end of an interval drawn otherwise is a {lesson09.RESAMPLES:,}-draw quantile of the exact "
         "bootstrap distribution", f"simulated: {failed} of {trials:,} trials failed a case ({seconds:.0f} s)",
         f"< {upper:.1e}"),
        ("10.2", f"a context drawn one time in five comes up {lesson10.RARE}+ times in {lesson10.CONTEXT_SEEDS:,} "
         "resets", "exact binomial tail, five such contexts", f"{context:.1e}"),
        ("03.2", "epsilon-greedy frequencies within their tolerances", "normal approximation, every comparison",
         f"{lesson03.false_failure_bound():.1e}"),
    ]
    print("| check | judged | how measured | false-failure rate |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
