"""Axes for the page's SVG charts: finite arithmetic whatever the schema admits, ticks people can read."""

from __future__ import annotations

import math

from econbench.leaderboard.text import tidy_exp

# ----------------------------------------------------------------------------- chart


# The schema admits any finite number. The chart's arithmetic (spans, padding, ticks) stays finite for values
# within +-PLOT_LIMIT, so larger ones are drawn at that edge (their tooltips and table cells keep the true value),
# and spans below MIN_SPAN, which would underflow to a zero tick step, are widened.
PLOT_LIMIT = 1e300
MIN_SPAN = 1e-300


def clip(v: float) -> float:
    return max(-PLOT_LIMIT, min(PLOT_LIMIT, v))


def nice_ticks(lo: float, hi: float, n: int = 5) -> tuple[list[float], float]:
    raw = (hi - lo) / n
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if raw <= m * mag * (1 + 1e-12))
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return [k * step for k in range(first, last + 1)], step


def tick_label(v: float, step: float, biggest: float) -> str:
    if abs(v) < step * 1e-9:
        return "0"
    if biggest >= 1e6 or step < 1e-3:
        sig = max(1, min(15, math.floor(math.log10(biggest)) - math.floor(math.log10(step)) + 1))
        return tidy_exp(f"{v:.{sig - 1}e}")
    decimals = max(
        0, -math.floor(math.log10(step)) + (1 if round(step / 10.0 ** math.floor(math.log10(step)), 6) == 2.5 else 0)
    )
    return f"{v:,.{decimals}f}"


def padded(lo: float, hi: float) -> tuple[float, float]:
    if hi - lo > MIN_SPAN:
        pad = (hi - lo) * 0.06
        return lo - pad, hi + pad
    width = max(abs(lo), abs(hi)) * 0.05
    width = width if width > MIN_SPAN else 1.0
    return lo - width, hi + width


class Linear:
    def __init__(self, lo: float, hi: float, a: float, b: float) -> None:
        self.lo, self.hi, self.a, self.b = lo, hi, a, b

    def __call__(self, v: float) -> float:
        return self.a + (v - self.lo) / (self.hi - self.lo) * (self.b - self.a)

    def ticks(self) -> list[tuple[float, str]]:
        values, step = nice_ticks(self.lo, self.hi)
        biggest = max(abs(self.lo), abs(self.hi))
        return [(self(v), tick_label(v, step, biggest)) for v in values]


class Log:
    """Log10 axis over the positive values; values <= 0 sit on a separate "0" tick before an axis break."""

    ZERO_BAND = 34.0

    def __init__(self, positives: list[float], has_zero: bool, zero_label: str, a: float, b: float) -> None:
        logs = [math.log10(v) for v in positives]
        self.lo, self.hi = math.floor(min(logs)), math.ceil(max(logs))
        if self.hi == self.lo:
            self.hi += 1
        self.has_zero, self.zero_label = has_zero, zero_label
        self.zero_x = a
        self.a = a + (self.ZERO_BAND if has_zero else 0.0)
        self.b = b

    def __call__(self, v: float) -> float:
        if v <= 0:
            return self.zero_x
        return self.a + (math.log10(v) - self.lo) / (self.hi - self.lo) * (self.b - self.a)

    def ticks(self) -> list[tuple[float, str]]:
        span = self.hi - self.lo
        every = next(m for m in (1, 2, 3, 5, 10, 20, 25, 50, 100, 200, 250, 500) if span / m <= 7)
        out = [(self.zero_x, self.zero_label)] if self.has_zero else []
        for k in range(math.ceil(self.lo / every) * every, self.hi + 1, every):
            label = f"{10.0**k:g}" if -2 <= k <= 3 else f"1e{k}"
            out.append((self(10.0**k), label))
        return out
