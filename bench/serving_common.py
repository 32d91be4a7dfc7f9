"""Helpers shared by the benchmarks: CPU description, the code's commit, percentiles."""

import os
import platform
import subprocess

# The flags that decide which kernels run: vector width, bf16 / int8 dot products, AMX tiles.
RELEVANT_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16",
                  "avx512_fp16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8")


def commit_stamp(cwd=None):
    """The short commit of the code a benchmark ran, `+dirty` when tracked files differ from
    it (the numbers then belong to uncommitted code); None outside a git checkout."""
    cwd = cwd or os.path.dirname(os.path.abspath(__file__))
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=cwd,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = bool(subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ":/convbert_tf",
             ":/bench"], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")


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
