"""Helpers shared by the serving benchmarks: CPU description and percentiles."""

import platform

# The flags that decide which kernels run: vector width, bf16 / int8 dot products, AMX tiles.
RELEVANT_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16",
                  "avx512_fp16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8")


def cpu_info(path="/proc/cpuinfo"):
    """`{"cpu_model", "cpu_flags" (the relevant ones present), "platform"}` of this machine."""
    model, flags = platform.processor() or "unknown", set()
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name") and model in ("unknown", "x86_64", ""):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return {"cpu_model": model, "cpu_flags": [f for f in RELEVANT_FLAGS if f in flags],
            "platform": platform.platform()}


def percentile(values, q):
    """The nearest-rank `q`-th percentile of `values` (p99 of 20 runs is the slowest run)."""
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]
