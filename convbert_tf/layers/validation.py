"""Argument checks shared by the layers: each error names the argument and the bad value."""

import math


def check_positive(**values):
    """Raises `ValueError` unless every keyword value is a positive integer."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"`{name}` must be a positive integer; got {name}={value!r}.")


def check_positive_number(name, value):
    """Raises `ValueError` unless `value` is a positive finite int or float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not (value > 0 and math.isfinite(value)):
        raise ValueError(f"`{name}` must be a positive number; got {name}={value!r}.")


def check_divisible(name, value, divisor_name, divisor):
    """Raises `ValueError` unless `value` is divisible by `divisor`."""
    if value % divisor:
        raise ValueError(
            f"`{name}` must be divisible by `{divisor_name}`; got {name}={value}, "
            f"{divisor_name}={divisor}."
        )


def check_rate(name, value):
    """Raises `ValueError` unless `value` is a probability in [0, 1)."""
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1); got {name}={value!r}.")


def check_odd(name, value):
    """Raises `ValueError` unless `value` is a positive odd integer ('same' padding needs it)."""
    check_positive(**{name: value})
    if value % 2 == 0:
        raise ValueError(
            f"`{name}` must be odd so that 'same' padding is symmetric; got {name}={value}."
        )
