"""Small argument checks shared by the helpers; each error names the function."""
from __future__ import annotations

import numbers


def positive_int(func: str, name: str, value, *, allow_zero: bool = False) -> int:
    """Return ``value`` as an int, or raise ``ValueError``/``TypeError`` naming ``func``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{func}: {name} must be an int, got {type(value).__name__} {value!r}")
    low = 0 if allow_zero else 1
    if value < low:
        raise ValueError(f"{func}: {name} must be >= {low}, got {value}")
    return int(value)


def optional_seed(func: str, value) -> int | None:
    """Return a seed (a non-negative int or None), or raise naming ``func``."""
    if value is None:
        return None
    return positive_int(func, "seed", value, allow_zero=True)


def real(func: str, name: str, value) -> float:
    """Return ``value`` as a float, or raise ``TypeError`` naming ``func``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{func}: {name} must be a number, got {type(value).__name__} {value!r}")
    return float(value)
