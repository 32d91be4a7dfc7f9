"""Round-robin timing: every candidate is timed once per round, so machine load hits all alike."""

import os
import statistics
import time


def load_average():
    """The 1/5/15-minute load averages (None where the platform has none)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def time_round_robin(fns, repeats, warmup=1):
    """Times zero-argument callables, interleaved.

    Args:
        fns: dict name -> callable; each call must block until its result is ready.
        repeats: timed rounds (each round calls every function once, in order).
        warmup: untimed calls per function first (compilation, allocator warm-up).

    Returns:
        dict name -> {"median_s", "min_s", "times_s", "first_call_s"}; `first_call_s` is the
        first warm-up call (compilation included).
    """
    first = {}
    for name, fn in fns.items():
        for i in range(warmup):
            start = time.perf_counter()
            fn()
            if i == 0:
                first[name] = time.perf_counter() - start
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {
        name: {
            "median_s": statistics.median(ts),
            "min_s": min(ts),
            "times_s": [round(t, 5) for t in ts],
            "first_call_s": round(first.get(name, float("nan")), 3),
        }
        for name, ts in times.items()
    }
