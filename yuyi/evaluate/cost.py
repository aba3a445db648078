"""Monthly cost of embedding the user's queries: a commercial API vs self-hosted CPU or GPU
instances sized from measured throughput. Every price is an assumption the user can change."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

HOURS_PER_MONTH = 730.0


@dataclass
class CostAssumptions:
    api_usd_per_m_tokens: float = 0.10
    cpu_usd_per_hour: float = 0.10
    gpu_usd_per_hour: float = 0.35
    gpu_speedup: float = 10.0  # used only when no GPU was there to measure
    peak_factor: float = 3.0
    ops_hours_per_month: float = 10.0
    ops_usd_per_hour: float = 100.0

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def ops_usd(self) -> float:
        return self.ops_hours_per_month * self.ops_usd_per_hour


@dataclass
class SelfHosted:
    instances: int
    usd_per_month: float
    capacity_per_instance: float  # queries per month one instance serves at the peak factor


def api_monthly(queries_per_month: float, tokens_per_query: float, a: CostAssumptions) -> float:
    return queries_per_month * tokens_per_query / 1e6 * a.api_usd_per_m_tokens


def self_hosted_monthly(queries_per_month: float, qps_per_instance: float, usd_per_hour: float,
                        a: CostAssumptions) -> SelfHosted:
    """Instances for the peak rate (average × peak factor), at least one, plus ops time."""
    if qps_per_instance <= 0:
        raise ValueError("qps_per_instance must be positive")
    capacity = qps_per_instance * HOURS_PER_MONTH * 3600 / a.peak_factor
    instances = max(1, math.ceil(queries_per_month / capacity))
    return SelfHosted(instances, instances * usd_per_hour * HOURS_PER_MONTH + a.ops_usd, capacity)


def break_even(tokens_per_query: float, qps_per_instance: float, usd_per_hour: float,
               a: CostAssumptions) -> float | None:
    """Smallest monthly query volume at which self-hosting is no dearer than the API, or None
    when the API stays cheaper at every volume (its price per query is below an instance's).

    With n instances (volume in ((n-1)C, nC]) self-hosting costs n·I + O and the API a·V, so
    the first n with (n·I + O)/a <= n·C gives V* = max((n·I + O)/a, (n-1)·C)."""
    per_query = tokens_per_query / 1e6 * a.api_usd_per_m_tokens
    capacity = qps_per_instance * HOURS_PER_MONTH * 3600 / a.peak_factor
    instance = usd_per_hour * HOURS_PER_MONTH
    margin = per_query * capacity - instance
    if per_query <= 0 or margin <= 0:
        return None
    n = max(1, math.ceil(a.ops_usd / margin - 1e-12))
    while (n * instance + a.ops_usd) / per_query > n * capacity:  # guard against rounding
        n += 1
    return max((n * instance + a.ops_usd) / per_query, (n - 1) * capacity)
