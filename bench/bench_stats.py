"""bench: statistics and number formatting for the tables."""

import statistics


# --------------------------------------------------------------------------- statistics and formatting

def med(xs):
    return statistics.median(xs) if xs else None


def ms(v, digits=None):
    if v is None:
        return "n/a"
    v *= 1000.0
    if digits is None:
        digits = 1 if v < 1000 else 0
    return f"{v:.{digits}f}"


def mb(kb):
    return "n/a" if kb is None else f"{kb / 1024.0:.1f}"


def spread(xs, fmt):
    if not xs:
        return "n/a"
    return f"{fmt(med(xs))} ({fmt(min(xs))}–{fmt(max(xs))})"


def cnt(v):
    return f"{v:g}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    if r is None:
        return "n/a"
    return f"{r:.3f}" if r < 10 else f"{r:.1f}"
