"""Exploration schedules: small callables mapping a step number to a value (lesson 03)."""
from __future__ import annotations

import numbers

from ._validate import positive_int, real


def _step(cls: str, step) -> int:
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
        raise ValueError(f"{cls}: the step must be a non-negative int, got {step!r}")
    return int(step)


class LinearSchedule:
    """Go linearly from ``start`` to ``end`` over ``duration`` steps, then stay at ``end``.

    Example:
        >>> eps = LinearSchedule(1.0, 0.05, duration=10_000)
        >>> eps(0), eps(5_000), eps(20_000)
        (1.0, 0.525, 0.05)
    """

    def __init__(self, start: float, end: float, duration: int):
        self.start = real("LinearSchedule", "start", start)
        self.end = real("LinearSchedule", "end", end)
        self.duration = positive_int("LinearSchedule", "duration", duration)

    def __call__(self, step: int) -> float:
        """Return the value at ``step`` (a non-negative int)."""
        fraction = min(_step("LinearSchedule", step) / self.duration, 1.0)
        return (1.0 - fraction) * self.start + fraction * self.end

    def __repr__(self) -> str:
        return f"LinearSchedule(start={self.start}, end={self.end}, duration={self.duration})"


class ExponentialSchedule:
    """Multiply by ``decay`` every step, starting at ``start``, never going below ``end``.

    The value at step ``t`` is ``max(end, start * decay**t)``.

    Example:
        >>> alpha = ExponentialSchedule(1.0, 0.1, decay=0.5)
        >>> alpha(0), alpha(1), alpha(2), alpha(10)
        (1.0, 0.5, 0.25, 0.1)
    """

    def __init__(self, start: float, end: float, decay: float):
        self.start = real("ExponentialSchedule", "start", start)
        self.end = real("ExponentialSchedule", "end", end)
        self.decay = real("ExponentialSchedule", "decay", decay)
        if not 0.0 < self.decay < 1.0:
            raise ValueError(
                f"ExponentialSchedule: decay must be between 0 and 1 (exclusive), got {decay!r}; "
                "e.g. 0.999 shrinks the value by 0.1% a step"
            )
        if self.end > self.start:
            raise ValueError(
                f"ExponentialSchedule: end ({end}) must not exceed start ({start}): it decays"
            )

    def __call__(self, step: int) -> float:
        """Return the value at ``step`` (a non-negative int)."""
        return max(self.end, self.start * self.decay ** _step("ExponentialSchedule", step))

    def __repr__(self) -> str:
        return f"ExponentialSchedule(start={self.start}, end={self.end}, decay={self.decay})"
