"""The one percentile every bench reports (nearest rank)."""
from __future__ import annotations


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0 ≤ q ≤ 1) of `values`, by nearest rank."""
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]
